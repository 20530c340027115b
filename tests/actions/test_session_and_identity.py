"""Session start, identity verification and what may be said before it."""

from __future__ import annotations

from typing import Any

import pytest

from actions.respond import ActionRespond
from actions.session import ActionSessionStart
from actions.verification import ActionAfterVerification, ValidateVerifyIdentityForm
from tests.actions.conftest import (
    MARIA_PHONE,
    account_state,
    make_tracker,
    responses,
    run_action,
    slot_event,
    slots_set,
    user_event,
)

pytestmark = pytest.mark.asyncio


@pytest.mark.parametrize("sender", [MARIA_PHONE, f"whatsapp:{MARIA_PHONE}"])
async def test_session_start_finds_the_account_by_phone(
    sender: str, accounts: str, domain: dict[str, Any]
) -> None:
    events, messages = await run_action(
        ActionSessionStart(), make_tracker(sender_id=sender), domain
    )
    slots = slots_set(events)
    assert events[0]["event"] == "session_started"
    assert slots["account_known"] is True and slots["account_ref"] == "ACC-1"
    assert slots["first_name"] == "Maria" and slots["verified"] is False
    assert events[-1] == {**events[-1], "event": "action", "name": "action_listen"}
    assert messages == []


async def test_unknown_number_gets_no_debt_details(accounts: str, domain: dict[str, Any]) -> None:
    sender = "+14155550000"
    events, _ = await run_action(ActionSessionStart(), make_tracker(sender_id=sender), domain)
    assert slots_set(events)["account_known"] is False
    tracker = make_tracker(
        sender_id=sender, events=[user_event("how much do i owe", "ask_debt_details")]
    )
    events, messages = await run_action(ActionRespond(), tracker, domain)
    assert responses(messages) == ["utter_unknown_number"]
    assert all("1200" not in str(m) and "Northwind" not in str(m) for m in messages)
    assert slots_set(events)["next_step"] == "listen"


@pytest.mark.parametrize(
    ("intent", "text"),
    [
        ("ask_debt_details", "what is this about"),
        ("offer_payment", "i can pay 50 a month"),
        ("ask_consequences", "what happens if i dont pay"),
        ("greet", "hi"),
    ],
)
async def test_nothing_is_disclosed_before_verification(
    intent: str, text: str, accounts: str, domain: dict[str, Any]
) -> None:
    tracker = make_tracker(slots={"account_ref": "ACC-1"}, events=[user_event(text, intent)])
    events, messages = await run_action(ActionRespond(), tracker, domain)
    assert slots_set(events)["next_step"] == "verify"
    for message in messages:
        assert message.get("response") in {"utter_verify_first", "utter_greet_unverified"}
        assert "balance" not in (message.get("text") or "")


async def test_legitimacy_before_verification_does_not_name_the_creditor(
    accounts: str, domain: dict[str, Any]
) -> None:
    tracker = make_tracker(
        slots={"account_ref": "ACC-1"}, events=[user_event("is this a scam", "question_legitimacy")]
    )
    _, messages = await run_action(ActionRespond(), tracker, domain)
    assert messages[0]["response"] == "utter_legitimacy"
    assert messages[0]["creditor"] == "us"


def dob_tracker(answer: str, attempts: int = 0):  # type: ignore[no-untyped-def]
    return make_tracker(
        slots={
            "account_ref": "ACC-1",
            "dob_answer": answer,
            "verification_attempts": float(attempts),
            "requested_slot": "dob_answer",
        },
        events=[user_event(answer, "inform"), slot_event("dob_answer", answer)],
        active_loop="verify_identity_form",
    )


@pytest.mark.parametrize(
    "answer", ["march 14 1985", "03/14/1985", "14th of March 1985", "1985-03-14"]
)
async def test_correct_date_of_birth_verifies(
    answer: str, accounts: str, domain: dict[str, Any]
) -> None:
    events, messages = await run_action(ValidateVerifyIdentityForm(), dob_tracker(answer), domain)
    slots = slots_set(events)
    assert slots["dob_answer"] == "verified" and slots["verified"] is True
    assert messages == []


async def test_wrong_date_counts_an_attempt_and_asks_again(
    accounts: str, domain: dict[str, Any]
) -> None:
    events, messages = await run_action(
        ValidateVerifyIdentityForm(), dob_tracker("march 15 1985"), domain
    )
    slots = slots_set(events)
    assert slots["dob_answer"] is None and slots["verification_attempts"] == 1.0
    assert responses(messages) == ["utter_dob_mismatch"]


async def test_unreadable_date_is_not_an_attempt(accounts: str, domain: dict[str, Any]) -> None:
    events, messages = await run_action(
        ValidateVerifyIdentityForm(), dob_tracker("dunno lol"), domain
    )
    slots = slots_set(events)
    assert slots["dob_answer"] is None and "verification_attempts" not in slots
    assert responses(messages) == ["utter_dob_unreadable"]


async def test_too_many_wrong_dates_hand_over_to_a_person(
    accounts: str, domain: dict[str, Any]
) -> None:
    events, _ = await run_action(
        ValidateVerifyIdentityForm(), dob_tracker("01/01/1990", attempts=2), domain
    )
    slots = slots_set(events)
    assert slots["dob_answer"] == "failed" and slots["verified"] is False
    tracker = make_tracker(
        slots={"account_ref": "ACC-1", "verified": False, "verification_attempts": 3.0}
    )
    events, messages = await run_action(ActionAfterVerification(), tracker, domain)
    assert responses(messages) == ["utter_verification_failed"]
    assert any(e["event"] == "pause" for e in events)
    state = account_state()
    assert {"verification_failed", "handoff"} <= set(state["flags"])
    assert state["status"] == "paused"


async def test_disclosure_after_verification(accounts: str, domain: dict[str, Any]) -> None:
    tracker = make_tracker(slots={"account_ref": "ACC-1", "verified": True})
    _, messages = await run_action(ActionAfterVerification(), tracker, domain)
    assert responses(messages) == ["utter_disclosure", "utter_open_question"]
    assert messages[0]["creditor"] == "Northwind Clinic"
    assert messages[0]["balance"] == "$1,200.00"


async def test_a_question_first_is_answered_then_identity_is_asked(
    accounts: str, domain: dict[str, Any]
) -> None:
    tracker = make_tracker(
        slots={"account_ref": "ACC-1"},
        events=[user_event("am i talking to a bot", "bot_challenge")],
    )
    events, messages = await run_action(ActionRespond(), tracker, domain)
    assert responses(messages) == ["utter_bot_challenge", "utter_greet_unverified"]
    assert slots_set(events)["next_step"] == "verify"
