"""What the bot offers: pay in full, affordable installment plans, or a deferral.

Every plan offered here obeys the creditor's policy and the affordability rule
(compliance.md): no installment above the policy's share of the debtor's disposable income.
When nothing affordable fits, no plan is offered; the debtor is offered a pause or a person.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from bot.negotiation.affordability import Finances, affordable_installment, disposable_income
from bot.negotiation.errors import NegotiationError
from bot.negotiation.money import from_cents, is_whole_cents, to_cents
from bot.negotiation.plans import Installment, Option, installment_schedule
from bot.negotiation.policy import FREQUENCY_ORDER, Frequency, Policy

# The first payment is proposed a week out (time to get paid) unless the policy's window
# is shorter.
DEFAULT_FIRST_PAYMENT_DELAY_DAYS = 7

# Stable codes for what is wrong with proposed installment terms (see check_installment_terms).
FREQUENCY_NOT_ALLOWED = "frequency_not_allowed"
ABOVE_AFFORDABLE = "above_affordable"
BELOW_MINIMUM = "below_minimum"
TOO_MANY_INSTALLMENTS = "too_many_installments"
PAYS_IN_FULL = "pays_in_full"


@dataclass(frozen=True)
class Quote:
    """The options the bot would offer a debtor, with the figures behind them."""

    balance: Decimal
    currency: str
    disposable_income: Decimal
    affordable: dict[Frequency, Decimal]
    options: tuple[Option, ...]
    needs_human_review: bool
    reason: str | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the `parley quote --json` output): amounts as decimal strings."""
        return {
            "balance": str(self.balance),
            "currency": self.currency,
            "disposable_income": str(self.disposable_income),
            "affordable": {f.value: str(a) for f, a in self.affordable.items()},
            "options": [o.to_dict() for o in self.options],
            "needs_human_review": self.needs_human_review,
            "reason": self.reason,
        }


def build_quote(
    balance: Decimal,
    finances: Finances,
    policy: Policy,
    today: datetime.date,
    *,
    currency: str = "USD",
    first_due: datetime.date | None = None,
    temporary_hardship: bool = False,
    max_options: int = 3,
) -> Quote:
    """The options to offer, best first: full, monthly, biweekly, weekly plans, deferral.

    * Pay in full (one payment on ``first_due``) when the balance is within the debtor's
      monthly disposable income.
    * For each allowed frequency, the plan with the fewest payments that is affordable and
      within the policy's minimum payment and maximum count.
    * A deferral when ``temporary_hardship`` or when nothing above fits (if the policy
      allows deferrals). When nothing affordable fits, ``needs_human_review`` is set and
      ``reason`` is a sentence the bot can say.

    At most ``max_options`` are kept; with ``temporary_hardship`` the deferral always is.
    ``first_due`` defaults to a week from ``today`` (sooner if the policy's window is
    shorter) and must lie within the window. Raises :class:`NegotiationError` on bad input.
    """
    balance = require_balance(balance)
    currency = require_currency(currency)
    today = require_date(today, "today")
    _require_finances(finances)
    if isinstance(max_options, bool) or not isinstance(max_options, int) or max_options < 1:
        raise NegotiationError(
            f"max_options must be a whole number of at least 1 ({max_options!r})"
        )
    if first_due is None:
        first_due = default_first_due(policy, today)
    else:
        first_due = require_first_due(first_due, policy, today)

    affordable_options: list[Option] = []
    if balance <= disposable_income(finances):
        affordable_options.append(full_payment(balance, first_due, currency))
    for frequency in FREQUENCY_ORDER:
        plan = best_installment_plan(balance, finances, policy, frequency, first_due, currency)
        if plan is not None:
            affordable_options.append(plan)

    nothing_fits = not affordable_options
    deferral: Option | None = None
    if policy.deferral_allowed and (temporary_hardship or nothing_fits):
        deferral = deferral_option(
            balance, finances, policy, latest_deferral(policy, today), currency
        )

    if deferral is None:
        options = affordable_options[:max_options]
    elif temporary_hardship:
        options = affordable_options[: max_options - 1] + [deferral]
    else:
        options = (affordable_options + [deferral])[:max_options]

    return Quote(
        balance=balance,
        currency=currency,
        disposable_income=disposable_income(finances),
        affordable={
            f: affordable_installment(policy, finances, f)
            for f in FREQUENCY_ORDER
            if policy.allows(f)
        },
        options=tuple(options),
        needs_human_review=nothing_fits or any(o.requires_review for o in options),
        reason=nothing_affordable_reason(policy) if nothing_fits else None,
    )


