"""`action_respond`: the bot's answer to a debtor message outside the forms' happy path.

Rules map every intent here. The answer depends on who we are talking to (unknown
number, unverified, verified, paused) and what is on the table. It sets `next_step`,
which the rules read to start or resume a form, or to wait for the debtor.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import (
    AccountView,
    first_entity,
    known_finances,
    latest_intent,
    latest_text,
    tracker_account,
    utter,
)
from actions.offers import (
    answer_request,
    confirm_proposal,
    offered_options,
    present_offers,
    propose,
    request_from_tracker,
)
from actions.records import record_event
from actions.safety_check import candidate_to_check
from bot.dialogue.texts import choose_option
from bot.negotiation.wording import format_date
from bot.nlu.normalize import parse_hardship

logger = logging.getLogger(__name__)

FORM_FOR_STEP = {
    "verify": "verify_identity_form",
    "finances": "finances_form",
    "payment_details": "payment_details_form",
    "safety_check": "safety_check_form",
}
STEP_FOR_FORM = {form: step for step, form in FORM_FOR_STEP.items()}


@dataclass
class Turn:
    """Everything a handler needs about the message it answers."""

    dispatcher: CollectingDispatcher
    tracker: Tracker
    account: AccountView | None
    intent: str
    text: str
    events: list[EventType] = field(default_factory=list)
    # None: resume the active form if there is one, else listen.
    next_step: str | None = None

    @property
    def verified(self) -> bool:
        return bool(self.tracker.get_slot("verified")) and self.account is not None

    @property
    def active_form(self) -> str | None:
        return self.tracker.active_loop.get("name") if self.tracker.active_loop else None

    def say(self, response: str, **extra: Any) -> None:
        utter(self.dispatcher, response, self.account, disclose=self.verified, **extra)

    def end(self) -> None:
        """Stop here: close any open form and wait for the debtor."""
        self.next_step = "listen"

    def words(self) -> str:
        return self.text[:2000]


Handler = Callable[[Turn], None]


# --- answers that depend on what is on the table -----------------------------------


def _answers_the_open_question(turn: Turn) -> bool:
    """Verified, nothing on the table yet: whatever the debtor says now ("not great tbh",
    "fine thx", "what do you want") answers "how are things going?", so the bot listens
    and moves on to the budget instead of saying it cannot help."""
    tracker = turn.tracker
    return (
        turn.verified
        and turn.active_form is None
        and turn.account is not None
        and not turn.account.paused
        and not tracker.get_slot("offers")
        and not tracker.get_slot("proposal")
        and not tracker.get_slot("agreement_ref")
        and known_finances(tracker) is None
    )


def handle_thanks(turn: Turn) -> None:
    if _answers_the_open_question(turn):
        turn.say("utter_listen_ack")
        turn.next_step = "finances"
        return
    turn.say("utter_youre_welcome")


def handle_default(turn: Turn) -> None:
    if (
        turn.account is not None
        and not turn.verified
        and not turn.account.identity_locked
        and turn.active_form is None
    ):
        # Whatever a first message says, the answer starts with who we are and identity.
        turn.say("utter_greet_unverified")
        turn.next_step = "verify"
        return
    if _answers_the_open_question(turn):
        turn.say("utter_listen_ack")
        turn.next_step = "finances"
        return
    if turn.verified and turn.tracker.get_slot("offers") and not turn.tracker.get_slot("proposal"):
        if _pick_if_named(turn):
            return
        # Chatter while options are on the table: a gentle way back to them.
        turn.say("utter_back_to_options")
        return
    turn.say("utter_default")


ALWAYS: dict[str, Handler] = {
    "thank": handle_thanks,
    "out_of_scope": handle_default,
    "nlu_fallback": handle_default,
}


# --- verified conversation ---------------------------------------------------------------

NEGOTIATION_INTENTS = {
    "ask_installments",
    "ask_payment_methods",
    "ask_deferral",
    "ask_settlement",
    "offer_payment",
    "pay_in_full",
    "choose_option",
    "affirm",
    "deny",
    "inform",
    "explain_hardship",
}


def handle_debt_details(turn: Turn) -> None:
    account = turn.account
    assert account is not None
    due = f", due since {format_date(account.due_date)}" if account.due_date else ""
    turn.dispatcher.utter_message(
        text=(
            f"Your account with {account.creditor} (reference {account.account_ref}) has a "
            f"balance of {account.balance_text}{due}. If anything about it looks wrong, tell me "
            "and I'll record a dispute."
        )
    )


def handle_greet_verified(turn: Turn) -> None:
    turn.say("utter_greet_again")


def _offers_or_finances(turn: Turn) -> None:
    if known_finances(turn.tracker) is None:
        turn.next_step = "finances"
        return
    turn.events += present_offers(turn.dispatcher, turn.tracker, turn.account)
    turn.end()


def _pick_if_named(turn: Turn) -> bool:
    """With options on the table, a message that names one ("the biweekly one", "in a
    single go", "monthly pls") picks it, whatever intent the NLU gave it."""
    options = offered_options(turn.tracker)
    if not options or turn.account is None:
        return False
    picked = choose_option(options, turn.text, first_entity(turn.tracker, "frequency"))
    if picked is None:
        return False
    turn.events += propose(turn.dispatcher, turn.account, picked)
    turn.end()
    return True


def handle_installments(turn: Turn) -> None:
    """ "Can I pay monthly?" with options on the table points to the matching one."""
    if not _pick_if_named(turn):
        _offers_or_finances(turn)


def handle_hardship(turn: Turn) -> None:
    kind = first_entity(turn.tracker, "hardship") or parse_hardship(turn.text) or "other"
    turn.say(f"utter_reflect_{kind}")
    turn.say("utter_hardship_support")
    assert turn.account is not None
    record_event(
        turn.account.account_ref,
        "hardship",
        debtor_words=turn.words(),
        detail={"kind": kind},
        sender_id=turn.tracker.sender_id,
    )
    turn.events.append(SlotSet("hardship", kind))
    _offers_or_finances(turn)


def _request(turn: Turn, kind: str) -> None:
    """A request that needs the debtor's budget first; kept until the form is done."""
    request = request_from_tracker(turn.tracker, kind)
    assert turn.account is not None
    if kind != "pay_in_full" and kind != "settlement" and known_finances(turn.tracker) is None:
        turn.events.append(SlotSet("pending_request", request))
        turn.next_step = "finances"
        return
    turn.events += answer_request(turn.dispatcher, turn.tracker, turn.account, request)
    turn.end()


def handle_choice(turn: Turn) -> None:
    options = offered_options(turn.tracker)
    if not options:
        _offers_or_finances(turn)
        return
    picked = choose_option(options, turn.text, first_entity(turn.tracker, "frequency"))
    if picked is None:
        turn.dispatcher.utter_message(
            text=f"Sorry, which one did you mean? Reply with a number from 1 to {len(options)}."
        )
        turn.end()
        return
    assert turn.account is not None
    turn.events += propose(turn.dispatcher, turn.account, picked)
    turn.end()


def handle_affirm(turn: Turn) -> None:
    assert turn.account is not None
    if turn.tracker.get_slot("proposal") or turn.tracker.get_slot("agreement_ref"):
        # confirm_proposal stores nothing without a plain yes to the exact terms.
        turn.events += confirm_proposal(turn.dispatcher, turn.tracker, turn.account)
        turn.end()
        return
    options = offered_options(turn.tracker)
    if options:
        # A yes to the options accepts the recommended plan (the first): its exact terms
        # come next, and only a plain yes to those stores anything.
        turn.events += propose(turn.dispatcher, turn.account, options[0])
        turn.end()
        return
    _offers_or_finances(turn)


def handle_deny(turn: Turn) -> None:
    turn.events.append(SlotSet("proposal", None))
    turn.say("utter_ask_what_works")
    turn.end()


_OPTION_NUMBER = re.compile(r"^\W*#?\s*[1-9]\W*$")


def handle_inform(turn: Turn) -> None:
    # "2" right after the numbered options is a choice, not a $2 offer.
    if turn.tracker.get_slot("offers") and _OPTION_NUMBER.match(turn.text):
        handle_choice(turn)
        return
    if first_entity(turn.tracker, "amount") is None and _pick_if_named(turn):
        return
    # An amount or a date is a proposal ("i can pay 50"), or a change to the terms on the
    # table; it is answered after the budget is known, never dropped.
    if first_entity(turn.tracker, "amount") is not None or (
        first_entity(turn.tracker, "date") is not None
        and (turn.tracker.get_slot("proposal") or turn.tracker.get_slot("offers"))
    ):
        _request(turn, "payment")
        return
    _offers_or_finances(turn)


VERIFIED: dict[str, Handler] = {
    "greet": handle_greet_verified,
    "ask_debt_details": handle_debt_details,
    "explain_hardship": handle_hardship,
    "ask_installments": handle_installments,
    "ask_deferral": lambda turn: _request(turn, "deferral"),
    "ask_settlement": lambda turn: _request(turn, "settlement"),
    "offer_payment": lambda turn: _request(turn, "payment"),
    "pay_in_full": lambda turn: _request(turn, "pay_in_full"),
    "choose_option": handle_choice,
    "affirm": handle_affirm,
    "deny": handle_deny,
    "inform": handle_inform,
}


# Answered before identity is checked, after which the bot still needs to know who it
# is talking to: the answer is followed by the introduction and the identity question.
_THEN_VERIFY = {"thank"}


def _ask_safety_check(turn: Turn) -> bool:
    """An unclear message that might be a stop request, wrong person, dispute or crisis
    gets a yes/no question instead of a guess."""
    candidate = candidate_to_check(turn.tracker.latest_message)
    if candidate is None:
        return False
    # safety_check_form asks (utter_ask_safety_answer, worded for the candidate) and
    # takes the answer, whatever its intent.
    turn.events += [SlotSet("safety_check", candidate), SlotSet("safety_answer", None)]
    turn.next_step = "safety_check"
    return True


def respond(turn: Turn) -> None:
    """Pick the handler for this message given who we are talking to."""
    if _ask_safety_check(turn):
        return
    if turn.intent in ALWAYS:
        ALWAYS[turn.intent](turn)
        if turn.intent in _THEN_VERIFY:
            then_verify(turn)
        return
    account = turn.account
    if account is None:
        turn.say("utter_unknown_number")
        turn.end()
        return
    if not turn.verified:
        if account.identity_locked:
            # Locked in the database after too many wrong dates of birth: no new
            # session, restart or channel gets another guess; an operator unlocks.
            turn.say("utter_verification_failed")
            turn.end()
            return
        if turn.intent == "greet":
            turn.say("utter_greet_unverified")
        elif turn.intent == "explain_hardship":
            kind = first_entity(turn.tracker, "hardship") or parse_hardship(turn.text) or "other"
            turn.say(f"utter_reflect_{kind}")
            turn.say("utter_verify_first")
        else:
            turn.say("utter_verify_first")
        turn.next_step = "verify"
        return
    if account.paused and turn.intent in NEGOTIATION_INTENTS:
        turn.say("utter_paused")
        turn.end()
        return
    VERIFIED.get(turn.intent, handle_default)(turn)


class ActionRespond(Action):
    def name(self) -> str:
        return "action_respond"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        turn = Turn(
            dispatcher=dispatcher,
            tracker=tracker,
            account=tracker_account(tracker),
            intent=latest_intent(tracker) or "nlu_fallback",
            text=latest_text(tracker),
        )
        respond(turn)
        return finish(turn)


class ActionResume(Action):
    """After an answer the rules gave straight from the domain (a bot challenge, a question
    about payment methods...): how the conversation goes on. An open form asks again; a
    debtor whose identity is not checked yet hears who we are and the identity question;
    anyone else is listened to. Rules in data/rules/next_step.yml read `next_step`."""

    def name(self) -> str:
        return "action_resume"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        turn = Turn(
            dispatcher=dispatcher,
            tracker=tracker,
            account=tracker_account(tracker),
            intent=latest_intent(tracker) or "nlu_fallback",
            text=latest_text(tracker),
        )
        then_verify(turn)
        return finish(turn)


def then_verify(turn: Turn) -> None:
    """Someone we have not verified yet: back to who we are and the identity question."""
    if (
        turn.next_step is None
        and turn.account is not None
        and not turn.verified
        and not turn.account.identity_locked
    ):
        if turn.active_form is None:
            turn.say("utter_greet_unverified")
        turn.next_step = "verify"


def finish(turn: Turn) -> list[EventType]:
    """Turn the handler's outcome into events: which form (if any) runs next."""
    events = list(turn.events)
    step = turn.next_step
    active = turn.active_form
    if step is None:
        step = STEP_FOR_FORM.get(active or "", "listen")
    if any(isinstance(e, dict) and e.get("event") == "pause" for e in events):
        step = "listen"
    if active and FORM_FOR_STEP.get(step) != active:
        events += [ActiveLoop(None), SlotSet("requested_slot", None)]
    events.append(SlotSet("next_step", step))
    return events
