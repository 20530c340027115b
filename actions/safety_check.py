"""A second look at unclear messages that might need a safe path.

When the NLU is unsure (nlu_fallback) and its top candidates include a stop request, a
wrong person, a dispute or a crisis, the bot asks a yes/no question instead of guessing
(the pattern of Rasa's two-stage fallback, limited to these four). A yes takes that path;
a no goes on; for a possible stop request an unclear answer counts as stop, because a
missed opt-out costs far more than an extra one.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from bot.dialogue.confirmation import is_explicit_yes

CHECKED_INTENTS = (
    "request_stop_contact",
    "wrong_person",
    "dispute_debt",
    "express_vulnerability",
)
# How far down the NLU's ranking a candidate may be, and how unlikely it may look.
TOP_CANDIDATES = 3
MIN_CONFIDENCE = 0.1
# A crisis needs more before it is asked about. On the development sets of 2026-12-03
# (bench.dev_sets, 292 crises) every crisis that fell back had the crisis at 0.28 or more,
# while everyday replies in the budget questions ("why do u need to know what i make??",
# "im ok. what do i need to do") fell back with a crisis at 0.12 to 0.18 and were asked
# whether they were OK. A wrong person keeps the low floor: "who's gary?" fell back with
# wrong_person at 0.12.
MIN_CONFIDENCE_BY_INTENT = {"express_vulnerability": 0.2}
_NO = ("no", "nope", "nah", "not really", "no thanks", "no thank you", "n", "dont", "don't")


def candidate_to_check(parse: dict[str, Any]) -> str | None:
    """The safety intent to ask about, for an unclear (fallback) parse; else None."""
    if (parse.get("intent") or {}).get("name") != "nlu_fallback":
        return None
    ranking = [r for r in parse.get("intent_ranking") or [] if r.get("name") != "nlu_fallback"]
    for candidate in ranking[:TOP_CANDIDATES]:
        name = str(candidate.get("name"))
        floor = MIN_CONFIDENCE_BY_INTENT.get(name, MIN_CONFIDENCE)
        if name in CHECKED_INTENTS and float(candidate.get("confidence") or 0) >= floor:
            return name
    return None


def answer_to_check(checked: str, intent: str | None, text: str) -> str:
    """'yes', 'no' or 'unclear' (a stop check reads 'unclear' as 'yes')."""
    words = (text or "").strip().lower().rstrip(".!")
    if intent == "deny" or words in _NO:
        return "no"
    if intent == "affirm" or is_explicit_yes(text) or intent == checked:
        return "yes"
    return "yes" if checked == "request_stop_contact" else "unclear"


def path_for(checked: str, intent: str | None, text: str) -> str:
    """Where the answer to a check leads: the checked path on a yes (and on an unclear
    answer to a possible stop), the path an answer states itself ("no, but I can't cope
    any more" is a crisis), else `no`: the conversation goes on."""
    answer = answer_to_check(checked, intent, text)
    if answer == "yes":
        return checked
    if answer == "unclear" and intent in CHECKED_INTENTS:
        return str(intent)
    return "no"


class ValidateSafetyCheckForm(FormValidationAction):
    """safety_check_form takes whatever the debtor replies to the yes/no check (a form is
    the one place Rasa hands the next message over whatever its intent); the rules in
    data/rules/safety_check.yml take the path this chooses."""

    def name(self) -> str:
        return "validate_safety_check_form"

    def validate_safety_answer(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        checked = str(tracker.get_slot("safety_check") or "")
        if checked not in CHECKED_INTENTS:
            return {"safety_answer": "no"}
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        text = str(tracker.latest_message.get("text") or "")
        return {"safety_answer": path_for(checked, intent, text), "safety_check": None}
