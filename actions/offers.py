"""Offers, counter-offers and confirmation: the tracker side of bot.negotiation."""

from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import (
    AccountView,
    current_policy,
    known_finances,
    latest_text,
    offers_slots,
    option_from_slot,
    options_from_slot,
    today_for,
    utter,
)
from actions.records import record_event, store_agreement
from bot.dialogue.confirmation import is_explicit_yes
from bot.dialogue.texts import agreement_confirmation, confirmation_request, recommended_offer
from bot.negotiation import (
    CounterOffer,
    Decision,
    Frequency,
    Installment,
    Option,
    Outcome,
    build_quote,
    default_first_due,
    evaluate_counter_offer,
    evaluate_deferral,
    evaluate_settlement,
    latest_first_due,
)
from bot.negotiation.wording import format_date
from bot.nlu.normalize import parse_amount


def proposal_key(sender_id: str, account_ref: str, option: Option) -> str:
    """Idempotency key of a confirmed proposal: the same terms in the same conversation
    can only ever become one agreement, however many times "yes" arrives."""
    canonical = json.dumps(option.to_dict(), sort_keys=True)
    digest = hashlib.sha256(f"{sender_id}|{account_ref}|{canonical}".encode()).hexdigest()
    return f"conv:{digest[:48]}"


def propose(
    dispatcher: CollectingDispatcher,
    account: AccountView,
    option: Option,
    preface: str | None = None,
) -> list[EventType]:
    """State exact terms and ask for an explicit yes; nothing is stored yet."""
    if preface:
        dispatcher.utter_message(text=preface)
    dispatcher.utter_message(text=confirmation_request(option))
    ask_for_yes(dispatcher, account)
    return [SlotSet("proposal", option.to_dict())]


def ask_for_yes(dispatcher: CollectingDispatcher, account: AccountView) -> None:
    """The confirmation prompt, saying first that new terms replace a live agreement."""
    if account.active_agreement_ref:
        utter(
            dispatcher,
            "utter_replaces_agreement",
            account,
            disclose=True,
            agreement_ref=account.active_agreement_ref,
        )
    utter(dispatcher, "utter_confirm_prompt", account)


def answer_decision(
    dispatcher: CollectingDispatcher, account: AccountView, decision: Decision
) -> list[EventType]:
    """Accepted or countered → terms to confirm; refused → the reason, and what we can do."""
    if decision.outcome is Outcome.REFUSED or decision.option is None:
        dispatcher.utter_message(text=decision.message)
        return [SlotSet("proposal", None)]
    if decision.outcome is Outcome.COUNTERED:
        # The counter already states the exact terms; ask for the yes straight away.
        dispatcher.utter_message(text=f"{decision.message} Would that work for you?")
        ask_for_yes(dispatcher, account)
        return [SlotSet("proposal", decision.option.to_dict())]
    return propose(dispatcher, account, decision.option)


def present_offers(
    dispatcher: CollectingDispatcher, tracker: Tracker, account: AccountView | None
) -> list[EventType]:
    """The options that fit the debtor's budget (at most three), or their own request."""
    if account is None:
        utter(dispatcher, "utter_default", account)
        return []
    finances = known_finances(tracker)
    if finances is None:
        return [SlotSet("next_step", "finances")]
    pending = tracker.get_slot("pending_request")
    if pending:
        return [
            SlotSet("pending_request", None),
            *answer_request(dispatcher, tracker, account, pending),
        ]
    quote = build_quote(
        account.balance,
        finances,
        current_policy(),
        today_for(account),
        currency=account.currency,
        temporary_hardship=bool(tracker.get_slot("hardship")),
    )
    options = list(quote.options)
    if quote.reason:
        dispatcher.utter_message(text=quote.reason)
    if not options:
        utter(dispatcher, "utter_handoff", account)
        return [*offers_slots(None), SlotSet("proposal", None)]
    # The funnel (console dashboard) counts accounts that were shown options.
    record_event(
        account.account_ref,
        "options_shown",
        detail={"count": len(options), "kinds": [o.kind for o in options]},
        sender_id=tracker.sender_id,
    )
    utter(dispatcher, "utter_offers_intro", account)
    # One recommended plan a "yes" can accept, the alternatives listed briefly.
    dispatcher.utter_message(text=recommended_offer(options))
    utter(dispatcher, "utter_offers_prompt" if len(options) > 1 else "utter_offer_prompt", account)
    return [*offers_slots(options), SlotSet("proposal", None)]


def first_due_from(value: Any, account: AccountView) -> date | None:
    """A debtor's requested first payment date, if it is a date we can use."""
    if not value:
        return None
    try:
        day = date.fromisoformat(str(value))
    except ValueError:
        return None
    today = today_for(account)
    return day if day >= today else None


