"""Disputes, opt-outs, vulnerability, hand-offs: each action records what happened and
closes the conversation; what is said comes from the rules and the domain (data/rules/contact.yml)."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk import Action

from actions.contact import (
    ActionHandOver,
    ActionHandOverCrisis,
    ActionRecordCallback,
    ActionRecordComplaint,
    ActionRecordOptIn,
    ActionRecordOptOut,
    ActionRecordWrongPerson,
)
from actions.disputes import ActionRecordAlreadyPaid, ActionRecordDispute
from actions.every_turn import ValidateSlotMappings
from actions.payment_details import ActionRecordPaymentDetails
from tests.actions.conftest import (
    account_state,
    make_tracker,
    responses,
    run_action,
    slots_set,
    user_event,
)

pytestmark = pytest.mark.asyncio

VERIFIED = {"account_ref": "ACC-1", "verified": True}
CLOSED = {"event": "active_loop", "name": None}


def _loop_events(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: e.get(k) for k in ("event", "name")} for e in events]


async def run(action: Action, text: str, intent: str, domain: dict[str, Any], **kwargs: Any):  # type: ignore[no-untyped-def]
    tracker = make_tracker(
        slots={**VERIFIED, **kwargs.pop("slots", {})},
        events=[user_event(text, intent, **kwargs)],
        active_loop=kwargs.pop("active_loop", None),
    )
    return await run_action(action, tracker, domain)


async def test_dispute_pauses_collection_with_the_debtors_words(
    accounts: str, domain: dict[str, Any]
) -> None:
    words = "I never had a loan with Northwind, this is not my debt"
    events, messages = await run(
        ActionRecordDispute(), words, "dispute_debt", domain, slots={"offers": [{"kind": "x"}]}
    )
    assert messages == []
    assert slots_set(events)["offers"] is None and slots_set(events)["options_on_table"] is False
    state = account_state()
    assert state["flags"] == ["disputed"] and state["status"] == "paused"
    assert state["events"][-1]["kind"] == "dispute" and state["events"][-1]["debtor_words"] == words
    # no plan is pushed while disputed: the rules read stage: paused
    assert slots_set(events)["stage"] == "paused"


async def test_already_paid_pauses_and_asks_for_details(
    accounts: str, domain: dict[str, Any]
) -> None:
    events, messages = await run(
        ActionRecordAlreadyPaid(), "i paid this off in june", "already_paid", domain
    )
    assert messages == []
    assert account_state()["flags"] == ["already_paid"]
    tracker = make_tracker(
        slots={**VERIFIED, "payment_details": "june 3rd, 1200 by bank transfer, ref 88812"}
    )
    _, messages = await run_action(ActionRecordPaymentDetails(), tracker, domain)
    assert responses(messages) == ["utter_payment_details_recorded"]
    assert (
        account_state()["events"][-1]["debtor_words"]
        == "june 3rd, 1200 by bank transfer, ref 88812"
    )


async def test_stop_contact_opts_out_once(accounts: str, domain: dict[str, Any]) -> None:
    events, messages = await run(
        ActionRecordOptOut(),
        "stop texting me",
        "request_stop_contact",
        domain,
        active_loop="finances_form",
    )
    assert messages == []
    # an open form is closed: nothing more is asked
    assert CLOSED in _loop_events(events)
    state = account_state()
    assert state["status"] == "opted_out" and "opted_out" in state["flags"]
    _, messages = await run(ActionRecordOptIn(), "START", "resubscribe", domain)
    assert account_state()["status"] == "active"


async def test_vulnerability_pauses_and_queues_a_person(
    accounts: str, domain: dict[str, Any]
) -> None:
    events, messages = await run(
        ActionHandOverCrisis(), "i cant go on anymore", "express_vulnerability", domain
    )
    assert any(e["event"] == "pause" for e in events)
    assert {"vulnerable", "handoff"} <= set(account_state()["flags"])
    kinds = [e["kind"] for e in account_state()["events"]]
    assert kinds[-2:] == ["vulnerability", "handoff"]


async def test_request_human_hands_off(accounts: str, domain: dict[str, Any]) -> None:
    events, _ = await run(ActionHandOver(), "let me talk to a real person", "request_human", domain)
    assert any(e["event"] == "pause" for e in events)
    assert account_state()["flags"] == ["handoff"]


async def test_wrong_person_flags_and_discloses_nothing(
    accounts: str, domain: dict[str, Any]
) -> None:
    tracker = make_tracker(
        slots={"account_ref": "ACC-1"},
        events=[user_event("this isnt maria, wrong number", "wrong_person")],
    )
    _, messages = await run_action(ActionRecordWrongPerson(), tracker, domain)
    assert messages == []
    assert account_state()["flags"] == ["wrong_person"]


async def test_a_number_we_do_not_know_records_nothing_and_still_closes(
    accounts: str, domain: dict[str, Any]
) -> None:
    tracker = make_tracker(
        sender_id="+14155550000",
        events=[user_event("stop", "request_stop_contact")],
        active_loop="verify_identity_form",
    )
    events, messages = await run_action(ActionRecordOptOut(), tracker, domain)
    assert messages == [] and CLOSED in _loop_events(events)
    assert account_state()["flags"] == []


async def test_a_complaint_is_recorded_and_the_form_stays_open(
    accounts: str, domain: dict[str, Any]
) -> None:
    events, _ = await run(
        ActionRecordComplaint(),
        "this is harassment",
        "complain",
        domain,
        active_loop="finances_form",
    )
    assert CLOSED not in _loop_events(events)
    assert account_state()["events"][-1]["kind"] == "complaint"


async def test_request_later_records_when(accounts: str, domain: dict[str, Any]) -> None:
    entities = [{"entity": "date", "value": "2030-01-04", "start": 0, "end": 5}]
    events, _ = await run(
        ActionRecordCallback(), "text me on 2030-01-04", "request_later", domain, entities=entities
    )
    # utter_later_recorded says it, from this slot
    assert slots_set(events)["callback_when"] == "on January 4, 2030"
    state = account_state()
    assert "callback_requested" in state["flags"]
    assert state["events"][-1]["detail"]["when"] == "2030-01-04"
    events, _ = await run(ActionRecordCallback(), "maybe tmrw", "request_later", domain)
    assert slots_set(events)["callback_when"] == "tomorrow"


async def test_card_number_warning_and_deescalation(accounts: str, domain: dict[str, Any]) -> None:
    card = user_event("my card is [card number removed]", "inform", card_number_redacted=True)
    _, messages = await run_action(
        ValidateSlotMappings(), make_tracker(slots=VERIFIED, events=[card]), domain
    )
    assert responses(messages) == ["utter_card_warning"]
    one_angry = [user_event("ugh", "complain", emotion="angry")]
    events, messages = await run_action(
        ValidateSlotMappings(), make_tracker(slots=VERIFIED, events=one_angry), domain
    )
    assert messages == [] and slots_set(events)["angry_streak"] == 1.0
    two_angry = [
        *one_angry,
        {"event": "bot", "text": "sorry"},
        user_event("YOU PEOPLE ARE A JOKE", "complain", emotion="angry"),
    ]
    events, messages = await run_action(
        ValidateSlotMappings(), make_tracker(slots=VERIFIED, events=two_angry), domain
    )
    assert responses(messages) == ["utter_deescalate"]
    calm_between = [
        user_event("ugh", "complain", emotion="angry"),
        user_event("ok", "affirm"),
        user_event("NO", "deny", emotion="angry"),
    ]
    _, messages = await run_action(
        ValidateSlotMappings(), make_tracker(slots=VERIFIED, events=calm_between), domain
    )
    assert messages == []
