"""Compose the bot's messages about options and agreements (pure, no I/O)."""

from __future__ import annotations

from datetime import date

from bot.negotiation import Frequency, Option, format_money
from bot.negotiation.wording import format_date

_FREQUENCY_WORDS = {
    Frequency.WEEKLY: ("weekly", "a week"),
    Frequency.BIWEEKLY: ("every-two-weeks", "every two weeks"),
    Frequency.MONTHLY: ("monthly", "a month"),
}


def describe_option(option: Option) -> str:
    """One option in plain words with exact amounts and dates."""
    money = option.currency
    schedule = option.schedule
    if option.kind == "full":
        label = "One payment" if not option.settlement else "A one-off settlement payment"
        return (
            f"{label} of {format_money(option.total, money)} on {format_date(schedule[0].due_date)}"
        )
    if option.kind == "installment":
        assert option.frequency is not None
        per = _FREQUENCY_WORDS[option.frequency][1]
        first, last = schedule[0], schedule[-1]
        text = (
            f"{len(schedule)} payments of {format_money(first.amount, money)} {per}, "
            f"from {format_date(first.due_date)} to {format_date(last.due_date)}"
        )
        if last.amount != first.amount:
            text += f" (the last one {format_money(last.amount, money)})"
        return text
    # deferral
    assert option.deferred_until is not None
    pause = f"A pause until {format_date(option.deferred_until)}"
    if not schedule:
        return f"{pause}, then a person reviews your situation with you before any payment"
    if len(schedule) == 1:
        return f"{pause}, then one payment of {format_money(schedule[0].amount, money)}"
    first, last = schedule[0], schedule[-1]
    per = _FREQUENCY_WORDS[option.frequency][1] if option.frequency else ""
    return (
        f"{pause}, then {len(schedule)} payments of {format_money(first.amount, money)} {per} "
        f"to {format_date(last.due_date)}"
    ).replace("  ", " ")


def options_list(options: list[Option]) -> str:
    """Numbered options, one per line."""
    return "\n".join(f"{n}) {describe_option(o)}" for n, o in enumerate(options, start=1))


def recommended_offer(options: list[Option]) -> str:
    """One recommended plan (the first) that a plain "yes" can accept, then the others."""
    text = f"I'd suggest: {describe_option(options[0])}."
    if len(options) > 1:
        others = "\n".join(f"{n}) {describe_option(o)}" for n, o in enumerate(options[1:], start=2))
        text += f"\nOther options:\n{others}"
    return text


def confirmation_request(option: Option) -> str:
    """The exact terms, before asking for an explicit yes."""
    lines = [f"To confirm: {describe_option(option)}."]
    # Every date is listed for short plans; longer ones read better as first/last.
    if option.schedule and 1 < len(option.schedule) <= 4:
        dates = ", ".join(
            f"{format_date(p.due_date)} {format_money(p.amount, option.currency)}"
            for p in option.schedule
        )
        lines.append(f"Payment dates: {dates}.")
    lines.append(f"Total: {format_money(option.total, option.currency)}.")
    return " ".join(lines)


def agreement_confirmation(reference: str, option: Option, created_on: date) -> str:
    """The written confirmation sent once the agreement is stored."""
    return (
        f"Done. Your agreement reference is {reference} (made {format_date(created_on)}): "
        f"{describe_option(option)}. Total {format_money(option.total, option.currency)}."
    )


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
