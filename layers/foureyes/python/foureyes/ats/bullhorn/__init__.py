"""Bullhorn: `adapter.py` is everything Foureyes knows about it, `client.py` the REST transport."""
