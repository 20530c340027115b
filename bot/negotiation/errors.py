"""Errors raised by the negotiation engine."""

from __future__ import annotations


class NegotiationError(ValueError):
    """The engine was given input it cannot negotiate on; the message says what to fix."""