def nothing_affordable_reason(policy: Policy) -> str:
    """What the bot says when no plan within the debtor's budget fits the policy."""
    start = "Nothing within your budget fits our payment plans right now, so "
    if policy.deferral_allowed:
        return (
            f"{start}we can pause for up to {policy.max_deferral_days} days "
            "or have a person review your situation."
        )
    return f"{start}a person will review your situation with you."


# --- dates ---


def default_first_due(policy: Policy, today: datetime.date) -> datetime.date:
    """The first payment date proposed when the debtor names none."""
    days = min(DEFAULT_FIRST_PAYMENT_DELAY_DAYS, policy.first_payment_window_days)
    return today + datetime.timedelta(days=days)


def latest_first_due(policy: Policy, today: datetime.date) -> datetime.date:
    """The latest first payment date the policy allows for a plan agreed ``today``."""
    return today + datetime.timedelta(days=policy.first_payment_window_days)


def latest_deferral(policy: Policy, today: datetime.date) -> datetime.date:
    """The latest date payments may be paused until (``today`` when deferrals are off)."""
    return today + datetime.timedelta(days=policy.max_deferral_days)


# --- plans ---


def full_payment(balance: Decimal, on: datetime.date, currency: str) -> Option:
    """One payment of the whole balance on ``on``."""
    return Option(
        kind="full", total=balance, currency=currency, schedule=(Installment(on, balance),)
    )


def check_installment_terms(
    balance: Decimal,
    amount: Decimal,
    frequency: Frequency,
    finances: Finances,
    policy: Policy,
) -> str | None:
    """Why payments of ``amount`` at ``frequency`` would break the policy, or None if fine.

    Returns a stable code, checked in this order: frequency_not_allowed, above_affordable,
    below_minimum (only when the balance itself is at least the minimum),
    too_many_installments, pays_in_full (``amount`` covers the balance in one payment).
    The first payment date is not checked here.
    """
    if not policy.allows(frequency):
        return FREQUENCY_NOT_ALLOWED
    if amount > affordable_installment(policy, finances, frequency):
        return ABOVE_AFFORDABLE
    if amount < policy.min_installment <= balance:
        return BELOW_MINIMUM
    count = payment_count(balance, amount)
    if count > policy.max_installments:
        return TOO_MANY_INSTALLMENTS
    if count < 2:
        return PAYS_IN_FULL
    return None


