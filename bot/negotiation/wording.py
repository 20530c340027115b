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
    """The option's payments in words, e.g. "12 payments: $100.00 a month from ... to ..."."""
    schedule = option.schedule
    money = option.currency
    if not schedule:
        return "payments to be agreed with a person before then"
    first = schedule[0]
    if len(schedule) == 1:
        return (
            f"one payment of {format_money(first.amount, money)} on {format_date(first.due_date)}"
        )
    last = schedule[-1]
    regular = format_money(first.amount, money)
    if option.frequency is not None:
        regular = rate(regular, option.frequency)
    if last.amount == first.amount:
        return (
            f"{len(schedule)} payments: {regular} from {format_date(first.due_date)} "
            f"to {format_date(last.due_date)}"
        )
    return (
        f"{len(schedule)} payments: {regular} from {format_date(first.due_date)}, "
        f"and a last payment of {format_money(last.amount, money)} "
        f"on {format_date(last.due_date)}"
    )


def describe_option(option: Option) -> str:
    """A whole option in words, including a pause before payments start."""
    if option.kind == "deferral" and option.deferred_until is not None:
        return f"a pause with no payments until {format_date(option.deferred_until)}, " + (
            f"then {describe_payments(option)}"
            if option.schedule
            else "and before then a person will agree a plan with you that fits your budget"
        )
    return describe_payments(option)


_PAYMENTS = {
    Frequency.WEEKLY: "weekly payments",
    Frequency.BIWEEKLY: "payments every two weeks",
    Frequency.MONTHLY: "monthly payments",
}


def payments_phrase(frequency: Frequency) -> str:
    """Payments at a frequency as a noun phrase: "weekly payments"."""
    return _PAYMENTS[frequency]
