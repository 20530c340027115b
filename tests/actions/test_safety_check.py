"""Unclear messages that might need a safe path get a yes/no check, not a guess."""

from __future__ import annotations

from typing import Any

import pytest

from actions.finances import ActionPresentOffers
from actions.respond import ActionRespond
from actions.safety_check import ValidateSafetyCheckForm, answer_to_check, candidate_to_check
from tests.actions.conftest import (
    account_state,
    make_tracker,
    run_action,
    slot_event,
    slots_set,
    user_event,
)

pytestmark = pytest.mark.asyncio

VERIFIED = {"account_ref": "ACC-1", "verified": True}


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


def test_a_crisis_needs_more_confidence_than_the_others_before_it_is_asked_about() -> None:
    # Everyday answers in the budget questions fell back with a crisis at 0.12 to 0.18;
    # crises that fell back had it at 0.28 or more (actions/safety_check.py).
    low_mood = unclear(
        "i said whats my options", ("ask_help", 0.3), ("express_vulnerability", 0.13)
    )
    assert candidate_to_check(low_mood["parse_data"]) is None
    crisis = unclear(
        "can only text when hes asleep", ("request_later", 0.32), ("express_vulnerability", 0.31)
    )
    assert candidate_to_check(crisis["parse_data"]) == "express_vulnerability"
    # The other three keep the low floor: "who's gary?" fell back with wrong_person at 0.12.
    name = unclear("who's gary?", ("greet", 0.36), ("out_of_scope", 0.3), ("wrong_person", 0.12))
    assert candidate_to_check(name["parse_data"]) == "wrong_person"
    # A crisis under its floor does not hide a safety intent further down.
    both = unclear("hm", ("express_vulnerability", 0.15), ("request_stop_contact", 0.12))
    assert candidate_to_check(both["parse_data"]) == "request_stop_contact"


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


async def test_an_unclear_possible_stop_starts_the_check_form(
    accounts: str, domain: dict[str, Any]
) -> None:
    first = make_tracker(
        slots={"account_ref": "ACC-1", "safety_answer": "no"},
        events=[unclear("im so done w these texts man", ("request_stop_contact", 0.35))],
    )
    events, messages = await run_action(ActionRespond(), first, domain)
    # safety_check_form asks (utter_ask_safety_answer, worded for the candidate)
    assert messages == []
    slots = slots_set(events)
    assert slots["safety_check"] == "request_stop_contact"
    assert slots["safety_answer"] is None  # a stale answer would complete the form at once
    assert slots["next_step"] == "safety_check"
    assert "opted_out" not in account_state()["flags"]


async def answer(checked: str, text: str, intent: str, domain: dict[str, Any]) -> Any:
    tracker = make_tracker(
        slots={
            "account_ref": "ACC-1",
            "safety_check": checked,
            "safety_answer": text,
            "requested_slot": "safety_answer",
        },
        events=[user_event(text, intent), slot_event("safety_answer", text)],
        active_loop="safety_check_form",
    )
    events, _ = await run_action(ValidateSafetyCheckForm(), tracker, domain)
    return slots_set(events)["safety_answer"]


@pytest.mark.parametrize(
    ("checked", "text", "intent", "path"),
    [
        # an unclear answer to a possible stop request is a stop
        ("request_stop_contact", "ugh whatever", "out_of_scope", "request_stop_contact"),
        ("request_stop_contact", "no its fine", "deny", "no"),
        ("wrong_person", "no its me", "deny", "no"),
        ("dispute_debt", "yes", "affirm", "dispute_debt"),
        ("wrong_person", "yep", "affirm", "wrong_person"),
        # an answer that states another safe path takes it
        ("wrong_person", "my husband passed away last month", "express_vulnerability",
         "express_vulnerability"),
        # anything else: the conversation goes on
        ("dispute_debt", "what time is it", "out_of_scope", "no"),
    ],
)  # fmt: skip
async def test_the_form_turns_any_reply_into_a_path(
    checked: str, text: str, intent: str, path: str, accounts: str, domain: dict[str, Any]
) -> None:
    assert await answer(checked, text, intent, domain) == path
    assert account_state()["flags"] == []  # the rules take the path, the form records nothing


async def offers_on_table(domain: dict[str, Any]) -> list[dict[str, Any]]:
    events, _ = await run_action(
        ActionPresentOffers(),
        make_tracker(
            slots={**VERIFIED, "monthly_income": "6000.00", "monthly_expenses": "1600.00"}
        ),
        domain,
    )
    return list(slots_set(events)["offers"])


@pytest.mark.parametrize(
    ("candidate", "checked"),
    [
        # a message that names an option picks it, though a crisis was the NLU's best guess
        ("express_vulnerability", False),
        # a possible stop request is checked first, whatever else the message says
        ("request_stop_contact", True),
    ],
)
async def test_with_options_on_the_table_a_named_option_is_picked_before_a_check(
    candidate: str, checked: bool, accounts: str, domain: dict[str, Any]
) -> None:
    offers = await offers_on_table(domain)
    text = "id rather just get it done in a single go and be finished with it"
    tracker = make_tracker(
        slots={**VERIFIED, "monthly_income": "6000.00", "monthly_expenses": "1600.00",
               "offers": offers},
        events=[unclear(text, (candidate, 0.32), ("explain_hardship", 0.15))],
    )  # fmt: skip
    events, _ = await run_action(ActionRespond(), tracker, domain)
    slots = slots_set(events)
    if checked:
        assert slots["next_step"] == "safety_check" and "proposal" not in slots
    else:
        single = next(o for o in offers if o["installment_count"] == 1)
        assert slots["proposal"] == single and slots.get("safety_check") is None