def payment_count(balance: Decimal, amount: Decimal) -> int:
    """How many payments of ``amount`` it takes to pay ``balance`` (the last may be smaller)."""
    return -(-to_cents(balance) // to_cents(amount))


def best_installment_plan(
    balance: Decimal,
    finances: Finances,
    policy: Policy,
    frequency: Frequency,
    first_due: datetime.date,
    currency: str = "USD",
) -> Option | None:
    """The compliant plan at ``frequency`` with the fewest payments, or None if none fits.

    Payments are split evenly (rounded up to the cent, the last one paying what is left).
    When the even amount would fall below the policy's minimum, the minimum is used for the
    same number of payments instead, with a smaller last payment.
    """
    if not policy.allows(frequency):
        return None
    limit = affordable_installment(policy, finances, frequency)
    if limit <= 0:
        return None
    balance_cents = to_cents(balance)
    # Fewest payments whose even share fits under the limit: ceil(balance / count) <= limit.
    count = max(2, -(-balance_cents // to_cents(limit)))
    amount = from_cents(-(-balance_cents // count))
    if amount < policy.min_installment <= balance:
        amount = policy.min_installment
    return _plan_if_compliant(balance, amount, frequency, finances, policy, first_due, currency)


def smallest_installment_plan(
    balance: Decimal,
    finances: Finances,
    policy: Policy,
    frequency: Frequency,
    first_due: datetime.date,
    currency: str = "USD",
) -> Option | None:
    """The compliant plan at ``frequency`` with the smallest regular payment, or None.

    That is the policy minimum, or the even split over the maximum number of payments when
    the minimum would take too many; used when a debtor asks to pay less.
    """
    if not policy.allows(frequency):
        return None
    amount = from_cents(-(-to_cents(balance) // policy.max_installments))
    if balance >= policy.min_installment:
        amount = max(amount, policy.min_installment)
    return _plan_if_compliant(balance, amount, frequency, finances, policy, first_due, currency)


def deferral_option(
    balance: Decimal,
    finances: Finances | None,
    policy: Policy,
    until: datetime.date,
    currency: str = "USD",
) -> Option:
    """A pause until ``until``, then the best affordable plan starting that day.

    Monthly is preferred, then the other allowed frequencies. If no plan fits but the
    balance is within the debtor's monthly disposable income, one payment on ``until``.
    If nothing is affordable (or the finances are unknown) the schedule is empty and the
    option ``requires_review``: a person agrees the payments before the pause ends.
    """
    plan: Option | None = None
    if finances is not None:
        for frequency in FREQUENCY_ORDER:
            plan = best_installment_plan(balance, finances, policy, frequency, until, currency)
            if plan is not None:
                break
        if plan is None and balance <= disposable_income(finances):
            plan = full_payment(balance, until, currency)
    return Option(
        kind="deferral",
        total=balance,
        currency=currency,
        schedule=plan.schedule if plan else (),
        frequency=plan.frequency if plan else None,
        deferred_until=until,
        requires_review=plan is None,
    )


def _plan_if_compliant(
    balance: Decimal,
    amount: Decimal,
    frequency: Frequency,
    finances: Finances,
    policy: Policy,
    first_due: datetime.date,
    currency: str,
) -> Option | None:
    # Every plan the engine proposes passes the same check as a debtor's own offer.
    if check_installment_terms(balance, amount, frequency, finances, policy) is not None:
        return None
    return Option(
        kind="installment",
        total=balance,
        currency=currency,
        schedule=installment_schedule(balance, amount, frequency, first_due),
        frequency=frequency,
    )


# --- input validation shared with counter_offers ---


def require_amount(value: object, what: str) -> Decimal:
    """``value`` as a positive Decimal in whole cents, or NegotiationError saying why not."""
    if isinstance(value, (float, bool)) or not isinstance(value, (Decimal, int, str)):
        raise NegotiationError(
            f"{what} must be a Decimal such as Decimal('150.00') (got {value!r})"
        )
    try:
        amount = Decimal(value.strip() if isinstance(value, str) else value)
    except ArithmeticError:
        raise NegotiationError(f"{what} is not an amount of money: {value!r}") from None
    if not amount.is_finite() or not is_whole_cents(amount):
        raise NegotiationError(f"{what} must be in whole cents, e.g. 150.00 (got {value!r})")
    if amount <= 0:
        raise NegotiationError(f"{what} must be more than zero (got {amount})")
    return amount.quantize(Decimal("0.01"))


def require_balance(balance: object) -> Decimal:
    """The balance as a positive Decimal in whole cents."""
    return require_amount(balance, "balance")


def require_currency(currency: object) -> str:
    """A 3-letter ISO currency code, upper-cased."""
    if (
        not isinstance(currency, str)
        or len(currency) != 3
        or not (currency.isascii() and currency.isalpha())
    ):
        raise NegotiationError(f"currency must be a 3-letter code such as USD (got {currency!r})")
    return currency.upper()


def require_date(day: object, what: str) -> datetime.date:
    """A calendar date; a datetime is refused so a time zone mix-up cannot slip through."""
    if isinstance(day, datetime.datetime) or not isinstance(day, datetime.date):
        raise NegotiationError(
            f"{what} must be a date (the debtor's local date), not {type(day).__name__}"
        )
    return day


def require_first_due(first_due: object, policy: Policy, today: datetime.date) -> datetime.date:
    """A first payment date within [today, today + the policy's window]."""
    day = require_date(first_due, "first_due")
    latest = latest_first_due(policy, today)
    if not today <= day <= latest:
        raise NegotiationError(
            f"first_due {day.isoformat()} must be between {today.isoformat()} and "
            f"{latest.isoformat()} (the policy's {policy.first_payment_window_days}-day window)"
        )
    return day


def _require_finances(finances: object) -> None:
    if not isinstance(finances, Finances):
        raise NegotiationError(
            f"finances must be a Finances with monthly income and expenses (got {finances!r})"
        )
