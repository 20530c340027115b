"""Simulated debtors, drawn from :class:`~bot.simulation.assumptions.Assumptions`.

Common random numbers: debtor ``i`` of a run with seed ``s`` always gets the same fixed
list of uniform draws, from a generator seeded with ``(s, i)`` alone. Every attribute is a
transform of one of those draws, so two policies, or two strategies, meet exactly the same
people, and changing one assumption moves only the attributes that depend on it.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from enum import IntEnum
from statistics import NormalDist
from typing import Literal, cast

import numpy as np

from bot.negotiation import Finances
from bot.simulation.assumptions import Assumptions, MoneyDistribution
from bot.simulation.errors import SimulationError

Hardship = Literal["none", "temporary", "lasting"]
Willingness = Literal["engaged", "reluctant", "silent"]

CENT = Decimal("0.01")
_NORMAL = NormalDist()
# Keep uniforms off 0 and 1 so the normal's inverse stays finite.
_EDGE = 1e-9


class Draw(IntEnum):
    """Which of a debtor's uniform draws feeds which attribute (the order is fixed)."""

    BALANCE = 0
    INCOME = 1
    EXPENSE_SHARE = 2
    HARDSHIP = 3
    INCOME_DROP = 4
    RECOVERY = 5
    WILLINGNESS = 6
    ACCEPTANCE = 7
    PRESSURE = 8
    PERSON = 9
    LUMP_SUM = 10
    LUMP_SUM_SIZE = 11
    STATED_INCOME = 12
    STATED_EXPENSES = 13
    BIRTH_DATE = 14
    PHRASING = 15


DRAWS = len(Draw)


@dataclass(frozen=True)
class Debtor:
    """One simulated person: their real situation, and what they will tell the bot."""

    index: int
    account_ref: str
    balance: Decimal
    usual_income: Decimal
    usual_expenses: Decimal
    hardship: Hardship
    income: Decimal
    expenses: Decimal
    recovery_days: int | None
    willingness: Willingness
    acceptance_share: Decimal
    accepts_under_pressure: bool
    asks_for_person: bool
    lump_sum: Decimal
    stated_income: Decimal
    stated_expenses: Decimal
    birth_date: datetime.date
    phrasing: int
    able_to_pay: bool

    @property
    def disposable(self) -> Decimal:
        """Real monthly disposable income now (may be negative)."""
        return self.income - self.expenses

    @property
    def usual_disposable(self) -> Decimal:
        """Real monthly disposable income once any temporary hardship is over."""
        return self.usual_income - self.usual_expenses

    @property
    def stated_finances(self) -> Finances:
        """The figures the debtor gives the bot."""
        return Finances(self.stated_income, self.stated_expenses)

    @property
    def real_finances(self) -> Finances:
        """Their real current figures (what an honest, exact answer would be)."""
        return Finances(max(self.income, Decimal(0)), max(self.expenses, Decimal(0)))

    def recovered_by(self, today: datetime.date, day: datetime.date) -> bool:
        """True if a temporary hardship that began before ``today`` is over by ``day``."""
        return self.recovery_days is not None and day >= today + datetime.timedelta(
            days=self.recovery_days
        )

    def disposable_from(self, today: datetime.date, day: datetime.date) -> Decimal:
        """Real monthly disposable income on ``day``: temporary hardship ends after a while."""
        return self.usual_disposable if self.recovered_by(today, day) else self.disposable

    def real_finances_on(self, today: datetime.date, day: datetime.date) -> Finances:
        """Real monthly figures on ``day``."""
        if self.recovered_by(today, day):
            return Finances(self.usual_income, self.usual_expenses)
        return self.real_finances


def generate_population(assumptions: Assumptions, count: int, seed: int) -> list[Debtor]:
    """``count`` debtors for ``seed``; debtor i depends only on (seed, i) and the assumptions."""
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise SimulationError(f"the number of debtors must be at least 1 (got {count!r})")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise SimulationError(f"the seed must be a whole number of at least 0 (got {seed!r})")
    return [make_debtor(assumptions, i, debtor_draws(seed, i)) for i in range(count)]


def debtor_draws(seed: int, index: int) -> list[float]:
    """The fixed uniform draws of debtor ``index`` under ``seed``."""
    generator = np.random.default_rng([seed, index])
    return [min(max(float(u), _EDGE), 1 - _EDGE) for u in generator.random(DRAWS)]


