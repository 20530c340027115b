"""Runs after every debtor message: card-number warning and de-escalation.

Rasa calls `action_validate_slot_mappings` right after extracting slots from each
message, before the policies pick a reply, so what it says comes first. The decision is
bot.dialogue.every_turn's; the Rasa server skips this call on the turns where that
decision says nothing (bot/runtime/slot_validation.py), so what this action does beyond
it must stay what rasa_sdk's ValidationAction does: no `validate_<slot>` or
`extract_<slot>` methods here without teaching the Rasa server (tests/actions check).
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import ValidationAction

from bot.dialogue.every_turn import every_turn


class ValidateSlotMappings(ValidationAction):
    def name(self) -> str:
        return "action_validate_slot_mappings"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        events = list(await super().run(dispatcher, tracker, domain))
        outcome = every_turn(tracker.latest_message, reversed(tracker.events))
        for response in outcome.responses:
            dispatcher.utter_message(response=response)
        events.append(SlotSet("angry_streak", float(outcome.angry_streak)))
        return events
