"""What a strategy's negotiations add up to, for the creditor and for the debtors."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from statistics import median
from typing import Any

from bot.negotiation import Finances, Option, Policy, affordable_installment, disposable_income
from bot.simulation.assumptions import Assumptions
from bot.simulation.debtor import disposable_left, expected_paid
from bot.simulation.population import Debtor
from bot.simulation.results import Negotiated, Status

# Usual monthly take-home pay bands for "agreement rate by income band".
INCOME_BANDS: tuple[tuple[str, Decimal, Decimal | None], ...] = (
    ("under $1,500", Decimal(0), Decimal(1500)),
    ("$1,500-2,499", Decimal(1500), Decimal(2500)),
    ("$2,500-3,999", Decimal(2500), Decimal(4000)),
    ("$4,000 and over", Decimal(4000), None),
)
_RATE = Decimal("0.0001")


def breaks_affordability(option: Option, finances: Finances, policy: Policy) -> bool:
    """True when ``option`` asks more than the affordability rule allows for ``finances``.

    The rule (compliance.md): no installment above the policy's share of disposable income
    at its frequency. The engine offers a single payment only when it fits in one month's
    disposable income, so a single payment above that counts too.
    """
    if not option.schedule:
        return False
    if len(option.schedule) > 1 and option.frequency is not None:
        limit = affordable_installment(policy, finances, option.frequency)
        return any(payment.amount > limit for payment in option.schedule)
    return option.schedule[0].amount > disposable_income(finances)


@dataclass(frozen=True)
class Outcomes:
    """The outcomes of one strategy over a group of debtors."""

    debtors: int
    agreements: int
    deferred_for_review: int
    escalations: int
    refused: int
    silent: int
    stuck: int
    kinds: dict[str, int]
    balance_total: Decimal
    scheduled_total: Decimal
    expected_total: Decimal
    median_days_to_last_payment: float | None
    disposable_left_median: Decimal | None
    disposable_left_p10: Decimal | None
    left_short: int
    over_real_budget: int
    affordability_violations: int
    violations_by_debtor: tuple[int, ...] = field(default=(), compare=False)

    @property
    def agreement_rate(self) -> Decimal:
        return _share(self.agreements, self.debtors)

    @property
    def recovery_scheduled(self) -> Decimal:
        return _share(self.scheduled_total, self.balance_total)

    @property
    def recovery_expected(self) -> Decimal:
        return _share(self.expected_total, self.balance_total)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: shares as numbers with 4 decimals, money as decimal strings."""
        return {
            "debtors": self.debtors,
            "agreements": self.agreements,
            "agreement_rate": float(self.agreement_rate),
            "deferred_for_review": self.deferred_for_review,
            "deferred_for_review_rate": float(_share(self.deferred_for_review, self.debtors)),
            "escalations": self.escalations,
            "refused": self.refused,
            "silent": self.silent,
            "stuck": self.stuck,
            "kinds": dict(self.kinds),
            "balance_total": str(self.balance_total),
            "scheduled_total": str(self.scheduled_total),
            "expected_total": str(self.expected_total),
            "recovery_scheduled": float(self.recovery_scheduled),
            "recovery_expected": float(self.recovery_expected),
            "median_days_to_last_payment": self.median_days_to_last_payment,
            "disposable_left_median": _text(self.disposable_left_median),
            "disposable_left_p10": _text(self.disposable_left_p10),
            "left_short": self.left_short,
            "over_real_budget": self.over_real_budget,
            "affordability_violations": self.affordability_violations,
        }


def measure(
    debtors: Sequence[Debtor],
    results: Sequence[Negotiated],
    policy: Policy,
    today: datetime.date,
    assumptions: Assumptions,
) -> Outcomes:
    """Add up ``results`` (one per debtor, same order) under ``policy``."""
    counts = {status: 0 for status in Status}
    kinds = {"full": 0, "settlement": 0, "installment": 0, "deferral": 0}
    scheduled = expected = Decimal("0.00")
    days: list[int] = []
    left: list[Decimal] = []
    over_real = 0
    violators: list[int] = []
    for debtor, result in zip(debtors, results, strict=True):
        counts[result.status] += 1
        option = result.option
        if result.status is not Status.AGREED or option is None:
            continue
        kinds["settlement" if option.settlement else option.kind] += 1
        scheduled += option.total
        expected += expected_paid(debtor, option, today, assumptions)
        days.append((option.schedule[-1].due_date - today).days)
        left.append(disposable_left(debtor, option, today))
        if result.debtor_lump_sum:
            continue
        if breaks_affordability(option, debtor.stated_finances, policy):
            violators.append(debtor.index)
        start = option.schedule[0].due_date
        if breaks_affordability(option, debtor.real_finances_on(today, start), policy):
            over_real += 1
    left.sort()
    return Outcomes(
        debtors=len(debtors),
        agreements=counts[Status.AGREED],
        deferred_for_review=counts[Status.DEFERRED_FOR_REVIEW],
        escalations=counts[Status.ESCALATED],
        refused=counts[Status.REFUSED],
        silent=counts[Status.SILENT],
        stuck=counts[Status.STUCK],
        kinds=kinds,
        balance_total=sum((d.balance for d in debtors), Decimal("0.00")),
        scheduled_total=scheduled,
        expected_total=expected,
        median_days_to_last_payment=float(median(days)) if days else None,
        disposable_left_median=_median_money(left),
        disposable_left_p10=left[len(left) // 10] if left else None,
        left_short=sum(1 for amount in left if amount < 0),
        over_real_budget=over_real,
        affordability_violations=len(violators),
        violations_by_debtor=tuple(violators),
    )


def income_band(debtor: Debtor) -> str:
    """The usual-income band the debtor falls in."""
    for label, low, high in INCOME_BANDS:
        if debtor.usual_income >= low and (high is None or debtor.usual_income < high):
            return label
    return INCOME_BANDS[-1][0]


def agreement_rate_by_band(
    debtors: Sequence[Debtor], results: Sequence[Negotiated]
) -> list[dict[str, Any]]:
    """Agreement rate in each income band, with the band's size."""
    rows = []
    for label, _, _ in INCOME_BANDS:
        members = [r for d, r in zip(debtors, results, strict=True) if income_band(d) == label]
        agreed = sum(1 for r in members if r.status is Status.AGREED)
        rows.append(
            {
                "band": label,
                "debtors": len(members),
                "agreements": agreed,
                "agreement_rate": float(_share(agreed, len(members))),
            }
        )
    return rows


def _share(part: Decimal | int, whole: Decimal | int) -> Decimal:
    if not whole:
        return Decimal(0)
    return (Decimal(part) / Decimal(whole)).quantize(_RATE, rounding=ROUND_HALF_UP)


def _median_money(values: list[Decimal]) -> Decimal | None:
    if not values:
        return None
    return Decimal(median(values)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)
