"""Contact preferences and safe paths: each action records one thing on the account.

What is said around them is in the domain and the rules (data/rules/contact.yml): these
actions only record, and close what the conversation must not go on with. None of them
needs identity, and none discloses anything; with no account for the number they record
nothing and still close.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, ConversationPaused, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import (
    AccountView,
    first_entity,
    latest_text,
    today_for,
    tracker_account,
)
from actions.records import clear_flag, flag_account, record_event
from actions.state import with_stage
from bot.negotiation.wording import format_date
from bot.nlu.normalize import parse_date

# What the debtor said, as kept on the account (a message can be long).
WORDS_KEPT = 2000


def words(tracker: Tracker) -> str:
    return latest_text(tracker)[:WORDS_KEPT]


def close() -> list[EventType]:
    """End any open form and listen: nothing more is asked."""
    return [ActiveLoop(None), SlotSet("requested_slot", None), SlotSet("next_step", "listen")]


class RecordingAction(Action, ABC):
    """One record on the account behind the conversation (if there is one)."""

    closes = True
    # Whether the record changes where the conversation stands (actions/state.py).
    sets_stage = False

    @abstractmethod
    def record(self, account: AccountView, tracker: Tracker) -> list[EventType]:
        """Record on the account; the events to add."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        account = tracker_account(tracker)
        events = self.record(account, tracker) if account is not None else []
        events = [*events, *(close() if self.closes else [])]
        return with_stage(tracker, events) if self.sets_stage else events


class ActionRecordOptOut(RecordingAction):
    def name(self) -> str:
        return "action_record_opt_out"

    def record(self, account: AccountView, tracker: Tracker) -> list[EventType]:
        flag_account(
            account.account_ref,
            "opted_out",
            event_kind="opt_out",
            debtor_words=words(tracker),
            sender_id=tracker.sender_id,
        )
        return []


class ActionRecordOptIn(RecordingAction):
    def name(self) -> str:
        return "action_record_opt_in"

    def record(self, account: AccountView, tracker: Tracker) -> list[EventType]:
        clear_flag(
            account.account_ref, "opted_out", event_kind="opt_in", sender_id=tracker.sender_id
        )
        return []


class ActionRecordWrongPerson(RecordingAction):
    def name(self) -> str:
        return "action_record_wrong_person"

    def record(self, account: AccountView, tracker: Tracker) -> list[EventType]:
        flag_account(
            account.account_ref,
            "wrong_person",
            event_kind="wrong_person",
            debtor_words=words(tracker),
            sender_id=tracker.sender_id,
        )
        return []


class ActionRecordComplaint(RecordingAction):
    """Recorded for a person to review; the conversation goes on (action_resume)."""

    closes = False

    def name(self) -> str:
        return "action_record_complaint"

    def record(self, account: AccountView, tracker: Tracker) -> list[EventType]:
        record_event(
            account.account_ref,
            "complaint",
            debtor_words=words(tracker),
            sender_id=tracker.sender_id,
        )
        return []


def callback_when(tracker: Tracker, account: AccountView | None) -> tuple[str, str | None]:
    """How to say when the debtor asked to be contacted, and the date if one was given."""
    text = latest_text(tracker).lower()
    value = first_entity(tracker, "date")
    when = parse_date(str(value), today_for(account)) if value and account else None
    if when is not None:
        return f"on {format_date(when)}", when.isoformat()
    if "tonight" in text or "this evening" in text:
        return "this evening", None
    if "tomorrow" in text or "tmrw" in text:
        return "tomorrow", None
    return "later", None


class ActionRecordCallback(Action):
    """A request to talk later: recorded with when, which `utter_later_recorded` says."""

    def name(self) -> str:
        return "action_record_callback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        account = tracker_account(tracker)
        said, on = callback_when(tracker, account)
        if account is not None:
            flag_account(
                account.account_ref,
                "callback_requested",
                event_kind="request_later",
                debtor_words=words(tracker),
                detail={"when": on, "said": said},
                sender_id=tracker.sender_id,
            )
        return [SlotSet("callback_when", said), *close()]


class ActionHandOver(RecordingAction):
    """A person takes over at the debtor's request: the account is flagged and the bot
    stops predicting until an operator resumes."""

    vulnerable = False

    def name(self) -> str:
        return "action_hand_over"

    def record(self, account: AccountView, tracker: Tracker) -> list[EventType]:
        if self.vulnerable:
            flag_account(
                account.account_ref,
                "vulnerable",
                event_kind="vulnerability",
                debtor_words=words(tracker),
                sender_id=tracker.sender_id,
            )
        flag_account(
            account.account_ref,
            "handoff",
            event_kind="handoff",
            debtor_words=None if self.vulnerable else words(tracker),
            detail={"reason": "vulnerability" if self.vulnerable else "request_human"},
            sender_id=tracker.sender_id,
        )
        return [ConversationPaused()]


class ActionHandOverCrisis(ActionHandOver):
    """A crisis (bereavement, self-harm, severe illness): flagged `vulnerable` as well."""

    vulnerable = True

    def name(self) -> str:
        return "action_hand_over_crisis"
