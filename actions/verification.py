"""Identity first: date of birth on file before any detail of the debt."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import current_policy, message_kwargs, today_for, tracker_account, utter
from actions.custom_forms import WORDINGS, CustomFormValidationAction
from actions.records import flag_account, record_identity_check
from actions.state import with_stage
from bot.nlu.normalize import parse_birth_date

VERIFIED = "verified"
FAILED = "failed"


class ValidateVerifyIdentityForm(CustomFormValidationAction):
    def name(self) -> str:
        return "validate_verify_identity_form"

    def validate_dob_answer(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        account = tracker_account(tracker)
        if account is None:  # the number is not on file: nothing to verify against
            return {"dob_answer": FAILED, "verified": False}
        answer = parse_birth_date(str(slot_value or ""), today_for(account))
        if answer is None:
            return {
                "dob_answer": None,
                **self.failed(
                    dispatcher, tracker, "utter_dob_unreadable", **message_kwargs(account)
                ),
            }
        status = record_identity_check(
            account.account_ref,
            matched=answer == account.dob,
            limit=current_policy().verification_attempts,
            sender_id=tracker.sender_id,
        )
        if answer == account.dob and not status.locked:
            return {
                "dob_answer": VERIFIED,
                "verified": True,
                "identity": "verified",
                "verification_attempts": 0.0,
                **self.succeeded(),
            }
        if status.locked:
            return {
                "dob_answer": FAILED,
                "verified": False,
                "identity": "locked",
                "verification_attempts": float(status.failures),
            }
        dispatcher.utter_message(response="utter_dob_mismatch")
        # The next question is worded by form_failures, so it is not the same prompt again.
        return {
            "dob_answer": None,
            "verification_attempts": float(status.failures),
            "form_failures": float((int(tracker.get_slot("form_failures") or 0) + 1) % WORDINGS),
        }


class ActionAfterVerification(Action):
    """Verified: the collection disclosure and an open question. Failed: a human reviews."""

    def name(self) -> str:
        return "action_after_verification"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        account = tracker_account(tracker)
        if tracker.get_slot("verified") and account is not None:
            utter(dispatcher, "utter_disclosure", account, disclose=True)
            if account.paused:
                utter(dispatcher, "utter_paused", account, disclose=True)
            else:
                utter(dispatcher, "utter_open_question", account, disclose=True)
            return with_stage(
                tracker,
                [
                    SlotSet("next_step", "listen"),
                    SlotSet("dob_answer", None),
                    # Disclosure time: from here responses may name the creditor.
                    SlotSet("creditor", account.creditor),
                ],
            )
        utter(dispatcher, "utter_verification_failed", account)
        events: list[EventType] = [SlotSet("next_step", "listen"), SlotSet("dob_answer", None)]
        if account is not None:
            attempts = int(tracker.get_slot("verification_attempts") or 0)
            flag_account(
                account.account_ref,
                "verification_failed",
                event_kind="verification_failed",
                detail={"attempts": attempts},
                sender_id=tracker.sender_id,
            )
            flag_account(
                account.account_ref,
                "handoff",
                event_kind="handoff",
                detail={"reason": "verification_failed"},
                sender_id=tracker.sender_id,
            )
            # No pause: the lock is on the account in the database, so every later
            # message (in any session, on any channel) hears only that it is locked,
            # and an operator's unlock takes effect at once.
        return events
