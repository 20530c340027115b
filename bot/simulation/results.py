"""What one negotiation with one debtor ended in."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from bot.negotiation import Option, Policy
from bot.simulation.population import Debtor


class Status(str, Enum):
    """How a negotiation ended."""

    # A stored agreement: in full, a settlement, installments, or a pause then a plan.
    AGREED = "agreed"
    # A pause whose payments a person agrees later (counted apart from agreements).
    DEFERRED_FOR_REVIEW = "deferred_for_review"
    # Handed to a person without an agreement.
    ESCALATED = "escalated"
    REFUSED = "refused"
    # Never replied.
    SILENT = "silent"
    # Through the bot only: the conversation went round in circles or ran out of turns.
    STUCK = "stuck"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Negotiated:
    """The end of one negotiation: ``option`` is the agreement (or the review pause).

    ``debtor_lump_sum`` marks a single payment the debtor offered themselves (the whole
    balance, or a settlement out of their savings): the affordability rule is about what the
    creditor asks for, so such a payment is not checked against it.
    """

    debtor_index: int
    status: Status
    option: Option | None = None
    debtor_lump_sum: bool = False
    note: str = ""


class Strategy(Protocol):
    """A way of negotiating: Parley's engine, or one of the baselines."""

    def __call__(self, debtor: Debtor, policy: Policy, today: datetime.date) -> Negotiated: ...


def refuse_or_person(debtor: Debtor, note: str) -> Negotiated:
    """A debtor who will not take what is on the table says no, or asks for a person."""
    if debtor.asks_for_person:
        return Negotiated(debtor.index, Status.ESCALATED, note=note)
    return Negotiated(debtor.index, Status.REFUSED, note=note)
