"""`action_validate_slot_mappings` answered in the Rasa server on the turns where the
action server could only echo: one action server round trip fewer on most turns.

After every message Rasa's ActionExtractSlots copies the tracker (replaying every event),
serialises it whole with the domain, and posts it to the action server for
`action_validate_slot_mappings` (actions/every_turn.py). That action is rasa_sdk's
ValidationAction (it hands back the extracted slots that have no form condition, and has
no `validate_`/`extract_` methods of its own) plus bot.dialogue.every_turn: a card-number
warning, a de-escalation, and the `angry_streak` slot. When every_turn says nothing, the
answer is known without asking: the same events, in the same order, with the values
after the same JSON round trip, combined with the extraction events as Rasa combines
them. When it says something (a card number, a streak to de-escalate) the action server
is asked as before, and it decides and speaks.

Installed only when `actions.every_turn.ValidateSlotMappings` is importable and still
adds nothing to ValidationAction but its `run` (no validate/extract methods, nothing
else overridden); tests/runtime/test_slot_validation.py compares both ways on many turns.
One difference, on purpose: while the action server is down a quiet turn still sets
`angry_streak` (Rasa would log the failed call and drop the action's events).
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Iterator, Mapping
from typing import Any

from bot.dialogue.every_turn import every_turn

logger = logging.getLogger(__name__)

ANGRY_STREAK_SLOT = "angry_streak"
# What rasa_sdk's ValidationAction may do that the shortcut would not: a subclass method
# by one of these names (or with these prefixes) means the action server must be asked.
_VALIDATION_ACTION_HOOKS = (
    "required_slots",
    "domain_slots",
    "global_slots",
    "get_extraction_events",
    "get_validation_events",
    "_extract_validation_events",
    "_extract_slot",
)
_METHOD_PREFIXES = ("validate_", "extract_")


def shortcut_is_exact(action_class: type) -> bool:
    """Whether `action_class` (the action server's action_validate_slot_mappings) adds
    nothing to rasa_sdk's ValidationAction but its own `run`."""
    from rasa_sdk.forms import ValidationAction

    if not issubclass(action_class, ValidationAction):
        return False
    for name in dir(action_class):
        if name.startswith(_METHOD_PREFIXES):
            return False
    return all(
        getattr(action_class, name) is getattr(ValidationAction, name)
        for name in _VALIDATION_ACTION_HOOKS
    )


def _is_mapped_to_form(slot: Mapping[str, Any]) -> bool:
    """rasa_sdk's ValidationAction._is_mapped_to_form, on the domain as it is sent."""
    for mapping in slot.get("mappings") or ():
        for condition in mapping.get("conditions", []):
            if condition.get("active_loop"):
                return True
    return False


def global_slots(domain: Any) -> set[str]:
    """The slots ValidationAction hands back: those without a form-conditioned mapping."""
    slots: Mapping[str, Any] = domain.as_dict().get("slots", {})
    return {name for name, slot in slots.items() if not _is_mapped_to_form(slot)}


def _as_sent(value: Any) -> Any:
    """A slot value as it comes back from the action server (JSON there and back)."""
    return json.loads(json.dumps(value))


def _as_dicts_newest_first(events: list[Any]) -> Iterator[dict[str, Any]]:
    """The fields of each event that bot.dialogue.every_turn reads, newest first."""
    from rasa.shared.core.events import UserUttered

    for event in reversed(events):
        parse_data = event.parse_data if isinstance(event, UserUttered) else None
        yield {"event": event.type_name, "parse_data": parse_data}


def quiet_validation_events(tracker: Any, slot_events: list[Any], domain: Any) -> list[Any] | None:
    """What ActionExtractSlots' validation step returns when the action would say
    nothing: its events combined with `slot_events` as Rasa combines them. None when
    the action would say something (then it must run)."""
    from rasa.shared.core.events import SlotSet, UserUttered

    # The tracker the action server would get (ActionExtractSlots builds it so).
    events = [*tracker.events_after_latest_restart(), *slot_events]
    latest = next((e for e in reversed(events) if isinstance(e, UserUttered)), None)
    outcome = every_turn(
        latest.parse_data if latest is not None else None, _as_dicts_newest_first(events)
    )
    if outcome.responses:
        return None
    # rasa_sdk's Tracker.slots_to_validate: the run of slot events at the end, in order
    # (a slot set twice keeps its last value, in its first place).
    trailing = 0
    for event in reversed(events):
        if not isinstance(event, SlotSet):
            break
        trailing += 1
    candidates: dict[str, Any] = {}
    for event in events[len(events) - trailing :]:
        candidates[event.key] = _as_sent(event.value)
    handed_back = global_slots(domain)
    validated = [SlotSet(name, value) for name, value in candidates.items() if name in handed_back]
    validated.append(SlotSet(ANGRY_STREAK_SLOT, float(outcome.angry_streak)))
    names = {event.key for event in validated}
    # ActionExtractSlots._execute_validation_action: a candidate the action did not
    # answer for stands as extracted.
    return [*validated, *(event for event in slot_events if event.key not in names)]


def _execute_validation_action(original: Any) -> Any:
    @functools.wraps(original)
    async def execute(
        self: Any,
        extraction_events: list[Any],
        output_channel: Any,
        nlg: Any,
        tracker: Any,
        domain: Any,
    ) -> list[Any]:
        from rasa.shared.core.constants import ACTION_VALIDATE_SLOT_MAPPINGS
        from rasa.shared.core.events import SlotSet

        if self._action_endpoint is not None and ACTION_VALIDATE_SLOT_MAPPINGS in (
            domain.user_actions
        ):
            slot_events = [e for e in extraction_events if isinstance(e, SlotSet)]
            quiet = quiet_validation_events(tracker, slot_events, domain)
            if quiet is not None:
                return quiet
        return await original(self, extraction_events, output_channel, nlg, tracker, domain)

    execute._parley_speedup = True  # type: ignore[attr-defined]
    return execute


def apply() -> bool:
    """Install the shortcut when it is exact for this project's action (idempotent);
    whether it is installed."""
    from rasa.core.actions.action import ActionExtractSlots

    if getattr(ActionExtractSlots._execute_validation_action, "_parley_speedup", False):
        return True
    try:
        from actions.every_turn import ValidateSlotMappings
    except ImportError as exc:
        logger.info("action_validate_slot_mappings is always asked (%s)", exc)
        return False
    if not shortcut_is_exact(ValidateSlotMappings):
        logger.info("action_validate_slot_mappings is always asked: it validates or extracts slots")
        return False
    ActionExtractSlots._execute_validation_action = _execute_validation_action(  # type: ignore[method-assign]
        ActionExtractSlots._execute_validation_action
    )
    return True
