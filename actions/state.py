"""The state rules and stories branch on, derived from the conversation after each step.

`identity` (unknown / unverified / verified / locked) and `stage` (open / budget /
options / proposal / agreed / paused) are featurized slots (domain.yml): actions set them,
never the NLU, so `condition:` in a rule reads what the business state is, not what the
debtor's words looked like.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet

from actions.common import AccountView, tracker_account

STAGES = ("open", "budget", "options", "proposal", "agreed", "paused")


def stage_of(slots: Mapping[str, Any], account: AccountView | None) -> str | None:
    """Where a verified conversation stands; None before the identity check."""
    if account is None or not slots.get("verified"):
        return None
    if account.paused:
        return "paused"  # a dispute, "already paid", a hand-off: no plan is pushed
    if slots.get("proposal"):
        return "proposal"  # exact terms stated, waiting for a plain yes
    if slots.get("offers"):
        return "options"  # numbered options on the table
    if slots.get("agreement_ref"):
        return "agreed"
    if slots.get("monthly_income") is not None and slots.get("monthly_expenses") is not None:
        return "budget"
    return "open"  # verified, listening: the budget comes next


def with_stage(tracker: Tracker, events: list[EventType]) -> list[EventType]:
    """The step's events, then the stage they lead to (read after the step, so a dispute
    just recorded already counts)."""
    slots: dict[str, Any] = dict(tracker.slots)
    for event in events:
        if isinstance(event, dict) and event.get("event") == "slot":
            slots[str(event["name"])] = event.get("value")
    stage = stage_of(slots, tracker_account(tracker))
    return [*events, SlotSet("stage", stage)]
