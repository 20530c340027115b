"""Parley: an open-source debt-resolution assistant built on Rasa."""

__version__ = "0.1.0"
