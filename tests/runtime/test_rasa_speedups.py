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
