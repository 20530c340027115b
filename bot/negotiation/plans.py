"""Payment plans: options the bot can offer and the schedules that make them up."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from dateutil.relativedelta import relativedelta

from bot.negotiation.money import CENT, from_cents, is_whole_cents, to_cents
from bot.negotiation.policy import Frequency

OptionKind = Literal["full", "installment", "deferral"]
OPTION_KINDS: tuple[str, ...] = ("full", "installment", "deferral")

# A guard against runaway input (e.g. 100000.00 in payments of 0.01), far above any
# policy's max_count.
MAX_SCHEDULE_LENGTH = 10_000


@dataclass(frozen=True)
class Installment:
    """One payment of ``amount`` due on ``due_date``."""

    due_date: datetime.date
    amount: Decimal

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal) or not is_whole_cents(self.amount):
            raise ValueError(
                f"installment amount must be a Decimal in whole cents: {self.amount!r}"
            )
        if self.amount <= 0:
            raise ValueError(f"installment amount must be above zero (got {self.amount})")
        object.__setattr__(self, "amount", self.amount.quantize(CENT))

    def to_dict(self) -> dict[str, str]:
        """JSON-ready form: ``{"due_date": "YYYY-MM-DD", "amount": "150.00"}``."""
        return {"due_date": self.due_date.isoformat(), "amount": str(self.amount)}


@dataclass(frozen=True)
class Option:
    """A way to resolve the balance: pay in full, installments, or a deferral.

    ``schedule`` always sums to ``total``. A deferral whose payments are still to be agreed
    by a person has an empty schedule and ``requires_review``. ``settlement`` marks a lump
    sum the creditor accepted in place of the whole balance.
    """

    kind: OptionKind
    total: Decimal
    currency: str
    schedule: tuple[Installment, ...]
    frequency: Frequency | None = None
    deferred_until: datetime.date | None = None
    settlement: bool = False
    requires_review: bool = False

    def __post_init__(self) -> None:
        # These invariants are what makes an option safe to store and confirm to a debtor.
        if self.kind not in OPTION_KINDS:
            raise ValueError(f"option kind must be one of {OPTION_KINDS} (got {self.kind!r})")
        if not isinstance(self.total, Decimal) or not is_whole_cents(self.total):
            raise ValueError(f"option total must be a Decimal in whole cents: {self.total!r}")
        if self.total <= 0:
            raise ValueError(f"option total must be above zero (got {self.total})")
        object.__setattr__(self, "total", self.total.quantize(CENT))
        if not (len(self.currency) == 3 and self.currency.isascii() and self.currency.isupper()):
            raise ValueError(
                f"currency must be a 3-letter code such as USD (got {self.currency!r})"
            )
        object.__setattr__(self, "schedule", tuple(self.schedule))
        if self.schedule:
            paid = sum((i.amount for i in self.schedule), Decimal("0.00"))
            if paid != self.total:
                raise ValueError(f"schedule sums to {paid}, not the total {self.total}")
            dates = [i.due_date for i in self.schedule]
            if any(later <= earlier for earlier, later in zip(dates, dates[1:], strict=False)):
                raise ValueError("schedule due dates must be strictly increasing")
        elif not (self.kind == "deferral" and self.requires_review):
            raise ValueError("only a deferral awaiting review may have an empty schedule")
        if self.kind == "full" and len(self.schedule) != 1:
            raise ValueError("a full payment is exactly one installment")
        if (self.kind == "installment" or len(self.schedule) > 1) and self.frequency is None:
            raise ValueError("an installment plan needs a frequency")
        if (self.kind == "deferral") != (self.deferred_until is not None):
            raise ValueError("deferred_until is required for a deferral and only for one")

    @property
    def regular_amount(self) -> Decimal | None:
        """The amount of the first (regular) installment, or None if nothing is scheduled."""
        return self.schedule[0].amount if self.schedule else None

    @property
    def installment_count(self) -> int:
        """How many payments the schedule has."""
        return len(self.schedule)

    @property
    def first_due(self) -> datetime.date | None:
        """The first payment date, or None if nothing is scheduled."""
        return self.schedule[0].due_date if self.schedule else None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, amounts as decimal strings and dates as ISO strings."""
        return {
            "kind": self.kind,
            "frequency": self.frequency.value if self.frequency else None,
            "total": str(self.total),
            "currency": self.currency,
            "schedule": [i.to_dict() for i in self.schedule],
            "installment_count": self.installment_count,
            "deferred_until": self.deferred_until.isoformat() if self.deferred_until else None,
            "settlement": self.settlement,
            "requires_review": self.requires_review,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Option:
        """Rebuild an option from :meth:`to_dict` output (e.g. kept in a dialogue slot)."""
        return cls(
            kind=data["kind"],
            total=Decimal(str(data["total"])),
            currency=str(data["currency"]),
            schedule=tuple(
                Installment(datetime.date.fromisoformat(p["due_date"]), Decimal(str(p["amount"])))
                for p in data.get("schedule") or ()
            ),
            frequency=Frequency(data["frequency"]) if data.get("frequency") else None,
            deferred_until=(
                datetime.date.fromisoformat(data["deferred_until"])
                if data.get("deferred_until")
                else None
            ),
            settlement=bool(data.get("settlement", False)),
            requires_review=bool(data.get("requires_review", False)),
        )


def due_date(first_due: datetime.date, frequency: Frequency, index: int) -> datetime.date:
    """The date of payment number ``index`` (0-based) of a plan starting on ``first_due``.

    Monthly dates are counted from ``first_due`` rather than from the previous payment, so
    a plan starting on Jan 31 falls due on Feb 28 (or 29), then Mar 31, not Mar 28.
    """
    if frequency is Frequency.WEEKLY:
        return first_due + datetime.timedelta(weeks=index)
    if frequency is Frequency.BIWEEKLY:
        return first_due + datetime.timedelta(weeks=2 * index)
    return first_due + relativedelta(months=index)


def installment_schedule(
    total: Decimal, amount: Decimal, frequency: Frequency, first_due: datetime.date
) -> tuple[Installment, ...]:
    """Payments of ``amount`` until ``total`` is paid; the last one pays what is left.

    There are ceil(total / amount) payments and they sum to ``total`` exactly; the last is
    above zero and at most ``amount``. An ``amount`` at or above ``total`` is one payment.
    """
    total_cents = _cents(total, "total")
    amount_cents = _cents(amount, "amount")
    count = -(-total_cents // amount_cents)
    if count > MAX_SCHEDULE_LENGTH:
        raise ValueError(
            f"{total} in payments of {amount} would take {count} payments; "
            f"a schedule is limited to {MAX_SCHEDULE_LENGTH} (check the amount)"
        )
    last_cents = total_cents - amount_cents * (count - 1)
    amounts = [amount_cents] * (count - 1) + [last_cents]
    return tuple(
        Installment(due_date(first_due, frequency, i), from_cents(cents))
        for i, cents in enumerate(amounts)
    )


def even_schedule(
    total: Decimal, count: int, frequency: Frequency, first_due: datetime.date
) -> tuple[Installment, ...]:
    """``count`` equal payments (rounded up to the cent), the last one paying what is left.

    Rounding up can leave nothing for the last payments when the total is tiny compared
    with ``count`` (e.g. 0.05 over 4 payments of 0.02); the plan is then recomputed with the
    same payment amount and fewer payments, so every payment stays above zero and none
    exceeds the even amount.
    """
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"count must be a whole number of at least 1 (got {count!r})")
    total_cents = _cents(total, "total")
    amount_cents = -(-total_cents // count)
    return installment_schedule(total, from_cents(amount_cents), frequency, first_due)


def schedule_total(schedule: tuple[Installment, ...]) -> Decimal:
    """The sum of a schedule's amounts."""
    return sum((i.amount for i in schedule), Decimal("0.00"))


def _cents(value: Decimal, name: str) -> int:
    if not isinstance(value, Decimal) or not is_whole_cents(value):
        raise ValueError(f"{name} must be a Decimal in whole cents (got {value!r})")
    if value <= 0:
        raise ValueError(f"{name} must be above zero (got {value})")
    return to_cents(value)
