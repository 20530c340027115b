"""Durations in days ("three weeks", "a couple of months"): a month is 30 days, a year 365."""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal

from bot.nlu.normalize.money import _CURRENCY_SYMBOLS, _CURRENCY_WORDS
from bot.nlu.normalize.numbers import NUMBER_WORDS, _words_value
from bot.nlu.normalize.tokens import _clean

_UNIT_DAYS = {
    "day": 1, "days": 1,
    "wk": 7, "wks": 7, "week": 7, "weeks": 7,
    "fortnight": 14, "fortnights": 14,
    "mo": 30, "mos": 30, "mth": 30, "mths": 30, "mnth": 30, "mnths": 30, "month": 30,
    "months": 30,
    "yr": 365, "yrs": 365, "year": 365, "years": 365,
}  # fmt: skip
_UNIT_RE = r"(?P<unit>days?|wks?|weeks?|fortnights?|mos|mo|mths?|mnths?|months?|yrs?|years?)"
_SMALL_WORDS_RE = (
    r"(?:(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)(?:[\s-]+(?:one|two|three"
    r"|four|five|six|seven|eight|nine))?|zero|one|two|three|four|five|six|seven|eight|nine"
    r"|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen)"
)
_QTY_RE = (
    r"(?P<qty>[0-9]{1,4}(?:\.[0-9]+)?|" + _SMALL_WORDS_RE + r"|a\s+couple\s+of|a\s+couple"
    r"|couple\s+of|couple|a\s+few|few|an|a|half\s+an?)"
)
_DURATION_RE = re.compile(r"\b" + _QTY_RE + r"\s*" + _UNIT_RE + r"\b(?P<half>\s+and\s+a\s+half)?")
_AMOUNTISH_BEFORE = frozenset(
    _CURRENCY_WORDS | _CURRENCY_SYMBOLS | {"once", "twice", "times", "x", "k", "every", "each",
                                           "per", "other"}
)  # fmt: skip


def _quantity(qty: str) -> Decimal | None:
    qty = " ".join(qty.split())
    if qty[0].isdigit():
        return Decimal(qty)
    if qty in ("a", "an"):
        return Decimal(1)
    if qty.startswith("half"):
        return Decimal("0.5")
    if "couple" in qty:
        return Decimal(2)
    if "few" in qty:
        return Decimal(3)
    value = _words_value(qty.replace("-", " ").split())
    return None if value is None else Decimal(value)


def _duration_matches(clean: str) -> Iterator[tuple[re.Match[str], Decimal, int]]:
    """(match, quantity, days per unit) for each duration that is not a frequency."""
    for m in _DURATION_RE.finditer(clean):
        qty = _quantity(m.group("qty"))
        if qty is None:
            continue
        before = clean[: m.start()].split()
        prev = before[-1] if before else ""
        # "every 2 weeks" and "50 a month" are rhythms (see parse_frequency).
        if prev in ("every", "each", "per", "other"):
            continue
        if m.group("qty") in ("a", "an") and (
            prev in _AMOUNTISH_BEFORE
            or prev[:1].isdigit()
            or prev[-1:].isdigit()
            or prev in NUMBER_WORDS
        ):
            continue
        yield m, qty, _UNIT_DAYS[m.group("unit")]


def parse_duration_days(text: str) -> int | None:
    """The first time span in the text as a number of days, or None.

    "3 months" -> 90 (a month is 30 days), "a month" -> 30, "two weeks" -> 14,
    "a couple of weeks" -> 14, "10 days" -> 10, "a few days" -> 3 ("a few" is three),
    "6 wks" -> 42, "1 year" -> 365, "a month and a half" -> 45, "1.5 months" -> 45.
    Rhythms ("every 2 weeks", "50 a month") are not spans. Spans under one day or over
    100 years are None.
    """
    clean = _clean(text)
    for m, qty, unit_days in _duration_matches(clean):
        days = qty * unit_days
        if m.group("half"):
            days += Decimal(unit_days) / 2
        whole = int(days.to_integral_value(rounding=ROUND_HALF_UP))
        if 1 <= whole <= 36500:
            return whole
    return None
