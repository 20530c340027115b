"""Income and essential expenses, asked gently, then the options that fit."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import (
    entity_values,
    first_entity,
    format_money,
    message_kwargs,
    tracker_account,
)
from actions.custom_forms import CustomFormValidationAction
from actions.offers import present_offers
from actions.state import with_stage
from bot.nlu.concepts import ConceptAnalyzer
from bot.nlu.normalize import extract_amount, parse_amount

# Monthly figures outside this range are possible but unusual: confirm before using them.
PLAUSIBLE_MONTHLY = (Decimal("100"), Decimal("30000"))
# "nothing right now", "zero", "no income at the moment": an honest zero, not a failure.
_NOTHING = re.compile(r"\b(nothing|none|zero|nada|no income|no money coming in|0)\b", re.IGNORECASE)


def amount_in_answer(text: str, entity: Any) -> Decimal | None:
    """The monthly figure in an answer ("about 1800", "2k", "$1,450", "nothing")."""
    if entity is not None:
        parsed = parse_amount(str(entity))
        if parsed is not None:
            return parsed
    amount = extract_amount(text or "")
    if amount is None and _NOTHING.search(text or ""):
        return Decimal("0.00")
    return amount


# Words that make an amount something the debtor offers to pay, not what comes in.
_OFFER_CONCEPTS = frozenset({"offer", "pay_full", "settlement", "deferral"})
_PAYING = re.compile(r"\b(pay|paying|payments?|afford|installments?)\b", re.IGNORECASE)
_concepts: ConceptAnalyzer | None = None


def _concepts_of(text: str) -> set[str]:
    global _concepts
    if _concepts is None:
        _concepts = ConceptAnalyzer()
    return set(_concepts.concepts(text))


def income_told(tracker: Tracker) -> dict[str, str]:
    """The budget answers in a message that tells what comes in before it was asked ("my
    hours got cut so im only bringing in like 1700 a month now"): an amount told with a
    hardship or an income word, and no word of paying or offering, is the monthly income
    (a second amount, the expenses). Empty when the message offers a payment instead."""
    text = str(tracker.latest_message.get("text") or "")[:2000]
    amount = parse_amount(str(first_entity(tracker, "amount") or ""))
    low, high = PLAUSIBLE_MONTHLY
    if amount is None or not (low <= amount <= high) or _PAYING.search(text):
        return {}
    concepts = _concepts_of(text)
    told_with = first_entity(tracker, "hardship") is not None or "income" in concepts
    if not told_with or concepts & _OFFER_CONCEPTS:
        return {}
    answers = {"monthly_income": str(amount)}
    expenses = second_amount(tracker, amount)
    if expenses is not None and low <= expenses <= high:
        answers["monthly_expenses"] = str(expenses)
    return answers


def second_amount(tracker: Tracker, first: Decimal) -> Decimal | None:
    """A second monthly figure in the same message (the expenses, told with the income)."""
    amounts = [parse_amount(str(v)) for v in entity_values(tracker, "amount")]
    found = [a for a in amounts if a is not None]
    if len(found) >= 2 and found[0] == first:
        return found[1]
    return None


class ValidateFinancesForm(CustomFormValidationAction):
    def name(self) -> str:
        return "validate_finances_form"

    def _validate(
        self, slot: str, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> dict[str, Any]:
        account = tracker_account(tracker)
        amount = amount_in_answer(str(slot_value or ""), first_entity(tracker, "amount"))
        if amount is None:
            return {
                slot: None,
                **self.failed(
                    dispatcher, tracker, "utter_amount_unreadable", **message_kwargs(account)
                ),
            }
        low, high = PLAUSIBLE_MONTHLY
        unusual = amount != 0 and not (low <= amount <= high)
        if unusual and tracker.get_slot("unconfirmed_amount") != str(amount):
            currency = account.currency if account else "USD"
            dispatcher.utter_message(
                text=(
                    f"Just to check: {format_money(amount, currency)} a month? If that's right, "
                    "send it again; if not, send the corrected figure."
                )
            )
            return {slot: None, "unconfirmed_amount": str(amount)}
        result = {slot: str(amount), "unconfirmed_amount": None, **self.succeeded()}
        if slot == "monthly_income" and not tracker.get_slot("monthly_expenses"):
            # "2600, and my expenses are 2100": both answers in one message are kept.
            expenses = second_amount(tracker, amount)
            if expenses is not None and low <= expenses <= high:
                result["monthly_expenses"] = str(expenses)
        return result

    def validate_monthly_income(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        return self._validate("monthly_income", slot_value, dispatcher, tracker)

    def validate_monthly_expenses(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        return self._validate("monthly_expenses", slot_value, dispatcher, tracker)


class ActionPresentOffers(Action):
    """After the finances form: the debtor's own earlier proposal first, else the options."""

    def name(self) -> str:
        return "action_present_offers"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        account = tracker_account(tracker)
        events = present_offers(dispatcher, tracker, account)
        return with_stage(tracker, [*events, SlotSet("next_step", "listen")])
