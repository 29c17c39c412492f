"""The web room: one page shell and one set of security headers for every HTML page (`shell`), one mapping
from errors to HTTP answers (`responses`), and the resolvers every API handler is built on (`http`)."""
