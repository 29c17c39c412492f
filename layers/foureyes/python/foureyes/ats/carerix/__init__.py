"""Carerix: `adapter.py` is everything Foureyes knows about it, `client.py` the SOAP transport and its walk."""
