"""What is said after every debtor message, whatever the dialogue: the card-number
warning and the de-escalation after repeated anger.

One decision for the two places that need it: the action that says it
(`action_validate_slot_mappings`, actions/every_turn.py) and the Rasa server, which skips
that action server call on the turns where this says nothing
(bot/runtime/slot_validation.py). Both read the conversation in the shape the action
server sees it: events and the latest message as Rasa serialises them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.nlu.card_redactor import CARD_NUMBER_REDACTED

# Consecutive angry messages before the bot stops, de-escalates and offers a person.
ANGRY_TURNS_TO_DEESCALATE = 2
CARD_WARNING = "utter_card_warning"
DEESCALATE = "utter_deescalate"


@dataclass(frozen=True)
class EveryTurn:
    """The responses to say first (in order), and the `angry_streak` slot's new value."""

    responses: tuple[str, ...]
    angry_streak: int


def emotion_of(event: Mapping[str, Any]) -> str | None:
    parse = event.get("parse_data") or {}
    emotion = parse.get("emotion") or {}
    return emotion.get("name") if isinstance(emotion, dict) else None


def angry_streak(events_newest_first: Iterable[Mapping[str, Any]]) -> int:
    """How many of the latest debtor messages in a row read as angry (in this session)."""
    streak = 0
    for event in events_newest_first:
        if event.get("event") == "session_started":
            break
        if event.get("event") != "user":
            continue
        if emotion_of(event) != "angry":
            break
        streak += 1
    return streak


def card_number_sent(latest_message: Mapping[str, Any] | None) -> bool:
    """Whether the latest message had a card number masked (by the NLU or the channel)."""
    latest = latest_message or {}
    metadata = latest.get("metadata") or {}
    return bool(latest.get(CARD_NUMBER_REDACTED) or metadata.get(CARD_NUMBER_REDACTED))


def every_turn(
    latest_message: Mapping[str, Any] | None, events_newest_first: Iterable[Mapping[str, Any]]
) -> EveryTurn:
    """What to say after this message, and the angry streak it leaves."""
    responses: list[str] = []
    if card_number_sent(latest_message):
        responses.append(CARD_WARNING)
    streak = angry_streak(events_newest_first)
    if streak >= ANGRY_TURNS_TO_DEESCALATE and streak % ANGRY_TURNS_TO_DEESCALATE == 0:
        responses.append(DEESCALATE)
    return EveryTurn(tuple(responses), streak)
