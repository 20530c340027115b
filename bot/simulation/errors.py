"""Errors raised by the outcome simulator."""

from __future__ import annotations


class SimulationError(ValueError):
    """The simulator was given input it cannot use; the message says what to fix."""


class AssumptionsError(SimulationError):
    """A population assumptions file or value is invalid; the message names the field."""


class BotRunError(SimulationError):
    """The through-the-bot run could not start or talk to the bot; the message says why."""
