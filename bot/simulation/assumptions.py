"""The assumptions behind the simulated debtors: every number a result depends on.

Each section of :data:`DEFAULTS` is a labelled assumption with its ``source`` (a
publication where one is known, else "assumption"). ``examples/population.yml`` is the
same set written out with comments; copy it, change what you know better about your own
debtors, and pass it with ``parley simulate --population FILE``. As with policies, every
key is optional and an unknown key is an error, so a misspelt setting is never ignored.
"""

from __future__ import annotations

import datetime
import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from bot.simulation.errors import AssumptionsError

# Probabilities that must add up to one may be off by this much (rounded figures).
_SUM_TOLERANCE = Decimal("0.001")

DEFAULTS: Mapping[str, Any] = {
    "name": "default",
    # The simulated "today": every plan is agreed on this date, so runs are reproducible.
    "start_date": "2026-01-05",
    "balance": {
        "median": "400.00",
        "spread": "1.1",
        "min": "25.00",
        "max": "20000.00",
        "source": (
            "CFPB, Market Snapshot: an update on third-party debt collections tradelines "
            "reporting (Feb 2023): median collections tradeline $382 (2018-2022); spread is "
            "an assumption"
        ),
    },
    "income": {
        "median": "2600.00",
        "spread": "0.5",
        "min": "0.00",
        "max": "20000.00",
        "source": "assumption (take-home pay of people behind on a bill; no direct source)",
    },
    "expenses": {
        "share_mean": "0.86",
        "share_spread": "0.12",
        "share_min": "0.40",
        "share_max": "1.30",
        "source": (
            "assumption, anchored on the Federal Reserve SHED 2022 (May 2023): 37% of adults "
            "could not cover a $400 emergency expense with cash or its equivalent"
        ),
    },
    "hardship": {
        "none": "0.60",
        "temporary": "0.25",
        "lasting": "0.15",
        "income_drop_min": "0.10",
        "income_drop_max": "0.40",
        "expense_follow": "0.70",
        "recovery_days_min": 14,
        "recovery_days_max": 120,
        "source": "assumption",
    },
    "willingness": {
        "engaged": "0.55",
        "reluctant": "0.25",
        "silent": "0.20",
        "engaged_share_min": "0.40",
        "engaged_share_max": "1.00",
        "reluctant_share_min": "0.15",
        "reluctant_share_max": "0.50",
        "pressure_acceptance": "0.25",
        "asks_for_person": "0.10",
        "source": (
            "assumption; pressure models the 'pushes too hard' failure MADeN (ACL Findings "
            "2025) scores negotiators on, its rate here is not from that paper"
        ),
    },
    "lump_sum": {
        "probability": "0.35",
        "of_balance_min": "0.20",
        "of_balance_max": "1.50",
        "source": "assumption",
    },
    "stated": {
        "income_bias": "0.05",
        "income_spread": "0.10",
        "expenses_bias": "-0.05",
        "expenses_spread": "0.08",
        "rounding": "50.00",
        "source": "assumption (people round, overstate income and forget irregular costs)",
    },
    "breaks": {
        "base_monthly": "0.02",
        "per_share": "0.10",
        "max_monthly": "0.80",
        "source": "assumption; tune to your own broken-plan history",
    },
    "able_to_pay": {
        "share": "0.50",
        "months": 24,
        "source": "definition used by this report, not a finding",
    },
}

# What each section means, for the report's assumptions table and the docs.
LABELS: Mapping[str, str] = {
    "balance": "amount owed: log-normal (median, spread = sigma of its log), clipped to min-max",
    "income": "usual monthly take-home pay: log-normal, clipped",
    "expenses": "usual essential spending as a share of usual income: normal, clipped",
    "hardship": (
        "none / temporary / lasting; hardship cuts income by income_drop (uniform), "
        "expenses fall by expense_follow of that; temporary hardship ends after "
        "recovery_days (uniform)"
    ),
    "willingness": (
        "engaged (negotiate, counter) / reluctant (accept or refuse) / silent (never reply); "
        "*_share: the most of their real disposable income they would commit each month "
        "(uniform); pressure_acceptance: engaged debtors who take a plan they cannot keep "
        "when nothing else is on the table; asks_for_person: of those who refuse"
    ),
    "lump_sum": (
        "chance of having cash for a one-off payment, and its size as a share of the "
        "balance (uniform); enough covers the balance, less is offered as a settlement"
    ),
    "stated": (
        "what debtors tell the bot: real figure x (1 + bias + spread x normal), rounded to "
        "the nearest rounding"
    ),
    "breaks": (
        "chance a plan breaks each month: base_monthly + per_share x (payment / real "
        "disposable income), at most max_monthly"
    ),
    "able_to_pay": (
        "a debtor is able to pay when their usual real disposable income is positive and "
        "share of it for months (plus any lump sum) covers the balance"
    ),
}


