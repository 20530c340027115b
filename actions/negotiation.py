"""The negotiation's business steps, once identity is checked. Rules choose which runs
(data/rules/negotiation.yml, by intent and `stage`); each does one step and says only
what that step produces (terms, a decision, the options), never what comes next by intent.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import (
    first_entity,
    known_finances,
    latest_text,
    tracker_account,
)
from actions.finances import income_told
from actions.offers import (
    REQUEST_KINDS,
    answer_request,
    confirm_proposal,
    offered_options,
    present_offers,
    propose,
    request_from_tracker,
    unclear_request,
)
from actions.records import record_event
from actions.respond import Turn, finish, pick_named, turn_for
from actions.state import with_stage
from bot.negotiation.wording import format_date
from bot.nlu.normalize import parse_hardship

# Requests answered without the budget: the balance alone decides them.
WITHOUT_BUDGET = {"pay_in_full", "settlement"}
_OPTION_NUMBER = re.compile(r"^\W*#?\s*[1-9]\W*$")


class Step(Action, ABC):
    """One negotiation step on a Turn; the events end with `next_step` and `stage`."""

    @abstractmethod
    def step(self, turn: Turn) -> None:
        """Do the step: what it says goes to the dispatcher, its events to the turn."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        turn = turn_for(dispatcher, tracker)
        if turn.account is None or not turn.verified:
            # Rules only run these once identity is checked; a story that says otherwise
            # gets nothing about the debt.
            turn.say("utter_verify_first")
            turn.end()
            return finish(turn)
        self.step(turn)
        return with_stage(tracker, finish(turn))


def offers_or_budget(turn: Turn) -> None:
    """The options that fit the budget, or the budget questions first."""
    if known_finances(turn.tracker) is None:
        turn.next_step = "finances"
        return
    turn.events += present_offers(turn.dispatcher, turn.tracker, turn.account)
    turn.end()


class ActionEvaluateRequest(Step):
    """The debtor's own proposal: a payment ("50 a month", "100 on friday"), a deferral, a
    settlement, paying in full. Accepted, countered or refused by the engine; kept for
    after the budget questions when it needs the budget."""

    def name(self) -> str:
        return "action_evaluate_request"

    def step(self, turn: Turn) -> None:
        assert turn.account is not None
        if turn.intent == "inform" and not self._is_a_request(turn):
            return
        # An unclear message reaches this step when it can only be a request for terms.
        intent = unclear_request(turn.tracker.latest_message) or turn.intent
        kind = REQUEST_KINDS.get(intent, "payment")
        request = request_from_tracker(turn.tracker, kind)
        if kind not in WITHOUT_BUDGET and known_finances(turn.tracker) is None:
            turn.events.append(SlotSet("pending_request", request))
            turn.next_step = "finances"
            return
        turn.events += answer_request(turn.dispatcher, turn.tracker, turn.account, request)
        turn.end()

    @staticmethod
    def _is_a_request(turn: Turn) -> bool:
        """A bare "inform" is a request when it carries an amount, or a date while terms
        are on the table; a number right after the options is a choice; an amount told as
        what comes in (actions.finances.income_told) is a budget answer; else the options
        (or the budget questions) come next."""
        tracker = turn.tracker
        if tracker.get_slot("offers") and _OPTION_NUMBER.match(turn.text):
            if not pick_named(turn):
                ActionPickOption.not_named(turn)
            return False
        amount = first_entity(tracker, "amount")
        if amount is None and pick_named(turn):
            return False
        on_table = tracker.get_slot("proposal") or tracker.get_slot("offers")
        told = {} if on_table or known_finances(tracker) else income_told(tracker)
        if told:
            # What comes in, told before it was asked: kept, and the budget goes on.
            turn.events += [SlotSet(slot, value) for slot, value in told.items()]
            turn.next_step = "finances"
            return False
        if amount is not None or (first_entity(tracker, "date") is not None and on_table):
            return True
        offers_or_budget(turn)
        return False


class ActionPickOption(Step):
    """ "The first one", "the monthly one", "can I pay monthly?": the option it names,
    with its exact terms; if none is named, which one."""

    def name(self) -> str:
        return "action_pick_option"

    def step(self, turn: Turn) -> None:
        if not pick_named(turn):
            self.not_named(turn)

    @staticmethod
    def not_named(turn: Turn) -> None:
        count = len(offered_options(turn.tracker))
        turn.dispatcher.utter_message(
            text=f"Sorry, which one did you mean? Reply with a number from 1 to {count}."
        )
        turn.end()


class ActionProposeRecommended(Step):
    """A yes to the options accepts the recommended plan (the first): its exact terms
    come next, and only a plain yes to those stores anything."""

    def name(self) -> str:
        return "action_propose_recommended"

    def step(self, turn: Turn) -> None:
        options = offered_options(turn.tracker)
        assert turn.account is not None
        if not options:
            offers_or_budget(turn)
            return
        turn.events += propose(turn.dispatcher, turn.account, options[0])
        turn.end()


class ActionConfirmProposal(Step):
    """The explicit yes to exact terms: the agreement, stored once, in writing."""

    def name(self) -> str:
        return "action_confirm_proposal"

    def step(self, turn: Turn) -> None:
        assert turn.account is not None
        # confirm_proposal stores nothing without a plain yes to the exact terms.
        turn.events += confirm_proposal(turn.dispatcher, turn.tracker, turn.account)
        turn.end()


class ActionWithdrawProposal(Step):
    """A no to the terms on the table: they are withdrawn (the options stay)."""

    def name(self) -> str:
        return "action_withdraw_proposal"

    def step(self, turn: Turn) -> None:
        turn.events.append(SlotSet("proposal", None))
        turn.end()


class ActionShowOptions(Step):
    """The options that fit the budget (or the budget questions first)."""

    def name(self) -> str:
        return "action_show_options"

    def step(self, turn: Turn) -> None:
        offers_or_budget(turn)


class ActionTellDebtDetails(Action):
    """What the debt is: creditor, reference, balance, since when (action_resume follows)."""

    def name(self) -> str:
        return "action_tell_debt_details"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        account = tracker_account(tracker)
        if account is None or not tracker.get_slot("verified"):
            dispatcher.utter_message(response="utter_verify_first")
            return []
        due = f", due since {format_date(account.due_date)}" if account.due_date else ""
        dispatcher.utter_message(
            text=(
                f"Your account with {account.creditor} (reference {account.account_ref}) has "
                f"a balance of {account.balance_text}{due}. If anything about it looks wrong, "
                "tell me and I'll record a dispute."
            )
        )
        return []


class ActionNoteHardship(Action):
    """What the debtor is going through, kept in `hardship` (the reflection's wording in
    the domain depends on it) and, once verified, on the account for a person to see."""

    def name(self) -> str:
        return "action_note_hardship"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        text = latest_text(tracker)
        kind = first_entity(tracker, "hardship") or parse_hardship(text) or "other"
        account = tracker_account(tracker)
        if account is not None and tracker.get_slot("verified"):
            record_event(
                account.account_ref,
                "hardship",
                debtor_words=text[:2000],
                detail={"kind": kind},
                sender_id=tracker.sender_id,
            )
        return [SlotSet("hardship", kind)]