def make_debtor(a: Assumptions, index: int, u: list[float]) -> Debtor:
    """Turn one debtor's uniform draws into their attributes under assumptions ``a``."""
    balance = _money(_lognormal(a.balance, u[Draw.BALANCE]))
    usual_income = _money(_lognormal(a.income, u[Draw.INCOME]))
    share = _clip(
        a.expense_share_mean + a.expense_share_spread * _z(u[Draw.EXPENSE_SHARE]),
        a.expense_share_min,
        a.expense_share_max,
    )
    usual_expenses = _money(usual_income * share)

    hardship = cast(
        Hardship,
        _pick(
            u[Draw.HARDSHIP],
            (
                ("none", a.hardship_none),
                ("temporary", a.hardship_temporary),
                ("lasting", a.hardship_lasting),
            ),
        ),
    )
    income, expenses, recovery_days = usual_income, usual_expenses, None
    if hardship != "none":
        drop = _uniform(a.income_drop_min, a.income_drop_max, u[Draw.INCOME_DROP])
        income = _money(usual_income * (1 - drop))
        expenses = _money(usual_expenses * (1 - drop * a.expense_follow))
        if hardship == "temporary":
            span = a.recovery_days_max - a.recovery_days_min
            recovery_days = a.recovery_days_min + int(u[Draw.RECOVERY] * (span + 1))

    willingness = cast(
        Willingness,
        _pick(
            u[Draw.WILLINGNESS],
            (("engaged", a.engaged), ("reluctant", a.reluctant), ("silent", a.silent)),
        ),
    )
    if willingness == "reluctant":
        low, high = a.reluctant_share_min, a.reluctant_share_max
    else:
        low, high = a.engaged_share_min, a.engaged_share_max
    acceptance = _uniform(low, high, u[Draw.ACCEPTANCE]).quantize(CENT, rounding=ROUND_DOWN)

    lump_sum = Decimal("0.00")
    if Decimal(str(u[Draw.LUMP_SUM])) < a.lump_sum_probability:
        fraction = _uniform(a.lump_sum_min, a.lump_sum_max, u[Draw.LUMP_SUM_SIZE])
        lump_sum = _money(balance * fraction)

    stated_income = _stated(
        income,
        a.stated_income_bias,
        a.stated_income_spread,
        a.stated_rounding,
        u[Draw.STATED_INCOME],
    )
    stated_expenses = _stated(
        expenses,
        a.stated_expenses_bias,
        a.stated_expenses_spread,
        a.stated_rounding,
        u[Draw.STATED_EXPENSES],
    )
    usual_disposable = usual_income - usual_expenses
    able = usual_disposable > 0 and (
        lump_sum + a.able_share * usual_disposable * a.able_months >= balance
    )
    return Debtor(
        index=index,
        account_ref=f"SIM-{index + 1:05d}",
        balance=balance,
        usual_income=usual_income,
        usual_expenses=usual_expenses,
        hardship=hardship,
        income=income,
        expenses=expenses,
        recovery_days=recovery_days,
        willingness=willingness,
        acceptance_share=acceptance,
        accepts_under_pressure=willingness == "engaged"
        and Decimal(str(u[Draw.PRESSURE])) < a.pressure_acceptance,
        asks_for_person=Decimal(str(u[Draw.PERSON])) < a.asks_for_person,
        lump_sum=lump_sum,
        stated_income=stated_income,
        stated_expenses=stated_expenses,
        birth_date=datetime.date(1950, 1, 1)
        + datetime.timedelta(days=int(u[Draw.BIRTH_DATE] * 18_250)),
        phrasing=int(u[Draw.PHRASING] * 1_000_000),
        able_to_pay=able,
    )


def _z(u: float) -> Decimal:
    return Decimal(repr(_NORMAL.inv_cdf(u)))


def _uniform(low: Decimal, high: Decimal, u: float) -> Decimal:
    return low + (high - low) * Decimal(repr(u))


def _lognormal(d: MoneyDistribution, u: float) -> Decimal:
    value = d.median * (d.spread * _z(u)).exp()
    return _clip(value, d.low, d.high)


def _clip(value: Decimal, low: Decimal, high: Decimal) -> Decimal:
    return min(max(value, low), high)


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _stated(real: Decimal, bias: Decimal, spread: Decimal, rounding: Decimal, u: float) -> Decimal:
    said = max(real, Decimal(0)) * (1 + bias + spread * _z(u))
    rounded = (max(said, Decimal(0)) / rounding).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return _money(rounded * rounding)


def _pick(u: float, weights: tuple[tuple[str, Decimal], ...]) -> str:
    point = Decimal(repr(u))
    total = Decimal(0)
    for name, weight in weights:
        total += weight
        if point < total:
            return name
    return weights[-1][0]
