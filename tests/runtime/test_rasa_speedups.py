"""The Rasa launcher's speed-ups change how often work is done, never the outcome."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction

from bench.legacy import validate_action_result_every_time
from bot.runtime import rasa_speedups

VALID = [
    {"events": [], "responses": []},
    {
        "events": [
            {"event": "slot", "name": "verified", "value": True, "timestamp": None},
            {"event": "active_loop", "name": None},
            {"event": "followup", "name": "action_present_offers"},
        ],
        "responses": [{"response": "utter_greet", "text": None}],
    },
    {},
]
INVALID = [
    {"events": [{"event": "no_such_event"}]},
    {"events": "not a list"},
    {"responses": [42]},
    {"events": [{"event": "slot"}]},
]


def _error(check: Any, result: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as caught:
        check(RemoteAction("x", None), result)
    return caught.value.message


@pytest.mark.parametrize("result", VALID)
def test_valid_action_responses_pass_as_before(result: dict[str, Any]) -> None:
    action = RemoteAction("x", None)
    assert rasa_speedups.validate_action_result(action, result) is True
    assert validate_action_result_every_time(action, result) is True


@pytest.mark.parametrize("result", INVALID)
def test_invalid_action_responses_fail_with_the_same_message(result: dict[str, Any]) -> None:
    mine = _error(rasa_speedups.validate_action_result, result)
    rasas = _error(validate_action_result_every_time, result)
    assert mine == rasas
    assert "Failed to validate Action server response" in mine


def test_apply_replaces_rasas_check_once_and_builds_the_validator_up_front() -> None:
    original = RemoteAction._validate_action_result
    try:
        rasa_speedups._applied = False
        rasa_speedups.apply()
        rasa_speedups.apply()
        assert RemoteAction._validate_action_result is rasa_speedups.validate_action_result
        assert rasa_speedups.action_response_validator.cache_info().currsize == 1
        with pytest.raises(ValidationError):
            RemoteAction("x", None)._validate_action_result({"events": 1})
    finally:
        RemoteAction._validate_action_result = original  # type: ignore[method-assign]
        rasa_speedups._applied = False


MORE_INVALID = [
    {"events": [{"event": "user", "text": 42}]},
    {"events": [{"event": "slot", "name": "x", "value": 1, "timestamp": "soon"}]},
    {"events": [{"name": "x"}]},
    {"events": [{"event": 7}]},
    {"events": None},
    {"events": [], "responses": "hi"},
    [],
]


@pytest.mark.parametrize("result", VALID + INVALID + MORE_INVALID)
def test_the_quick_check_never_passes_what_the_full_check_fails(result: Any) -> None:
    full = rasa_speedups.action_response_validator().is_valid(result)
    assert rasa_speedups.quickly_valid(result) == full


@pytest.mark.parametrize("result", MORE_INVALID)
def test_more_invalid_responses_fail_with_the_same_message(result: Any) -> None:
    assert _error(rasa_speedups.validate_action_result, result) == _error(
        validate_action_result_every_time, result
    )


def test_event_classes_are_resolved_by_name_as_rasa_does() -> None:
    from rasa.shared.core.events import ActionExecuted, Event, SlotSet, UserUttered

    original = Event.__dict__["resolve_by_type"]
    try:
        rasa_speedups._applied = False
        rasa_speedups.apply()
        for name, cls in (("slot", SlotSet), ("user", UserUttered), ("action", ActionExecuted)):
            assert Event.resolve_by_type(name) is cls
            assert Event.resolve_by_type(name) is cls  # the second time from the cache
        assert Event.resolve_by_type("topic") is None
        assert Event.resolve_by_type("nope", default=SlotSet) is SlotSet
        with pytest.raises(ValueError, match="Unknown event name"):
            Event.resolve_by_type("nope")
        event = Event.from_parameters({"event": "slot", "name": "verified", "value": True})
        assert event == SlotSet("verified", True)
    finally:
        Event.resolve_by_type = original
        rasa_speedups._applied = False
