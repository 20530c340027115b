"""Session start, identity verification and what may be said before it."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk import Action

from actions.negotiation import (
    ActionConfirmProposal,
    ActionEvaluateRequest,
    ActionPickOption,
    ActionProposeRecommended,
    ActionShowOptions,
    ActionTellDebtDetails,
)
from actions.respond import ActionRespond, ActionResume
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
    """The rules answer an unknown number from the domain (identity: unknown); the steps
    that would tell the debt refuse on their own, whatever a story routes to them."""
    sender = "+14155550000"
    events, _ = await run_action(ActionSessionStart(), make_tracker(sender_id=sender), domain)
    assert slots_set(events)["account_known"] is False
    tracker = make_tracker(
        sender_id=sender, events=[user_event("how much do i owe", "ask_debt_details")]
    )
    _, messages = await run_action(ActionTellDebtDetails(), tracker, domain)
    assert responses(messages) == ["utter_verify_first"]
    assert all("1200" not in str(m) and "Northwind" not in str(m) for m in messages)


@pytest.mark.parametrize(
    ("action", "intent", "text"),
    [
        (ActionTellDebtDetails, "ask_debt_details", "what is this about"),
        (ActionEvaluateRequest, "offer_payment", "i can pay 50 a month"),
        (ActionShowOptions, "ask_installments", "what are my options"),
        (ActionPickOption, "choose_option", "the first one"),
        (ActionProposeRecommended, "affirm", "yes"),
        (ActionConfirmProposal, "affirm", "yes"),
    ],
)
async def test_nothing_is_disclosed_before_verification(
    action: type[Action], intent: str, text: str, accounts: str, domain: dict[str, Any]
) -> None:
    """Defence in depth: even if a trainer's story sent an unverified debtor to a
    negotiation step, the step says only that identity comes first."""
    offers = [{"kind": "full", "total": "1200.00", "currency": "USD", "schedule": []}]
    tracker = make_tracker(
        slots={"account_ref": "ACC-1", "offers": offers, "proposal": offers[0]},
        events=[user_event(text, intent)],
    )
    events, messages = await run_action(action(), tracker, domain)
    assert responses(messages) == ["utter_verify_first"]
    assert "agreement_ref" not in slots_set(events)
    assert all("1,200" not in str(m) and "Northwind" not in str(m) for m in messages)


async def test_session_start_sets_the_state_rules_branch_on_and_names_no_creditor(
    accounts: str, domain: dict[str, Any]
) -> None:
    """Rules utter responses straight from the domain, so the slots they read are set
    here: `identity` for conditions, and `creditor` as "us" until the identity check."""
    events, _ = await run_action(ActionSessionStart(), make_tracker(sender_id=MARIA_PHONE), domain)
    slots = slots_set(events)
    assert slots["identity"] == "unverified"
    assert slots["creditor"] == "us"
    assert slots["support_phone"] and slots["support_url"]
    unknown, _ = await run_action(
        ActionSessionStart(), make_tracker(sender_id="+14155550000"), domain
    )
    assert slots_set(unknown)["identity"] == "unknown"


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
    assert slots["identity"] == "verified"
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


async def wrong_dates(domain: dict[str, Any], count: int, sender: str = MARIA_PHONE) -> dict:  # type: ignore[type-arg]
    """`count` wrong dates of birth, each in a fresh tracker (as after a restart)."""
    slots: dict[str, Any] = {}
    for _ in range(count):
        tracker = dob_tracker("01/01/1990")
        tracker.sender_id = sender
        events, _ = await run_action(ValidateVerifyIdentityForm(), tracker, domain)
        slots = slots_set(events)
    return slots


async def test_too_many_wrong_dates_lock_the_account_and_hand_over(
    accounts: str, domain: dict[str, Any]
) -> None:
    slots = await wrong_dates(domain, 2)
    assert slots["dob_answer"] is None and slots["verification_attempts"] == 2.0
    slots = await wrong_dates(domain, 1)
    assert slots["dob_answer"] == "failed" and slots["verified"] is False
    assert slots["identity"] == "locked"
    tracker = make_tracker(
        slots={"account_ref": "ACC-1", "verified": False, "verification_attempts": 3.0}
    )
    events, messages = await run_action(ActionAfterVerification(), tracker, domain)
    assert responses(messages) == ["utter_verification_failed"]
    state = account_state()
    assert {"verification_failed", "handoff"} <= set(state["flags"])
    assert state["status"] == "paused" and state["identity_locked_at"]


async def test_the_lock_survives_new_sessions_channels_and_the_right_date(
    accounts: str, domain: dict[str, Any]
) -> None:
    # Each guess arrives in a fresh tracker (a restart or a new session clears slots),
    # two of them over WhatsApp: the count is the account's, not the conversation's.
    await wrong_dates(domain, 1)
    await wrong_dates(domain, 2, sender=f"whatsapp:{MARIA_PHONE}")
    assert account_state()["identity_locked_at"]
    # The right date of birth, once locked, verifies nothing.
    events, _ = await run_action(ValidateVerifyIdentityForm(), dob_tracker("march 14 1985"), domain)
    assert slots_set(events)["verified"] is False
    assert slots_set(events)["identity"] == "locked"
    # ...and a new session starts in the locked state, which rules can branch on.
    started, _ = await run_action(
        ActionSessionStart(), make_tracker(sender_id=f"whatsapp:{MARIA_PHONE}"), domain
    )
    assert slots_set(started)["identity"] == "locked"
    # A new conversation hears that it is locked, not a request for the date of birth.
    fresh = make_tracker(
        slots={"account_ref": "ACC-1"}, events=[user_event("hmm ok", "out_of_scope")]
    )
    events, messages = await run_action(ActionRespond(), fresh, domain)
    assert responses(messages) == ["utter_verification_failed"]
    assert slots_set(events)["next_step"] != "verify"


async def test_an_operator_unlock_lets_the_debtor_verify_again(
    accounts: str, domain: dict[str, Any]
) -> None:
    from bot.storage import AccountRepository, get_database
    from bot.storage.identity import IdentityRepository

    await wrong_dates(domain, 3)
    with get_database().session() as session:
        account = AccountRepository(session).require("ACC-1")
        IdentityRepository(session).unlock(account, actor="cli:ops")
    state = account_state()
    assert state["identity_locked_at"] is None
    assert "verification_failed" not in state["flags"] and "handoff" not in state["flags"]
    events, _ = await run_action(ValidateVerifyIdentityForm(), dob_tracker("march 14 1985"), domain)
    assert slots_set(events)["verified"] is True


async def test_a_right_date_resets_the_count(accounts: str, domain: dict[str, Any]) -> None:
    await wrong_dates(domain, 2)
    events, _ = await run_action(ValidateVerifyIdentityForm(), dob_tracker("march 14 1985"), domain)
    assert slots_set(events)["verified"] is True
    slots = await wrong_dates(domain, 2)
    assert slots["dob_answer"] is None and slots["verification_attempts"] == 2.0
    assert account_state()["identity_locked_at"] is None


async def test_disclosure_after_verification(accounts: str, domain: dict[str, Any]) -> None:
    tracker = make_tracker(slots={"account_ref": "ACC-1", "verified": True})
    events, messages = await run_action(ActionAfterVerification(), tracker, domain)
    assert responses(messages) == ["utter_disclosure", "utter_open_question"]
    assert messages[0]["creditor"] == "Northwind Clinic"
    # Disclosure time: from here responses uttered by rules may name the creditor.
    assert slots_set(events)["creditor"] == "Northwind Clinic"
    assert messages[0]["balance"] == "$1,200.00"


async def test_a_question_first_is_answered_then_identity_is_asked(
    accounts: str, domain: dict[str, Any]
) -> None:
    """The rule answers from the domain (utter_bot_challenge); action_resume goes on."""
    tracker = make_tracker(
        slots={"account_ref": "ACC-1"},
        events=[user_event("am i talking to a bot", "bot_challenge")],
    )
    events, messages = await run_action(ActionResume(), tracker, domain)
    assert responses(messages) == ["utter_greet_unverified"]
    assert slots_set(events)["next_step"] == "verify"


async def test_after_an_aside_an_open_form_asks_again_and_a_verified_debtor_is_heard(
    accounts: str, domain: dict[str, Any]
) -> None:
    in_form = make_tracker(
        slots={"account_ref": "ACC-1", "verified": True, "requested_slot": "monthly_income"},
        events=[user_event("are you a bot", "bot_challenge")],
        active_loop="finances_form",
    )
    events, messages = await run_action(ActionResume(), in_form, domain)
    assert messages == [] and slots_set(events)["next_step"] == "finances"
    verified = make_tracker(
        slots={"account_ref": "ACC-1", "verified": True},
        events=[user_event("are you a bot", "bot_challenge")],
    )
    events, messages = await run_action(ActionResume(), verified, domain)
    assert messages == [] and slots_set(events)["next_step"] == "listen"


async def test_an_unreadable_date_then_a_wrong_one_never_repeat_the_prompt(
    accounts: str, domain: dict[str, Any]
) -> None:
    """Unusable and wrong answers share one count, so the next wording always changes."""
    events, _ = await run_action(ValidateVerifyIdentityForm(), dob_tracker("dunno lol"), domain)
    after_unreadable = slots_set(events)["form_failures"]
    tracker = dob_tracker("01/01/1990")
    tracker.slots["form_failures"] = after_unreadable
    events, _ = await run_action(ValidateVerifyIdentityForm(), tracker, domain)
    assert slots_set(events)["form_failures"] != after_unreadable
