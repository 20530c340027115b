"""What a debtor can afford: disposable income and the largest installment a policy allows."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from bot.negotiation.errors import NegotiationError
from bot.negotiation.money import CENT, is_whole_cents
from bot.negotiation.policy import Frequency, Policy

MONTHS_PER_YEAR = 12


@dataclass(frozen=True)
class Finances:
    """A debtor's own monthly figures (approximate figures are fine)."""

    monthly_income: Decimal
    monthly_expenses: Decimal

    def __post_init__(self) -> None:
        for name in ("monthly_income", "monthly_expenses"):
            value = getattr(self, name)
            if not isinstance(value, Decimal) or not is_whole_cents(value):
                raise NegotiationError(
                    f"{name} must be a Decimal amount in whole cents, e.g. Decimal('1800.00') "
                    f"(got {value!r})"
                )
            if value < 0:
                raise NegotiationError(
                    f"{name} cannot be negative (got {value}); ask the debtor again"
                )
            # Two decimal places, so amounts derived from these print as "300.00".
            object.__setattr__(self, name, value.quantize(CENT))


def disposable_income(finances: Finances) -> Decimal:
    """Monthly income minus essential expenses; zero or negative when nothing is left."""
    return finances.monthly_income - finances.monthly_expenses


def affordable_installment(policy: Policy, finances: Finances, frequency: Frequency) -> Decimal:
    """The largest single installment the policy allows at ``frequency``.

    That is the policy's share of monthly disposable income, spread over the frequency's
    periods (share x disposable x 12 / periods per year), rounded down to the cent so that
    rounding never pushes a payment above the limit. Never below zero.
    """
    disposable = disposable_income(finances)
    if disposable <= 0:
        return Decimal("0.00")
    yearly_cents = policy.max_share_of_disposable * disposable * MONTHS_PER_YEAR * 100
    # Decimal // truncates exactly (no intermediate rounding), which for a positive value is
    # rounding down to the cent.
    cents = yearly_cents // frequency.periods_per_year
    return (cents / 100).quantize(Decimal("0.01"))
