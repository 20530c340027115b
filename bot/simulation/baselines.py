"""Simpler ways to negotiate, run on the same debtors for comparison.

Each makes one offer and takes the answer; none asks about the debtor's budget. They use
the policy's first payment date and smallest payment, so only the approach differs.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from bot.negotiation import Frequency, Option, Policy, default_first_due, installment_schedule
from bot.negotiation.money import from_cents, to_cents
from bot.negotiation.offers import full_payment
from bot.simulation.debtor import can_keep
from bot.simulation.parley import CURRENCY
from bot.simulation.population import Debtor
from bot.simulation.results import Negotiated, Status, Strategy, refuse_or_person

FIXED_PLAN_MONTHS = 6


@dataclass(frozen=True)
class Baseline:
    """A named baseline strategy."""

    key: str
    label: str
    negotiate: Strategy


def pay_in_full_or_nothing(debtor: Debtor, policy: Policy, today: datetime.date) -> Negotiated:
    """The whole balance in one payment, or nothing."""
    offer = full_payment(debtor.balance, default_first_due(policy, today), CURRENCY)
    return take_it_or_leave_it(debtor, offer, today)


def fixed_six_month_plan(debtor: Debtor, policy: Policy, today: datetime.date) -> Negotiated:
    """Six monthly payments whatever the budget (fewer if they would fall below the minimum)."""
    return take_it_or_leave_it(
        debtor, _monthly_plan(debtor, policy, today, FIXED_PLAN_MONTHS), today
    )


def most_installments(debtor: Debtor, policy: Policy, today: datetime.date) -> Negotiated:
    """As many monthly payments as the policy allows, whatever the budget."""
    offer = _monthly_plan(debtor, policy, today, policy.max_installments)
    return take_it_or_leave_it(debtor, offer, today)


BASELINES: tuple[Baseline, ...] = (
    Baseline("pay_in_full_or_nothing", "pay in full or nothing", pay_in_full_or_nothing),
    Baseline(
        "fixed_6_month_plan", "a fixed 6-month plan whatever the budget", fixed_six_month_plan
    ),
    Baseline("most_installments", "always the most installments allowed", most_installments),
)


def take_it_or_leave_it(debtor: Debtor, offer: Option, today: datetime.date) -> Negotiated:
    """One offer: kept if the debtor can keep it, taken under pressure by some, else refused.

    Paying in full from savings is accepted by every strategy.
    """
    if debtor.willingness == "silent":
        return Negotiated(debtor.index, Status.SILENT)
    if debtor.lump_sum >= debtor.balance:
        full = full_payment(debtor.balance, offer.schedule[0].due_date, CURRENCY)
        return Negotiated(
            debtor.index, Status.AGREED, full, debtor_lump_sum=True, note="pays in full"
        )
    if can_keep(debtor, offer, today):
        return Negotiated(debtor.index, Status.AGREED, offer, note="accepted")
    if debtor.accepts_under_pressure:
        return Negotiated(debtor.index, Status.AGREED, offer, note="took a plan they cannot keep")
    return refuse_or_person(debtor, "cannot keep the offer")


def _monthly_plan(debtor: Debtor, policy: Policy, today: datetime.date, count: int) -> Option:
    first_due = default_first_due(policy, today)
    balance = debtor.balance
    amount = max(from_cents(-(-to_cents(balance) // count)), policy.min_installment)
    if amount >= balance:
        return full_payment(balance, first_due, CURRENCY)
    return Option(
        kind="installment",
        total=balance,
        currency=CURRENCY,
        schedule=installment_schedule(balance, amount, Frequency.MONTHLY, first_due),
        frequency=Frequency.MONTHLY,
    )
