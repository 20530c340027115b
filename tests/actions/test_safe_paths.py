"""Disputes, opt-outs, vulnerability, hand-offs: each records what happened and stops."""

from __future__ import annotations

from typing import Any

import pytest

from actions.every_turn import ValidateSlotMappings
from actions.payment_details import ActionRecordPaymentDetails
from actions.respond import ActionRespond
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


async def respond(text: str, intent: str, domain: dict[str, Any], **kwargs: Any):  # type: ignore[no-untyped-def]
    tracker = make_tracker(
        slots={**VERIFIED, **kwargs.pop("slots", {})},
        events=[user_event(text, intent, **kwargs)],
        active_loop=kwargs.pop("active_loop", None),
    )
    return await run_action(ActionRespond(), tracker, domain)


async def test_dispute_pauses_collection_with_the_debtors_words(
    accounts: str, domain: dict[str, Any]
) -> None:
    words = "I never had a loan with Northwind, this is not my debt"
    events, messages = await respond(words, "dispute_debt", domain)
    assert responses(messages) == ["utter_dispute_recorded"]
    state = account_state()
    assert state["flags"] == ["disputed"] and state["status"] == "paused"
    assert state["events"][-1]["kind"] == "dispute" and state["events"][-1]["debtor_words"] == words
    # no plan is pushed while disputed
    _, messages = await respond("can i pay 50 a month", "offer_payment", domain)
    assert responses(messages) == ["utter_paused"]


async def test_already_paid_pauses_and_asks_for_details(
    accounts: str, domain: dict[str, Any]
) -> None:
    events, messages = await respond("i paid this off in june", "already_paid", domain)
    assert responses(messages) == ["utter_already_paid_recorded"]
    assert slots_set(events)["next_step"] == "payment_details"
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
    events, messages = await respond(
        "stop texting me", "request_stop_contact", domain, active_loop="finances_form"
    )
    assert responses(messages) == ["utter_opted_out"]
    # an open form is closed: nothing more is asked
    assert {"event": "active_loop", "name": None} in [
        {k: e.get(k) for k in ("event", "name")} for e in events
    ]
    state = account_state()
    assert state["status"] == "opted_out" and "opted_out" in state["flags"]
    _, messages = await respond("START", "resubscribe", domain)
    assert responses(messages) == ["utter_resubscribed"]
    assert account_state()["status"] == "active"


async def test_vulnerability_pauses_and_queues_a_person(
    accounts: str, domain: dict[str, Any]
) -> None:
    events, messages = await respond(
        "i cant go on anymore", "express_vulnerability", domain, emotion="sad"
    )
    assert responses(messages) == ["utter_vulnerability_support"]
    assert any(e["event"] == "pause" for e in events)
    assert {"vulnerable", "handoff"} <= set(account_state()["flags"])


async def test_request_human_hands_off(accounts: str, domain: dict[str, Any]) -> None:
    events, messages = await respond("let me talk to a real person", "request_human", domain)
    assert responses(messages) == ["utter_handoff"]
    assert any(e["event"] == "pause" for e in events)
    assert account_state()["flags"] == ["handoff"]


async def test_wrong_person_flags_and_discloses_nothing(
    accounts: str, domain: dict[str, Any]
) -> None:
    tracker = make_tracker(
        slots={"account_ref": "ACC-1"},
        events=[user_event("this isnt maria, wrong number", "wrong_person")],
    )
    _, messages = await run_action(ActionRespond(), tracker, domain)
    assert responses(messages) == ["utter_wrong_person"]
    assert "1200" not in str(messages) and "Northwind" not in str(messages)
    assert account_state()["flags"] == ["wrong_person"]


async def test_request_later_records_when(accounts: str, domain: dict[str, Any]) -> None:
    entities = [{"entity": "date", "value": "2030-01-04", "start": 0, "end": 5}]
    _, messages = await respond("text me on 2030-01-04", "request_later", domain, entities=entities)
    assert messages[0]["response"] == "utter_later_recorded"
    assert messages[0]["when"] == "on January 4, 2030"
    state = account_state()
    assert "callback_requested" in state["flags"]
    assert state["events"][-1]["detail"]["when"] == "2030-01-04"


async def test_refusal_is_gentle_and_records_nothing(accounts: str, domain: dict[str, Any]) -> None:
    _, messages = await respond("i dont want to talk about this", "refuse_to_talk", domain)
    assert responses(messages) == ["utter_refuse_to_talk"]
    assert account_state()["flags"] == []


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
