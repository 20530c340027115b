"""How a simulated debtor judges a plan, what they counter with, and how plans break.

A debtor judges by their *real* money, not by what they told the bot: a plan is one they
can keep when its monthly payment is within the share of their real disposable income they
are prepared to commit; a single payment when it fits in their cash plus one month's
disposable income. Once agreed, a plan breaks with a monthly chance that rises with the
payment's share of real disposable income.
"""

from __future__ import annotations

import datetime
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from bot.negotiation import Option
from bot.simulation.assumptions import Assumptions
from bot.simulation.population import CENT, Debtor

# Debtors offer round sums: "I could do 80 a month".
COUNTER_STEP = Decimal("5")
_DAYS_PER_MONTH = Decimal("30.4375")
_MONTHS_PER_YEAR = 12


def is_one_off(option: Option) -> bool:
    """True for a single payment (in full, a settlement, or one payment after a pause)."""
    return len(option.schedule) == 1


def monthly_payment(option: Option) -> Decimal:
    """What the option asks each month: the regular payment scaled to a month; for a single
    payment, that payment. Zero for a pause awaiting a person's review."""
    if not option.schedule:
        return Decimal("0.00")
    first = option.schedule[0].amount
    if is_one_off(option) or option.frequency is None:
        return first
    return (first * option.frequency.periods_per_year / _MONTHS_PER_YEAR).quantize(CENT)


def disposable_during(debtor: Debtor, option: Option, today: datetime.date) -> Decimal:
    """The debtor's real monthly disposable income when payments start."""
    if not option.schedule:
        return debtor.disposable
    return debtor.disposable_from(today, option.schedule[0].due_date)


def money_needed(debtor: Debtor, option: Option) -> Decimal:
    """What the option takes out of monthly income: a single payment is met from cash first."""
    if is_one_off(option):
        return max(option.schedule[0].amount - debtor.lump_sum, Decimal("0.00"))
    return monthly_payment(option)


def burden_share(debtor: Debtor, option: Option, today: datetime.date) -> Decimal | None:
    """The payment as a share of real disposable income; None when it cannot be met at all
    (nothing is left and the payment is not covered by cash)."""
    needed = money_needed(debtor, option)
    if needed == 0:
        return Decimal(0)
    disposable = disposable_during(debtor, option, today)
    if disposable <= 0:
        return None
    return needed / disposable


def can_keep(debtor: Debtor, option: Option, today: datetime.date) -> bool:
    """Whether the debtor believes they can keep to ``option`` (a review pause asks nothing)."""
    if not option.schedule:
        return True
    share = burden_share(debtor, option, today)
    if share is None:
        return False
    if is_one_off(option):
        return share <= 1
    return share <= debtor.acceptance_share


def preferred_option(
    debtor: Debtor, options: list[Option] | tuple[Option, ...], today: datetime.date
) -> Option | None:
    """Of the scheduled options, the one the debtor can keep that weighs least on them."""
    keepable = [
        (burden_share(debtor, o, today) or Decimal(0), n, o)
        for n, o in enumerate(options)
        if o.schedule and can_keep(debtor, o, today)
    ]
    if not keepable:
        return None
    return min(keepable, key=lambda item: (item[0], item[1]))[2]


def counter_amount(debtor: Debtor) -> Decimal | None:
    """The monthly payment the debtor proposes when nothing offered fits: the share they are
    prepared to commit, rounded down to a round sum; None when that is nothing."""
    if debtor.disposable <= 0:
        return None
    raw = debtor.acceptance_share * debtor.disposable
    amount = (raw / COUNTER_STEP).quantize(Decimal(1), rounding=ROUND_DOWN) * COUNTER_STEP
    return amount.quantize(CENT) if amount >= COUNTER_STEP else None


def monthly_break_chance(
    debtor: Debtor, option: Option, today: datetime.date, assumptions: Assumptions
) -> Decimal:
    """The chance, each month, that the debtor stops paying."""
    share = burden_share(debtor, option, today)
    if share is None:
        return assumptions.break_max_monthly
    chance = assumptions.break_base_monthly + assumptions.break_per_share * share
    return min(chance, assumptions.break_max_monthly)


def expected_paid(
    debtor: Debtor, option: Option, today: datetime.date, assumptions: Assumptions
) -> Decimal:
    """The expected amount actually paid: each payment times the chance the plan is still
    running then (a single payment is made with the chance of one month without a break)."""
    if not option.schedule:
        return Decimal("0.00")
    survive = 1 - monthly_break_chance(debtor, option, today, assumptions)
    first = option.schedule[0].due_date
    expected = Decimal(0)
    for payment in option.schedule:
        months = (Decimal((payment.due_date - first).days) / _DAYS_PER_MONTH).quantize(
            Decimal(1), rounding=ROUND_HALF_UP
        )
        expected += payment.amount * survive ** (int(months) + 1)
    return expected.quantize(CENT)


def disposable_left(debtor: Debtor, option: Option, today: datetime.date) -> Decimal:
    """Real monthly disposable income left once the payment is made (negative: short)."""
    return disposable_during(debtor, option, today) - money_needed(debtor, option)
