"""Which option a debtor picked (pure, no I/O).

Plans are worded in one module, bot/negotiation/wording.py; the names below are kept for
the callers that import them from here.
"""

from __future__ import annotations

from bot.negotiation import Option
from bot.negotiation.wording import (
    agreement_confirmation,
    confirmation_request,
    describe_option,
    options_list,
    recommended_offer,
)

__all__ = [
    "agreement_confirmation",
    "choose_option",
    "confirmation_request",
    "describe_option",
    "options_list",
    "recommended_offer",
]

_ORDINALS = {
    "first": 1, "1st": 1, "one": 1,
    "second": 2, "2nd": 2, "two": 2,
    "third": 3, "3rd": 3, "three": 3,
}  # fmt: skip
_FREQUENCY_PHRASES = (
    (r"\b(bi-?weekly|fortnight(ly)?|every (two|2) weeks|every other week)\b", "biweekly"),
    (r"\b(weekly|a week|per week|each week|every week)\b", "weekly"),
    (r"\b(monthly|a month|per month|each month|every month)\b", "monthly"),
)
_KIND_WORDS = (
    (("pause", "defer", "break", "wait"), "deferral"),
    (("in full", "full", "all of it", "whole", "one payment", "single payment", "lump", "at once",
      "one go", "single go", "all in one", "pay it off", "get it done"), "full"),
)  # fmt: skip


def choose_option(options: list[Option], text: str, frequency: str | None) -> Option | None:
    """The option a debtor picked: by number ("2"), by what it is ("the monthly one",
    "the pause", "all at once"), or by position in words ("the second one").

    What an option *is* wins over the word "one": "the pause one" is the pause, not 1.
    """
    import re

    lowered = text.lower()
    digit = re.search(r"(?<![\d.,$])\b([1-9])\b(?![\d.,])", lowered)
    if digit:
        number = int(digit.group(1))
        return options[number - 1] if 1 <= number <= len(options) else None
    # The debtor's own words first ("every other friday, so the biweekly one"), then the
    # NLU's normalised frequency.
    wanted = next((f for pattern, f in _FREQUENCY_PHRASES if re.search(pattern, lowered)), None)
    wanted = wanted or frequency
    if wanted:
        for option in options:
            if (
                option.kind == "installment"
                and option.frequency
                and option.frequency.value == wanted
            ):
                return option
        # A frequency that is not on offer picks nothing (the bot says what is).
        return None
    for words, kind in _KIND_WORDS:
        if any(re.search(rf"\b{re.escape(w)}\b", lowered) for w in words):
            for option in options:
                if option.kind == kind:
                    return option
    # "second"/"2nd" before "one": in "the second one" the position is the second.
    for word, value in sorted(
        _ORDINALS.items(), key=lambda item: item[0] in ("one", "two", "three")
    ):
        if re.search(rf"\b{word}\b", lowered):
            return options[value - 1] if value <= len(options) else None
    return None
