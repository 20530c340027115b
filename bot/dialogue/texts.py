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


def choose_option(options: list[Option], text: str, frequency: str | None) -> Option | None:
    """The option a debtor picked by number ("2", "the second one") or by kind/frequency."""
    import re

    lowered = text.lower()
    ordinals = {
        "first": 1,
        "1st": 1,
        "one": 1,
        "second": 2,
        "2nd": 2,
        "two": 2,
        "third": 3,
        "3rd": 3,
        "three": 3,
    }
    match = re.search(r"\b([1-9])\b", lowered)
    number = int(match.group(1)) if match else None
    if number is None:
        for word, value in ordinals.items():
            if re.search(rf"\b{word}\b", lowered):
                number = value
                break
    if number is not None:
        return options[number - 1] if 1 <= number <= len(options) else None
    if frequency:
        for option in options:
            if (
                option.kind == "installment"
                and option.frequency
                and option.frequency.value == frequency
            ):
                return option
    for words, kind in (
        (("pause", "defer", "later", "wait"), "deferral"),
        (("full", "all", "whole", "once", "one payment", "lump"), "full"),
    ):
        if any(w in lowered for w in words):
            for option in options:
                if option.kind == kind:
                    return option
    return None
