"""Answering the debtor's own proposal: accept it, counter with the closest compliant plan,
or refuse kindly and say what we can do instead.

The engine never accepts more than the policy allows, even when the debtor offers it: an
installment above the affordable amount is countered with one the debtor can afford.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from fractions import Fraction
from typing import Any, Protocol

from bot.negotiation.affordability import Finances
from bot.negotiation.errors import NegotiationError
from bot.negotiation.money import ceil_to_cent, format_money
from bot.negotiation.offers import (
    ABOVE_AFFORDABLE,
    BELOW_MINIMUM,
    FREQUENCY_NOT_ALLOWED,
    PAYS_IN_FULL,
    TOO_MANY_INSTALLMENTS,
    best_installment_plan,
    check_installment_terms,
    default_first_due,
    deferral_option,
    full_payment,
    latest_deferral,
    latest_first_due,
    nothing_affordable_reason,
    payment_count,
    require_amount,
    require_balance,
    require_currency,
    require_date,
    smallest_installment_plan,
)
from bot.negotiation.plans import Installment, Option, installment_schedule
from bot.negotiation.policy import Frequency, Policy
from bot.negotiation.wording import (
    describe_option,
    describe_payments,
    format_date,
    payments_phrase,
    rate,
    sentence,
)

# Reason codes (stable: dialogue actions and reports switch on them).
ACCEPTED = "accepted"
NOTHING_AFFORDABLE = "nothing_affordable"
FIRST_PAYMENT_TOO_LATE = "first_payment_too_late"
SETTLEMENT_NOT_ALLOWED = "settlement_not_allowed"
BELOW_SETTLEMENT_FLOOR = "below_settlement_floor"
DEFERRAL_TOO_LONG = "deferral_too_long"
DEFERRAL_NOT_ALLOWED = "deferral_not_allowed"
FINANCES_NEEDED = "finances_needed"
# The debtor named a frequency or a date but no amount, so we propose one.
AMOUNT_SUGGESTED = "amount_suggested"
REASONS: tuple[str, ...] = (
    ACCEPTED,
    ABOVE_AFFORDABLE,
    BELOW_MINIMUM,
    TOO_MANY_INSTALLMENTS,
    FREQUENCY_NOT_ALLOWED,
    FIRST_PAYMENT_TOO_LATE,
    NOTHING_AFFORDABLE,
    PAYS_IN_FULL,
    SETTLEMENT_NOT_ALLOWED,
    BELOW_SETTLEMENT_FLOOR,
    DEFERRAL_TOO_LONG,
    DEFERRAL_NOT_ALLOWED,
    FINANCES_NEEDED,
    AMOUNT_SUGGESTED,
)


class _PlanChooser(Protocol):
    """best_installment_plan or smallest_installment_plan."""

    def __call__(
        self,
        balance: Decimal,
        finances: Finances,
        policy: Policy,
        frequency: Frequency,
        first_due: datetime.date,
        currency: str = ...,
    ) -> Option | None: ...


class Outcome(str, Enum):
    """What the bot answers to a proposal."""

    ACCEPTED = "accepted"
    COUNTERED = "countered"
    REFUSED = "refused"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class CounterOffer:
    """What the debtor proposed; any part may be missing.

    ``lump_sum`` means one payment: of the whole balance when ``amount`` is None or covers
    it, otherwise an offer to settle for ``amount``.
    """

    amount: Decimal | None = None
    frequency: Frequency | None = None
    first_due: datetime.date | None = None
    lump_sum: bool = False


@dataclass(frozen=True)
class Decision:
    """The answer: ``option`` is the plan to confirm (accepted) or propose (countered) and
    None when refused; ``reason`` a stable code; ``message`` what the bot says."""

    outcome: Outcome
    option: Option | None
    reason: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "outcome": self.outcome.value,
            "option": self.option.to_dict() if self.option else None,
            "reason": self.reason,
            "message": self.message,
        }


def evaluate_counter_offer(
    balance: Decimal,
    finances: Finances | None,
    policy: Policy,
    today: datetime.date,
    offer: CounterOffer,
    *,
    currency: str = "USD",
) -> Decision:
    """Accept, counter or refuse the debtor's proposal, in the policy's order of checks.

    Paying the whole balance is accepted. A single smaller payment is a settlement offer
    (see :func:`evaluate_settlement`). Installment terms (default monthly) are checked for
    frequency, affordability, the minimum payment, the number of payments and the first
    payment date; the first rule broken decides the counter-offer, which is the closest
    plan that passes every rule (at another allowed frequency if the requested one has
    none). When no affordable plan exists the answer is a refusal offering a pause or a
    person. Without the debtor's finances nothing is agreed.
    """
    balance = require_balance(balance)
    currency = require_currency(currency)
    today = require_date(today, "today")
    if not isinstance(offer, CounterOffer):
        raise NegotiationError(f"offer must be a CounterOffer (got {offer!r})")
    amount = None if offer.amount is None else require_amount(offer.amount, "offer amount")
    if finances is None:
        return Decision(
            Outcome.REFUSED,
            None,
            FINANCES_NEEDED,
            "Before we agree a plan, could you tell me roughly what comes in each month and "
            "what your essential bills come to? That way we only agree to something you can "
            "afford.",
        )

    latest = latest_first_due(policy, today)
    requested_start = offer.first_due or default_first_due(policy, today)
    requested_start = require_date(requested_start, "first_due")
    if requested_start < today:
        raise NegotiationError(
            f"first_due {requested_start.isoformat()} is before today ({today.isoformat()}); "
            "ask the debtor for a date from today on"
        )
    late = requested_start > latest
    start = min(requested_start, latest)
    too_late = f"The first payment needs to be by {format_date(latest)}. "
    pay_by = f"The payment needs to be by {format_date(latest)}. "

    if (amount is not None and amount >= balance) or (offer.lump_sum and amount is None):
        option = full_payment(balance, start, currency)
        clears = f"{describe_option(option)} clears the balance."
        if late:
            message = pay_by + sentence(clears)
            return Decision(Outcome.COUNTERED, option, FIRST_PAYMENT_TOO_LATE, message)
        if amount is not None and amount > balance:
            owed = format_money(balance, currency)
            return Decision(
                Outcome.ACCEPTED, option, PAYS_IN_FULL, f"The balance is {owed}, so {clears}"
            )
        return Decision(Outcome.ACCEPTED, option, PAYS_IN_FULL, f"Thank you, {clears}")

    if offer.lump_sum and amount is not None:
        decision = evaluate_settlement(
            balance, policy, today, amount, currency=currency, first_due=start
        )
        if late and decision.option is not None:
            return Decision(
                Outcome.COUNTERED,
                decision.option,
                FIRST_PAYMENT_TOO_LATE if decision.outcome is Outcome.ACCEPTED else decision.reason,
                pay_by + decision.message,
            )
        return decision

    frequency = offer.frequency or Frequency.MONTHLY
    date_note = too_late if late else ""

    def counter(option: Option | None, reason: str, problem: str) -> Decision:
        if option is None:
            return Decision(
                Outcome.REFUSED,
                None,
                NOTHING_AFFORDABLE,
                problem + nothing_affordable_reason(policy),
            )
        message = f"{problem}{date_note}We can do {describe_option(option)}."
        return Decision(Outcome.COUNTERED, option, reason, message)

    def first_fitting(chooser: _PlanChooser) -> Option | None:
        # The requested frequency first, then the allowed ones closest to it.
        for candidate in _by_nearness(policy, frequency):
            plan = chooser(balance, finances, policy, candidate, start, currency)
            if plan is not None:
                return plan
        return None

    if not policy.allows(frequency):
        problem = f"We can't set up {payments_phrase(frequency)} on this account. "
        nearest = _by_nearness(policy, frequency)[0]
        if amount is None:
            return counter(first_fitting(best_installment_plan), FREQUENCY_NOT_ALLOWED, problem)
        issue = check_installment_terms(balance, amount, nearest, finances, policy)
        if issue is None:
            same_amount = _plan(balance, amount, nearest, start, currency)
            return counter(same_amount, FREQUENCY_NOT_ALLOWED, problem)
        # Stay as close as we can to what was asked: a smaller payment if the amount was
        # too small or too slow, the most affordable one if it was too large.
        wants_less = issue in (BELOW_MINIMUM, TOO_MANY_INSTALLMENTS)
        chooser = smallest_installment_plan if wants_less else best_installment_plan
        return counter(first_fitting(chooser), FREQUENCY_NOT_ALLOWED, problem)

    if amount is None:
        return counter(first_fitting(best_installment_plan), AMOUNT_SUGGESTED, "")

    shown = rate(format_money(amount, currency), frequency)
    problem_code = check_installment_terms(balance, amount, frequency, finances, policy)
    if problem_code == ABOVE_AFFORDABLE:
        problem = f"{shown} is more than your budget leaves room for. "
        return counter(first_fitting(best_installment_plan), ABOVE_AFFORDABLE, problem)
    if problem_code == BELOW_MINIMUM:
        minimum = format_money(policy.min_installment, currency)
        problem = f"{shown} is below the smallest payment we can set up ({minimum}). "
        return counter(first_fitting(smallest_installment_plan), BELOW_MINIMUM, problem)
    if problem_code == TOO_MANY_INSTALLMENTS:
        problem = (
            f"At {shown} it would take {payment_count(balance, amount)} payments, and we can "
            f"spread the balance over at most {policy.max_installments}. "
        )
        return counter(first_fitting(smallest_installment_plan), TOO_MANY_INSTALLMENTS, problem)

    option = _plan(balance, amount, frequency, start, currency)
    if late:
        return counter(option, FIRST_PAYMENT_TOO_LATE, "")
    return Decision(
        Outcome.ACCEPTED, option, ACCEPTED, f"Thank you, that works: {describe_option(option)}."
    )


def evaluate_settlement(
    balance: Decimal,
    policy: Policy,
    today: datetime.date,
    amount: Decimal,
    *,
    currency: str = "USD",
    first_due: datetime.date | None = None,
) -> Decision:
    """Answer an offer to settle the balance with one payment of ``amount``.

    Paying the whole balance is always accepted. Otherwise: refused if the policy allows no
    settlements; countered at the floor (the policy's fraction of the balance, rounded up
    to the cent) if below it; accepted otherwise. The payment falls on ``first_due``
    (default: as for plans), which must be within the policy's first-payment window.
    """
    balance = require_balance(balance)
    currency = require_currency(currency)
    today = require_date(today, "today")
    amount = require_amount(amount, "settlement amount")
    on = default_first_due(policy, today) if first_due is None else first_due
    on = require_date(on, "first_due")
    if not today <= on <= latest_first_due(policy, today):
        raise NegotiationError(
            f"first_due {on.isoformat()} must be between {today.isoformat()} and "
            f"{latest_first_due(policy, today).isoformat()}"
        )
    owed = format_money(balance, currency)

    if amount >= balance:
        option = full_payment(balance, on, currency)
        return Decision(
            Outcome.ACCEPTED,
            option,
            PAYS_IN_FULL,
            f"Thank you, {describe_option(option)} clears the balance.",
        )
    if not policy.settlement_allowed:
        return Decision(
            Outcome.REFUSED,
            None,
            SETTLEMENT_NOT_ALLOWED,
            f"We're not able to accept less than the full balance of {owed}, but we can look "
            "at smaller payments over time that fit your budget.",
        )
    floor = min(ceil_to_cent(policy.settlement_floor * balance), balance)
    offered = format_money(amount, currency)
    if amount < floor:
        option = _settlement(balance, floor, on, currency)
        if not option.settlement:
            # A floor of 100% leaves nothing to settle for: only the full balance will do.
            message = (
                f"We're not able to accept {offered} in place of the full balance of {owed}. "
                f"One payment of {owed} on {format_date(on)} clears it."
            )
        else:
            message = (
                f"We can't accept {offered} to settle the balance of {owed}, but we can "
                f"accept {format_money(floor, currency)} as one payment on {format_date(on)} "
                "to settle it."
            )
        return Decision(Outcome.COUNTERED, option, BELOW_SETTLEMENT_FLOOR, message)
    return Decision(
        Outcome.ACCEPTED,
        _settlement(balance, amount, on, currency),
        ACCEPTED,
        f"We can accept {offered} as one payment on {format_date(on)} to settle the balance "
        f"of {owed}.",
    )


def evaluate_deferral(
    balance: Decimal,
    finances: Finances | None,
    policy: Policy,
    today: datetime.date,
    requested_until: datetime.date | None,
    *,
    currency: str = "USD",
) -> Decision:
    """Answer a request to pause payments until ``requested_until`` (None: as long as allowed).

    Refused when the policy allows no deferrals; countered with the longest allowed pause
    when the request is longer; accepted otherwise. Payments resume on the deferral date
    with the best affordable plan, or are left for a person to agree (``requires_review``)
    when nothing is affordable or the finances are unknown.
    """
    balance = require_balance(balance)
    currency = require_currency(currency)
    today = require_date(today, "today")
    if finances is not None and not isinstance(finances, Finances):
        raise NegotiationError(f"finances must be a Finances or None (got {finances!r})")
    if not policy.deferral_allowed:
        return Decision(
            Outcome.REFUSED,
            None,
            DEFERRAL_NOT_ALLOWED,
            "We're not able to pause payments on this account, but we can look at smaller "
            "payments that fit your budget, or a person can review your situation with you.",
        )
    longest = latest_deferral(policy, today)
    until = longest if requested_until is None else require_date(requested_until, "requested_until")
    if until <= today:
        raise NegotiationError(
            f"requested_until {until.isoformat()} must be after today ({today.isoformat()})"
        )
    if until > longest:
        option = deferral_option(balance, finances, policy, longest, currency)
        message = f"The longest we can pause payments is until {format_date(longest)}. "
        return Decision(
            Outcome.COUNTERED, option, DEFERRAL_TOO_LONG, message + _after_pause(option)
        )
    option = deferral_option(balance, finances, policy, until, currency)
    message = f"We can pause payments until {format_date(until)}. "
    return Decision(Outcome.ACCEPTED, option, ACCEPTED, message + _after_pause(option))


def _after_pause(option: Option) -> str:
    if not option.schedule:
        return "Before then, a person will agree a plan with you that fits your budget."
    return f"After that, {describe_payments(option)}."


def _plan(
    balance: Decimal, amount: Decimal, frequency: Frequency, start: datetime.date, currency: str
) -> Option:
    return Option(
        kind="installment",
        total=balance,
        currency=currency,
        schedule=installment_schedule(balance, amount, frequency, start),
        frequency=frequency,
    )


def _settlement(balance: Decimal, total: Decimal, on: datetime.date, currency: str) -> Option:
    return Option(
        kind="full",
        total=total,
        currency=currency,
        schedule=(Installment(on, total),),
        settlement=total < balance,
    )


def _by_nearness(policy: Policy, frequency: Frequency) -> list[Frequency]:
    """The policy's frequencies, closest in payment interval to ``frequency`` first."""

    def distance(other: Frequency) -> Fraction:
        return abs(Fraction(1, other.periods_per_year) - Fraction(1, frequency.periods_per_year))

    # sorted() is stable, so ties keep the policy's order.
    return sorted(policy.frequencies, key=distance)
