"""Unclear messages that might need a safe path get a yes/no check, not a guess."""

from __future__ import annotations

from typing import Any

import pytest

from actions.respond import ActionRespond
from actions.safety_check import answer_to_check, candidate_to_check
from tests.actions.conftest import (
    account_state,
    make_tracker,
    responses,
    run_action,
    slots_set,
    user_event,
)

pytestmark = pytest.mark.asyncio


def unclear(text: str, *ranking: tuple[str, float]) -> dict[str, Any]:
    event = user_event(text, "nlu_fallback")
    event["parse_data"]["intent_ranking"] = [
        {"name": "nlu_fallback", "confidence": 0.5},
        *({"name": n, "confidence": c} for n, c in ranking),
    ]
    return event


def test_only_the_four_safety_intents_are_checked() -> None:
    parse = unclear(
        "im so done w these texts", ("out_of_scope", 0.4), ("request_stop_contact", 0.3)
    )
    assert candidate_to_check(parse["parse_data"]) == "request_stop_contact"
    other = unclear("hmm", ("out_of_scope", 0.4), ("greet", 0.3), ("thank", 0.2))
    assert candidate_to_check(other["parse_data"]) is None
    far = unclear("x", ("a", 0.4), ("b", 0.3), ("c", 0.2), ("wrong_person", 0.1))
    assert candidate_to_check(far["parse_data"]) is None  # not among the top three
    confident = user_event("stop messaging me", "request_stop_contact")
    assert candidate_to_check(confident["parse_data"]) is None


@pytest.mark.parametrize(
    ("checked", "intent", "text", "answer"),
    [
        ("request_stop_contact", "affirm", "yes", "yes"),
        ("request_stop_contact", "deny", "no", "no"),
        ("request_stop_contact", "out_of_scope", "idk man whatever", "yes"),
        ("wrong_person", "out_of_scope", "idk man whatever", "unclear"),
        ("dispute_debt", "nlu_fallback", "nope", "no"),
        ("express_vulnerability", "affirm", "yeah", "yes"),
    ],
)
def test_answers_to_a_check(checked: str, intent: str, text: str, answer: str) -> None:
    assert answer_to_check(checked, intent, text) == answer


async def test_an_unclear_possible_stop_is_checked_and_an_unclear_answer_stops(
    accounts: str, domain: dict[str, Any]
) -> None:
    first = make_tracker(
        slots={"account_ref": "ACC-1"},
        events=[unclear("im so done w these texts man", ("request_stop_contact", 0.35))],
    )
    events, messages = await run_action(ActionRespond(), first, domain)
    assert responses(messages) == ["utter_check_request_stop_contact"]
    assert slots_set(events)["safety_check"] == "request_stop_contact"
    assert "opted_out" not in account_state()["flags"]
    second = make_tracker(
        slots={"account_ref": "ACC-1", "safety_check": "request_stop_contact"},
        events=[user_event("ugh whatever", "out_of_scope")],
    )
    events, messages = await run_action(ActionRespond(), second, domain)
    assert slots_set(events)["safety_check"] is None
    assert responses(messages) == ["utter_opted_out"]
    assert "opted_out" in account_state()["flags"]


async def test_a_no_goes_on_without_a_flag(accounts: str, domain: dict[str, Any]) -> None:
    tracker = make_tracker(
        slots={"account_ref": "ACC-1", "safety_check": "wrong_person"},
        events=[user_event("no its me", "deny")],
    )
    events, messages = await run_action(ActionRespond(), tracker, domain)
    assert responses(messages)[0] == "utter_check_declined"
    assert slots_set(events)["next_step"] == "verify"  # not verified yet: identity next
    assert account_state()["flags"] == []


async def test_a_yes_takes_the_safe_path(accounts: str, domain: dict[str, Any]) -> None:
    tracker = make_tracker(
        slots={"account_ref": "ACC-1", "safety_check": "dispute_debt"},
        events=[user_event("yes", "affirm")],
    )
    _, messages = await run_action(ActionRespond(), tracker, domain)
    assert responses(messages) == ["utter_dispute_recorded"]
    assert "disputed" in account_state()["flags"]
