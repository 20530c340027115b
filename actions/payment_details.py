""" "Already paid": collect when and how, in the debtor's words, for a person to check."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.common import tracker_account, utter
from actions.records import record_event


class ValidatePaymentDetailsForm(FormValidationAction):
    def name(self) -> str:
        return "validate_payment_details_form"

    def validate_payment_details(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        text = str(slot_value or "").strip()
        return {"payment_details": text[:2000] if text else None}


class ActionRecordPaymentDetails(Action):
    def name(self) -> str:
        return "action_record_payment_details"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        account = tracker_account(tracker)
        details = tracker.get_slot("payment_details")
        if account is not None and details:
            record_event(
                account.account_ref,
                "payment_details",
                debtor_words=str(details),
                sender_id=tracker.sender_id,
            )
        utter(dispatcher, "utter_payment_details_recorded", account)
        return [SlotSet("payment_details", None), SlotSet("next_step", "listen")]
