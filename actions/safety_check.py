"""A second look at unclear messages that might need a safe path.

When the NLU is unsure (nlu_fallback) and its top candidates include a stop request, a
wrong person, a dispute or a crisis, the bot asks a yes/no question instead of guessing
(the pattern of Rasa's two-stage fallback, limited to these four). A yes takes that path;
a no goes on; for a possible stop request an unclear answer counts as stop, because a
missed opt-out costs far more than an extra one.
"""

from __future__ import annotations

from typing import Any

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
_NO = ("no", "nope", "nah", "not really", "no thanks", "no thank you", "n", "dont", "don't")


def candidate_to_check(parse: dict[str, Any]) -> str | None:
    """The safety intent to ask about, for an unclear (fallback) parse; else None."""
    if (parse.get("intent") or {}).get("name") != "nlu_fallback":
        return None
    ranking = [r for r in parse.get("intent_ranking") or [] if r.get("name") != "nlu_fallback"]
    for candidate in ranking[:TOP_CANDIDATES]:
        if (
            candidate.get("name") in CHECKED_INTENTS
            and float(candidate.get("confidence") or 0) >= MIN_CONFIDENCE
        ):
            return str(candidate["name"])
    return None


def answer_to_check(checked: str, intent: str | None, text: str) -> str:
    """'yes', 'no' or 'unclear' (a stop check reads 'unclear' as 'yes')."""
    words = (text or "").strip().lower().rstrip(".!")
    if intent == "deny" or words in _NO:
        return "no"
    if intent == "affirm" or is_explicit_yes(text) or intent == checked:
        return "yes"
    return "yes" if checked == "request_stop_contact" else "unclear"
