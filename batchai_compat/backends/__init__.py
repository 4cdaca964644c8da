"""Backends: the engines behind the client. See ``base.py`` for the interface."""
