"""The Foureyes local cloud: the whole SAM application on one machine (moto, no Docker, no account).

A development and test tool: it lives outside the Lambda layer and never ships to AWS.
"""