# What kind of request each intent makes (not what to say: answer_request decides that).
REQUEST_KINDS = {
    "ask_deferral": "deferral",
    "ask_settlement": "settlement",
    "offer_payment": "payment",
    "pay_in_full": "pay_in_full",
    "inform": "payment",
}
# How sure the NLU must be, over its two best guesses together, that a message it could
# not tell apart ("ill just pay the whole 150 friday": pay in full 0.47, a payment 0.35)
# asks for terms.
UNCLEAR_REQUEST_MIN = 0.6


def unclear_request(parse: dict[str, Any]) -> str | None:
    """The request an unclear (fallback) message makes when the NLU's two best guesses
    are both requests for terms and it names an amount or a date: the better guess; else
    None."""
    if (parse.get("intent") or {}).get("name") != "nlu_fallback":
        return None
    ranking = [r for r in parse.get("intent_ranking") or [] if r.get("name") != "nlu_fallback"]
    top = ranking[:2]
    requests = set(REQUEST_KINDS) - {"inform"}
    if len(top) < 2 or any(r.get("name") not in requests for r in top):
        return None
    if sum(float(r.get("confidence") or 0) for r in top) < UNCLEAR_REQUEST_MIN:
        return None
    named = {e.get("entity") for e in parse.get("entities") or []}
    if not named & {"amount", "date"}:
        return None
    return str(top[0]["name"])


def request_from_tracker(tracker: Tracker, kind: str) -> dict[str, Any]:
    """What the debtor asked for in their latest message, as plain data for a slot."""
    entities = {
        e.get("entity"): e.get("value")
        for e in reversed(tracker.latest_message.get("entities") or [])
        if e.get("value") is not None
    }
    return {
        "kind": kind,
        "amount": entities.get("amount"),
        "frequency": entities.get("frequency"),
        "date": entities.get("date"),
        "duration": entities.get("duration"),
    }


def answer_request(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    account: AccountView,
    request: dict[str, Any],
) -> list[EventType]:
    """Evaluate a debtor's own proposal (payment, deferral, settlement, pay in full)."""
    policy = current_policy()
    today = today_for(account)
    finances = known_finances(tracker)
    kind = request.get("kind")
    amount = parse_amount(str(request["amount"])) if request.get("amount") else None
    first_due = first_due_from(request.get("date"), account)
    if kind == "pay_in_full":
        due = first_due or default_first_due(policy, today)
        preface = None
        if due > latest_first_due(policy, today):
            due = latest_first_due(policy, today)
            preface = f"The payment needs to be made by {format_date(due)}."
        option = Option(
            kind="full",
            total=account.balance,
            currency=account.currency,
            schedule=(Installment(due, account.balance),),
        )
        return propose(dispatcher, account, option, preface)
    if kind == "settlement":
        if amount is None:
            floor = (account.balance * policy.settlement_floor).quantize(Decimal("0.01"))
            amount = floor
        decision = evaluate_settlement(
            account.balance, policy, today, amount, currency=account.currency
        )
        return answer_decision(dispatcher, account, decision)
    if kind == "deferral":
        until = first_due
        if until is None and request.get("duration"):
            until = today + timedelta(days=int(request["duration"]))
        decision = evaluate_deferral(
            account.balance, finances, policy, today, until, currency=account.currency
        )
        return answer_decision(dispatcher, account, decision)
    # a payment proposal ("50 a month", "100 on friday")
    frequency = Frequency(request["frequency"]) if request.get("frequency") else None
    offer = CounterOffer(amount=amount, frequency=frequency, first_due=first_due)
    decision = evaluate_counter_offer(
        account.balance, finances, policy, today, offer, currency=account.currency
    )
    return answer_decision(dispatcher, account, decision)


def confirm_proposal(
    dispatcher: CollectingDispatcher, tracker: Tracker, account: AccountView
) -> list[EventType]:
    """The explicit yes: store the agreement exactly once and confirm it in writing."""
    option = option_from_slot(tracker.get_slot("proposal"))
    if option is not None and not is_explicit_yes(latest_text(tracker)):
        # The guard lives here, in the step that stores, so no rule or story can make
        # a maybe (or an NLU misreading) into an agreement: exact terms need a plain yes.
        dispatcher.utter_message(response="utter_confirm_plain_yes")
        return []
    if option is None:
        reference = tracker.get_slot("agreement_ref")
        if reference:
            dispatcher.utter_message(
                text=f"You're all set: your agreement reference is {reference}. "
                "Nothing more is needed right now."
            )
            return []
        utter(dispatcher, "utter_no_pending_offer", account)
        return []
    stored = store_agreement(
        account.account_ref,
        option,
        idempotency_key=proposal_key(tracker.sender_id, account.account_ref, option),
        sender_id=tracker.sender_id,
    )
    dispatcher.utter_message(
        text=agreement_confirmation(stored.reference, option, stored.created_on)
    )
    utter(dispatcher, "utter_agreement_change_info", account)
    return [
        SlotSet("agreement_ref", stored.reference),
        SlotSet("proposal", None),
        *offers_slots(None),
    ]


def offered_options(tracker: Tracker) -> list[Option]:
    return options_from_slot(tracker.get_slot("offers"))
