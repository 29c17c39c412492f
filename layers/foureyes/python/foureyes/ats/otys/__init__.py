"""Otys (OWS): `adapter.py` is everything Foureyes knows about it, `client.py` the JSON-RPC transport."""
