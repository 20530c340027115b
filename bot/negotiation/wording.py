"""The engine's English: plain, kind, factual descriptions of amounts, dates and plans.

Messages state exact amounts and dates and never threaten; they are what the bot says, so
they avoid jargon ("installment", "deferral") in favour of everyday words.
"""

from __future__ import annotations

import datetime

from bot.negotiation.money import format_money
from bot.negotiation.plans import Option
from bot.negotiation.policy import Frequency

# Fixed English month names: strftime("%B") would follow the server's locale.
_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip

_PER_PERIOD = {
    Frequency.WEEKLY: "a week",
    Frequency.BIWEEKLY: "every two weeks",
    Frequency.MONTHLY: "a month",
}


def format_date(day: datetime.date) -> str:
    """A date as "March 8, 2024"."""
    return f"{_MONTHS[day.month - 1]} {day.day}, {day.year}"


def sentence(text: str) -> str:
    """``text`` with its first letter capitalised (str.capitalize would lower the rest)."""
    return text[:1].upper() + text[1:]


def per_period(frequency: Frequency) -> str:
    """How often a payment recurs, as a phrase: "a month", "every two weeks", "a week"."""
    return _PER_PERIOD[frequency]


def rate(amount_text: str, frequency: Frequency) -> str:
    """An amount per period, e.g. "$45.00 a month"."""
    return f"{amount_text} {per_period(frequency)}"


def describe_payments(option: Option) -> str:
    """The option's payments in words: "8 payments of $150.00 a month, from December 5,
    2026 to July 5, 2027" (with "(the last one $100.00)" when it differs)."""
    schedule = option.schedule
    money = option.currency
    if not schedule:
        return "a person reviews your situation with you before any payment"
    first, last = schedule[0], schedule[-1]
    if len(schedule) == 1:
        label = "a one-off settlement payment" if option.settlement else "one payment"
        return f"{label} of {format_money(first.amount, money)} on {format_date(first.due_date)}"
    regular = format_money(first.amount, money)
    if option.frequency is not None:
        regular = rate(regular, option.frequency)
    text = (
        f"{len(schedule)} payments of {regular}, "
        f"from {format_date(first.due_date)} to {format_date(last.due_date)}"
    )
    if last.amount != first.amount:
        text += f" (the last one {format_money(last.amount, money)})"
    return text


def describe_option(option: Option) -> str:
    """A whole option in words, exact amounts and dates, a pause before payments included:
    "a pause until January 27, 2027, then 8 payments of $150.00 a month, from ...".

    Every message about a plan (the options, a counter-offer, the terms to confirm, the
    written agreement) words it here, so the debtor reads the same plan the same way."""
    if option.kind == "deferral" and option.deferred_until is not None:
        return (
            f"a pause until {format_date(option.deferred_until)}, then {describe_payments(option)}"
        )
    return describe_payments(option)


def options_list(options: list[Option]) -> str:
    """Numbered options, one per line."""
    return "\n".join(f"{n}) {sentence(describe_option(o))}" for n, o in enumerate(options, start=1))


def recommended_offer(options: list[Option]) -> str:
    """One recommended plan (the first) that a plain "yes" can accept, then the others."""
    text = f"I'd suggest: {describe_option(options[0])}."
    if len(options) > 1:
        others = "\n".join(
            f"{n}) {sentence(describe_option(o))}" for n, o in enumerate(options[1:], start=2)
        )
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


def agreement_confirmation(reference: str, option: Option, created_on: datetime.date) -> str:
    """The written confirmation sent once the agreement is stored."""
    return (
        f"Done. Your agreement reference is {reference} (made {format_date(created_on)}): "
        f"{describe_option(option)}. Total {format_money(option.total, option.currency)}."
    )


_PAYMENTS = {
    Frequency.WEEKLY: "weekly payments",
    Frequency.BIWEEKLY: "payments every two weeks",
    Frequency.MONTHLY: "monthly payments",
}


def payments_phrase(frequency: Frequency) -> str:
    """Payments at a frequency as a noun phrase: "weekly payments"."""
    return _PAYMENTS[frequency]
