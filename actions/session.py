"""Session start: find the account behind the sender's number, nothing verified yet."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import find_account, identity_of
from bot.settings import get_settings


class ActionSessionStart(Action):
    def name(self) -> str:
        return "action_session_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        events: list[EventType] = [SessionStarted()]
        metadata = tracker.get_slot("session_started_metadata")
        if metadata:
            events.append(SlotSet("session_started_metadata", metadata))
        # Look the number up by phone only: a new session never inherits an account_ref.
        account = find_account(tracker.sender_id)
        settings = get_settings()
        events += [
            SlotSet("account_known", account is not None),
            SlotSet("account_ref", account.account_ref if account else None),
            SlotSet("first_name", account.first_name if account else None),
            SlotSet("verified", False),
            SlotSet("identity", identity_of(account)),
            # Not the creditor's name: that would tell whoever holds the phone about the
            # debt. action_after_verification sets it at disclosure time.
            SlotSet("creditor", "us"),
            SlotSet("support_phone", settings.support_phone),
            SlotSet("support_url", settings.support_url),
            SlotSet("next_step", "listen"),
            ActionExecuted("action_listen"),
        ]
        return events
