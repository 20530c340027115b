"""Runs after every debtor message: card-number warning and de-escalation.

Rasa calls `action_validate_slot_mappings` right after extracting slots from each
message, before the policies pick a reply, so what it says comes first.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import ValidationAction

from bot.nlu.card_redactor import CARD_NUMBER_REDACTED

# Consecutive angry messages before the bot stops, de-escalates and offers a person.
ANGRY_TURNS_TO_DEESCALATE = 2


def emotion_of(event: dict[str, Any]) -> str | None:
    parse = event.get("parse_data") or {}
    emotion = parse.get("emotion") or {}
    return emotion.get("name") if isinstance(emotion, dict) else None


def angry_streak(events: list[dict[str, Any]]) -> int:
    """How many of the latest debtor messages in a row read as angry."""
    streak = 0
    for event in reversed(events):
        if event.get("event") == "session_started":
            break
        if event.get("event") != "user":
            continue
        if emotion_of(event) != "angry":
            break
        streak += 1
    return streak


def card_number_sent(tracker: Tracker) -> bool:
    latest = tracker.latest_message or {}
    metadata = latest.get("metadata") or {}
    return bool(latest.get(CARD_NUMBER_REDACTED) or metadata.get(CARD_NUMBER_REDACTED))


class ValidateSlotMappings(ValidationAction):
    def name(self) -> str:
        return "action_validate_slot_mappings"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        events = list(await super().run(dispatcher, tracker, domain))
        if card_number_sent(tracker):
            dispatcher.utter_message(response="utter_card_warning")
        streak = angry_streak(tracker.events)
        if streak == ANGRY_TURNS_TO_DEESCALATE or (
            streak > ANGRY_TURNS_TO_DEESCALATE and streak % ANGRY_TURNS_TO_DEESCALATE == 0
        ):
            dispatcher.utter_message(response="utter_deescalate")
        events.append(SlotSet("angry_streak", float(streak)))
        return events
