"""How a turn ends, and the answer to thanks, chatter and unclear messages.

Rules (data/rules/) choose the answer to almost every message: responses from the domain
and one-step actions (actions/contact.py, negotiation.py...). Two things stay here:

- `Turn` and `finish`: a step's outcome as events, ending with `next_step`, which
  data/rules/next_step.yml turns into a form or a wait;
- `action_resume` (after an aside: the open form asks again, or identity comes next) and
  `action_respond`, reached from two intents only (out_of_scope, nlu_fallback), whose
  meaning depends on where we are: "not great tbh" answers the open question, chatter while options are on the table gets the way back to them, and an
  unclear message that might be a stop request, a wrong person, a dispute or a crisis
  starts the yes/no check (data/rules/safety_check.yml).
"""

from __future__ import annotations

import logging
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
    offered_options,
    propose,
    unclear_request,
)
from actions.safety_check import candidate_to_check
from actions.state import with_stage
from bot.dialogue.texts import choose_option

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
        if pick_named(turn):
            return
        # Chatter while options are on the table: a gentle way back to them.
        turn.say("utter_back_to_options")
        return
    turn.say("utter_default")


def turn_for(dispatcher: CollectingDispatcher, tracker: Tracker) -> Turn:
    """The Turn of the latest message, for an action to work on."""
    return Turn(
        dispatcher=dispatcher,
        tracker=tracker,
        account=tracker_account(tracker),
        intent=latest_intent(tracker) or "nlu_fallback",
        text=latest_text(tracker),
    )


def pick_named(turn: Turn) -> bool:
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


def _picks_an_option(turn: Turn) -> bool:
    """With options on the table, an unclear message that names one ("id rather just get
    it done in a single go and be finished with it") picks it, even if a wrong person, a
    dispute or a crisis was among the NLU's guesses: its exact terms come next and need
    a plain yes. A possible stop request is still checked first."""
    if not (turn.verified and turn.tracker.get_slot("offers")):
        return False
    if turn.tracker.get_slot("proposal"):
        return False
    if candidate_to_check(turn.tracker.latest_message) == "request_stop_contact":
        return False
    return pick_named(turn)


def respond(turn: Turn) -> None:
    """Chatter and unclear messages: what they mean depends on where we are."""
    if _picks_an_option(turn) or _ask_safety_check(turn):
        return
    if turn.account is None:
        turn.say("utter_default")
        turn.end()
        return
    if not turn.verified and turn.account.identity_locked:
        # Locked in the database after too many wrong dates of birth: no new session,
        # restart or channel gets another guess; an operator unlocks.
        turn.say("utter_verification_failed")
        turn.end()
        return
    if turn.verified and unclear_request(turn.tracker.latest_message):
        # Torn between two requests for terms ("ill just pay the whole 150 friday"):
        # action_evaluate_request answers it (data/rules/next_step.yml).
        turn.next_step = "evaluate"
        return
    handle_default(turn)
    if not turn.verified:
        then_verify(turn)


class ActionRespond(Action):
    def name(self) -> str:
        return "action_respond"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        turn = turn_for(dispatcher, tracker)
        respond(turn)
        return with_stage(tracker, finish(turn))


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
        turn = turn_for(dispatcher, tracker)
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