@dataclass(frozen=True)
class MoneyDistribution:
    """A log-normal amount of money, clipped to [low, high]."""

    median: Decimal
    spread: Decimal
    low: Decimal
    high: Decimal


@dataclass(frozen=True)
class Assumptions:
    """A validated set of population assumptions; build it with :func:`load_assumptions`."""

    name: str
    start_date: datetime.date
    balance: MoneyDistribution
    income: MoneyDistribution
    expense_share_mean: Decimal
    expense_share_spread: Decimal
    expense_share_min: Decimal
    expense_share_max: Decimal
    hardship_none: Decimal
    hardship_temporary: Decimal
    hardship_lasting: Decimal
    income_drop_min: Decimal
    income_drop_max: Decimal
    expense_follow: Decimal
    recovery_days_min: int
    recovery_days_max: int
    engaged: Decimal
    reluctant: Decimal
    silent: Decimal
    engaged_share_min: Decimal
    engaged_share_max: Decimal
    reluctant_share_min: Decimal
    reluctant_share_max: Decimal
    pressure_acceptance: Decimal
    asks_for_person: Decimal
    lump_sum_probability: Decimal
    lump_sum_min: Decimal
    lump_sum_max: Decimal
    stated_income_bias: Decimal
    stated_income_spread: Decimal
    stated_expenses_bias: Decimal
    stated_expenses_spread: Decimal
    stated_rounding: Decimal
    break_base_monthly: Decimal
    break_per_share: Decimal
    break_max_monthly: Decimal
    able_share: Decimal
    able_months: int
    sources: Mapping[str, str]
    source_file: str | None = None


