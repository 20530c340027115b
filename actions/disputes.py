"""A dispute or "already paid": recorded, collection paused, nothing on the table."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet

from actions.common import AccountView, offers_slots
from actions.contact import RecordingAction, words
from actions.records import flag_account


class ActionRecordDispute(RecordingAction):
    """Collection pauses (`stage: paused`): no plan is pushed while it is reviewed."""

    flag = "disputed"
    event_kind = "dispute"
    sets_stage = True

    def name(self) -> str:
        return "action_record_dispute"

    def record(self, account: AccountView, tracker: Tracker) -> list[EventType]:
        flag_account(
            account.account_ref,
            self.flag,
            event_kind=self.event_kind,
            debtor_words=words(tracker),
            sender_id=tracker.sender_id,
        )
        return [SlotSet("proposal", None), *offers_slots(None)]


class ActionRecordAlreadyPaid(ActionRecordDispute):
    """Then the payment details form asks when and how it was paid (data/rules)."""

    flag = "already_paid"
    event_kind = "already_paid"

    def name(self) -> str:
        return "action_record_already_paid"
