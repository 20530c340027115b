"""Reading the bot's messages as a texting debtor would: which question, which terms.

The bot states exact amounts and dates (bot/dialogue/texts.py, bot/negotiation/wording.py);
these functions turn such a sentence back into an :class:`~bot.negotiation.Option`, so the
simulated debtor can judge it with the same model as in the engine-only run, and so every
offer the bot makes can be checked against the affordability rule.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from decimal import Decimal

from bot.negotiation import Frequency, Installment, Option, installment_schedule

_MONEY = r"\$([\d,]+\.\d\d)"
_DATE = r"([A-Z][a-z]+ \d{1,2}, \d{4})"
_PER = r"(a month|every two weeks|a week)"
_FREQUENCIES = {
    "a month": Frequency.MONTHLY,
    "every two weeks": Frequency.BIWEEKLY,
    "a week": Frequency.WEEKLY,
}

_PLAN = re.compile(rf"(\d+) payments(?: of|:) {_MONEY} {_PER}(?:,)?(?: from {_DATE})?")
_LAST = re.compile(rf"(?:the last one|a last payment of) {_MONEY}")
_PAUSE = re.compile(
    rf"pause (?:with no payments )?(?:payments )?(?:is )?until {_DATE}", re.IGNORECASE
)
_ONE = re.compile(
    rf"(?:one(?:-off settlement)? payment of {_MONEY}|accept {_MONEY} as one payment)"
    rf"(?: on {_DATE})?",
    re.IGNORECASE,
)
_REVIEW = re.compile(r"person (?:reviews|will agree)", re.IGNORECASE)
_TOTAL = re.compile(rf"Total:? {_MONEY}")
_OPTION_LINE = re.compile(r"^\s*(\d)\)\s*(.+?)\s*$", re.MULTILINE)
_SUGGESTED = re.compile(r"I'd suggest:\s*(.+?)\.?\s*$", re.MULTILINE)
_CONFIRM = re.compile(r"To confirm: (.+?)\.(?: Payment dates:| Total:)")
_COUNTER = re.compile(
    r"(?:We can do|We can pause|The longest we can pause|We can accept)(.+)", re.IGNORECASE
)
_REFERENCE = re.compile(r"agreement reference is (PLY-[A-Z0-9]+)")


@dataclass(frozen=True)
class OfferedOption:
    """An option as the bot numbered it."""

    number: int
    text: str
    option: Option | None


def parse_date(text: str) -> datetime.date:
    """ "December 5, 2026" as a date."""
    return datetime.datetime.strptime(text, "%B %d, %Y").date()


def parse_money(text: str) -> Decimal:
    """ "1,200.00" as Decimal("1200.00")."""
    return Decimal(text.replace(",", ""))


def numbered_options(text: str, balance: Decimal, currency: str = "USD") -> list[OfferedOption]:
    """The options in a bot message: the recommended one ("I'd suggest: ...", option 1)
    and the numbered others ("2) 8 payments of ...")."""
    found = [
        OfferedOption(int(number), line, parse_terms(line, balance, currency))
        for number, line in _OPTION_LINE.findall(text)
    ]
    suggested = _SUGGESTED.search(text)
    if suggested and not any(o.number == 1 for o in found):
        line = suggested.group(1)
        found.insert(0, OfferedOption(1, line, parse_terms(line, balance, currency)))
    return found


def proposal(text: str, balance: Decimal, currency: str = "USD") -> Option | None:
    """The terms the bot asks a yes to: "To confirm: ..." or a counter-offer's "We can do ..."."""
    confirm = _CONFIRM.search(text)
    if confirm:
        total = _TOTAL.search(text[confirm.start() :])
        return parse_terms(
            confirm.group(1), balance, currency, parse_money(total.group(1)) if total else None
        )
    counter = _COUNTER.search(text)
    if counter:
        return parse_terms(counter.group(0), balance, currency)
    return None


def agreement_reference(text: str) -> str | None:
    """The reference in the bot's written confirmation, if this is one."""
    found = _REFERENCE.search(text)
    return found.group(1) if found else None


def parse_terms(
    text: str, balance: Decimal, currency: str = "USD", total: Decimal | None = None
) -> Option | None:
    """An option described in the bot's words, or None when the words are not terms."""
    try:
        return _parse(text, balance, currency, total)
    except (ValueError, ArithmeticError):
        return None


def _parse(text: str, balance: Decimal, currency: str, total: Decimal | None) -> Option | None:
    pause = _PAUSE.search(text)
    until = parse_date(pause.group(1)) if pause else None
    plan = _PLAN.search(text)
    if plan:
        count, amount = int(plan.group(1)), parse_money(plan.group(2))
        frequency = _FREQUENCIES[plan.group(3)]
        first = parse_date(plan.group(4)) if plan.group(4) else until
        if first is None:
            return None
        last = _LAST.search(text)
        if total is not None:
            plan_total = total
        elif last:
            plan_total = amount * (count - 1) + parse_money(last.group(1))
        elif until is not None:
            # A pause then a plan always covers the balance; its wording omits the last one.
            plan_total = balance
        else:
            plan_total = amount * count
        schedule = installment_schedule(plan_total, amount, frequency, first)
        if len(schedule) != count:
            return None
        return Option(
            kind="deferral" if until else "installment",
            total=plan_total,
            currency=currency,
            schedule=schedule,
            frequency=frequency,
            deferred_until=until,
        )
    one = _ONE.search(text)
    if one:
        amount = parse_money(one.group(1) or one.group(2))
        on = parse_date(one.group(3)) if one.group(3) else until
        if on is None:
            return None
        return Option(
            kind="deferral" if until else "full",
            total=amount,
            currency=currency,
            schedule=(Installment(on, amount),),
            deferred_until=until,
            settlement=until is None and amount < balance,
        )
    if until is not None and _REVIEW.search(text):
        return Option(
            kind="deferral",
            total=balance,
            currency=currency,
            schedule=(),
            deferred_until=until,
            requires_review=True,
        )
    return None