def load_assumptions(path: str | Path | None = None) -> Assumptions:
    """The built-in assumptions, or those in a YAML file laid out like :data:`DEFAULTS`."""
    if path is None:
        return assumptions_from_dict({})
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise AssumptionsError(f"{source}: population file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise AssumptionsError(f"{source}: cannot read the population file ({exc})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise AssumptionsError(f"{source}: not valid YAML ({' '.join(str(exc).split())})") from None
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise AssumptionsError(
            f"{source}: a population file must be a mapping like examples/population.yml "
            f"(got a {type(data).__name__})"
        )
    return assumptions_from_dict(data, source, source_file=source)


def assumptions_from_dict(
    data: Mapping[str, Any], source: str = "<population>", *, source_file: str | None = None
) -> Assumptions:
    """Validate ``data`` over :data:`DEFAULTS`; raises :class:`AssumptionsError` naming the field."""
    merged = _merge(DEFAULTS, data, "", source)
    p = _Parser(source)
    hardship, will, lump = merged["hardship"], merged["willingness"], merged["lump_sum"]
    stated, breaks, able = merged["stated"], merged["breaks"], merged["able_to_pay"]
    expenses = merged["expenses"]
    assumptions = Assumptions(
        name=p.text(merged["name"], "name"),
        start_date=p.day(merged["start_date"], "start_date"),
        balance=p.money_distribution(merged["balance"], "balance", positive=True),
        income=p.money_distribution(merged["income"], "income", positive=False),
        expense_share_mean=p.number(expenses["share_mean"], "expenses.share_mean", 0, 3),
        expense_share_spread=p.number(expenses["share_spread"], "expenses.share_spread", 0, 3),
        expense_share_min=p.number(expenses["share_min"], "expenses.share_min", 0, 3),
        expense_share_max=p.number(expenses["share_max"], "expenses.share_max", 0, 3),
        hardship_none=p.number(hardship["none"], "hardship.none", 0, 1),
        hardship_temporary=p.number(hardship["temporary"], "hardship.temporary", 0, 1),
        hardship_lasting=p.number(hardship["lasting"], "hardship.lasting", 0, 1),
        income_drop_min=p.number(hardship["income_drop_min"], "hardship.income_drop_min", 0, 1),
        income_drop_max=p.number(hardship["income_drop_max"], "hardship.income_drop_max", 0, 1),
        expense_follow=p.number(hardship["expense_follow"], "hardship.expense_follow", 0, 1),
        recovery_days_min=p.whole(hardship["recovery_days_min"], "hardship.recovery_days_min", 1),
        recovery_days_max=p.whole(hardship["recovery_days_max"], "hardship.recovery_days_max", 1),
        engaged=p.number(will["engaged"], "willingness.engaged", 0, 1),
        reluctant=p.number(will["reluctant"], "willingness.reluctant", 0, 1),
        silent=p.number(will["silent"], "willingness.silent", 0, 1),
        engaged_share_min=p.number(
            will["engaged_share_min"], "willingness.engaged_share_min", 0, 1
        ),
        engaged_share_max=p.number(
            will["engaged_share_max"], "willingness.engaged_share_max", 0, 1
        ),
        reluctant_share_min=p.number(
            will["reluctant_share_min"], "willingness.reluctant_share_min", 0, 1
        ),
        reluctant_share_max=p.number(
            will["reluctant_share_max"], "willingness.reluctant_share_max", 0, 1
        ),
        pressure_acceptance=p.number(
            will["pressure_acceptance"], "willingness.pressure_acceptance", 0, 1
        ),
        asks_for_person=p.number(will["asks_for_person"], "willingness.asks_for_person", 0, 1),
        lump_sum_probability=p.number(lump["probability"], "lump_sum.probability", 0, 1),
        lump_sum_min=p.number(lump["of_balance_min"], "lump_sum.of_balance_min", 0, 10),
        lump_sum_max=p.number(lump["of_balance_max"], "lump_sum.of_balance_max", 0, 10),
        stated_income_bias=p.number(stated["income_bias"], "stated.income_bias", -1, 1),
        stated_income_spread=p.number(stated["income_spread"], "stated.income_spread", 0, 1),
        stated_expenses_bias=p.number(stated["expenses_bias"], "stated.expenses_bias", -1, 1),
        stated_expenses_spread=p.number(stated["expenses_spread"], "stated.expenses_spread", 0, 1),
        stated_rounding=p.number(stated["rounding"], "stated.rounding", Decimal("0.01"), 10000),
        break_base_monthly=p.number(breaks["base_monthly"], "breaks.base_monthly", 0, 1),
        break_per_share=p.number(breaks["per_share"], "breaks.per_share", 0, 10),
        break_max_monthly=p.number(breaks["max_monthly"], "breaks.max_monthly", 0, 1),
        able_share=p.number(able["share"], "able_to_pay.share", Decimal("0.01"), 1),
        able_months=p.whole(able["months"], "able_to_pay.months", 1),
        sources={
            key: p.text(section["source"], f"{key}.source")
            for key, section in merged.items()
            if isinstance(section, Mapping)
        },
        source_file=source_file,
    )
    _check_consistency(assumptions, source)
    return assumptions


def assumption_rows(assumptions: Assumptions) -> list[tuple[str, str, str, str]]:
    """(section, values, meaning, source) for every section: the report's assumptions table."""
    a = assumptions
    values = {
        "balance": _describe_money(a.balance),
        "income": _describe_money(a.income),
        "expenses": (
            f"mean {a.expense_share_mean}, spread {a.expense_share_spread}, "
            f"{a.expense_share_min}-{a.expense_share_max}"
        ),
        "hardship": (
            f"none {a.hardship_none}, temporary {a.hardship_temporary}, lasting "
            f"{a.hardship_lasting}; income drop {a.income_drop_min}-{a.income_drop_max}, "
            f"expenses follow {a.expense_follow}; recovery {a.recovery_days_min}-"
            f"{a.recovery_days_max} days"
        ),
        "willingness": (
            f"engaged {a.engaged} (share {a.engaged_share_min}-{a.engaged_share_max}), "
            f"reluctant {a.reluctant} (share {a.reluctant_share_min}-{a.reluctant_share_max}), "
            f"silent {a.silent}; pressure {a.pressure_acceptance}, asks for a person "
            f"{a.asks_for_person}"
        ),
        "lump_sum": (
            f"probability {a.lump_sum_probability}, {a.lump_sum_min}-{a.lump_sum_max} "
            "of the balance"
        ),
        "stated": (
            f"income bias {a.stated_income_bias} spread {a.stated_income_spread}; expenses "
            f"bias {a.stated_expenses_bias} spread {a.stated_expenses_spread}; rounded to "
            f"{a.stated_rounding}"
        ),
        "breaks": (
            f"{a.break_base_monthly} + {a.break_per_share} x share a month, at most "
            f"{a.break_max_monthly}"
        ),
        "able_to_pay": f"{a.able_share} of disposable income for {a.able_months} months",
    }
    return [(key, values[key], LABELS[key], a.sources[key]) for key in LABELS]


def _describe_money(d: MoneyDistribution) -> str:
    return f"median {d.median}, spread {d.spread}, {d.low}-{d.high}"


def _check_consistency(a: Assumptions, source: str) -> None:
    groups = {
        "hardship.none + temporary + lasting": (
            a.hardship_none + a.hardship_temporary + a.hardship_lasting
        ),
        "willingness.engaged + reluctant + silent": a.engaged + a.reluctant + a.silent,
    }
    for name, total in groups.items():
        if abs(total - 1) > _SUM_TOLERANCE:
            raise AssumptionsError(f"{source}: {name} must add up to 1 (got {total})")
    ranges = {
        "balance.min/max": (a.balance.low, a.balance.high),
        "income.min/max": (a.income.low, a.income.high),
        "expenses.share_min/share_max": (a.expense_share_min, a.expense_share_max),
        "hardship.income_drop_min/max": (a.income_drop_min, a.income_drop_max),
        "hardship.recovery_days_min/max": (
            Decimal(a.recovery_days_min),
            Decimal(a.recovery_days_max),
        ),
        "willingness.engaged_share_min/max": (a.engaged_share_min, a.engaged_share_max),
        "willingness.reluctant_share_min/max": (a.reluctant_share_min, a.reluctant_share_max),
        "lump_sum.of_balance_min/max": (a.lump_sum_min, a.lump_sum_max),
    }
    for name, (low, high) in ranges.items():
        if low > high:
            raise AssumptionsError(f"{source}: {name}: the minimum is above the maximum")
    for name, d in (("balance", a.balance), ("income", a.income)):
        if not d.low <= d.median <= d.high:
            raise AssumptionsError(f"{source}: {name}.median must lie between min and max")


def _merge(defaults: Mapping[str, Any], data: Mapping[Any, Any], prefix: str, source: str) -> dict:
    """Overlay ``data`` on ``defaults`` section by section, rejecting unknown keys."""
    for key in data:
        if key not in defaults:
            field = f"{prefix}{key}"
            known = [f"{prefix}{k}" for k in defaults]
            close = difflib.get_close_matches(str(field), known, n=1)
            hint = f"did you mean {close[0]}?" if close else "known keys: " + ", ".join(known)
            raise AssumptionsError(f"{source}: unknown setting {field!r} ({hint})")
    merged: dict[str, Any] = {}
    for key, default in defaults.items():
        field = f"{prefix}{key}"
        if isinstance(default, Mapping):
            given = data.get(key, {})
            if not isinstance(given, Mapping):
                raise AssumptionsError(
                    f"{source}: {field} must be a section of settings (got {given!r})"
                )
            section = _merge(default, given, f"{field}.", source)
            if "source" not in given and set(given) - {"source"}:
                # A changed section no longer rests on the default's source.
                section["source"] = f"{source} (changed from the default)"
            merged[key] = section
        else:
            merged[key] = data.get(key, default)
    return merged


class _Parser:
    """Field parsers that name the file and the dotted field in every error."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, field: str, problem: str, value: object) -> AssumptionsError:
        return AssumptionsError(f"{self.source}: {field} {problem} (got {value!r})")

    def text(self, value: object, field: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(field, "must be a non-empty piece of text", value)
        return value.strip()

    def day(self, value: object, field: str) -> datetime.date:
        if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
            return value
        try:
            return datetime.date.fromisoformat(str(value))
        except ValueError:
            raise self.fail(field, 'must be a date like "2026-01-05"', value) from None

    def number(self, value: object, field: str, low: Decimal | int, high: Decimal | int) -> Decimal:
        expected = f"must be a number from {low} to {high}"
        if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
            raise self.fail(field, expected, value)
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise self.fail(field, expected, value) from None
        if not number.is_finite() or not Decimal(low) <= number <= Decimal(high):
            raise self.fail(field, expected, value)
        return number

    def whole(self, value: object, field: str, minimum: int) -> int:
        number = self.number(value, field, minimum, 100_000)
        if number != number.to_integral_value():
            raise self.fail(field, f"must be a whole number of at least {minimum}", value)
        return int(number)

    def money_distribution(
        self, section: Mapping[str, Any], field: str, *, positive: bool
    ) -> MoneyDistribution:
        low = self.number(section["min"], f"{field}.min", Decimal("0.01") if positive else 0, 10**7)
        return MoneyDistribution(
            median=self.number(section["median"], f"{field}.median", Decimal("0.01"), 10**7),
            spread=self.number(section["spread"], f"{field}.spread", 0, 5),
            low=low.quantize(Decimal("0.01")),
            high=self.number(section["max"], f"{field}.max", Decimal("0.01"), 10**7).quantize(
                Decimal("0.01")
            ),
        )
