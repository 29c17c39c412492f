"""Foureyes domain package: pure rules plus the stores and clients they are handed.

Shipped as a Lambda layer (on /opt/python in Lambda). It never imports a handler and never
knows whether it runs in AWS or in the local cloud: endpoints come from the environment.
"""
