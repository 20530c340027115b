"""Money as Decimal: the one parser and the one formatter for amounts in the engine."""

from __future__ import annotations

import re
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")

# The one grammar for a figure typed into a file or a flag: an optional minus, digits
# (no leading zero unless the whole part is 0), commas only between groups of three, and
# a point with one or two decimals. "1200", "1,200.50", "0.5" and "-5" are amounts;
# "12,50" (a decimal comma), "1.234" (a thousands point?), "1,2345", "1.2k" and "fifty"
# are not: a person's message goes through the NLU (bot/nlu/normalize/) instead.
_AMOUNT_TEXT = re.compile(
    r"(?P<sign>-?)(?P<whole>0|[1-9][0-9]*|[1-9][0-9]{0,2}(?:,[0-9]{3})+)(?:\.(?P<fraction>[0-9]+))?"
)
_EXAMPLE = "a number like 1200.50 or 1,200.50"


class MoneyFormatError(ValueError):
    """Text that is not an amount in the one grammar; the message says what is wrong.

    Messages start with "must" so that a caller can put the field's name in front:
    ``f"balance {exc}"`` reads "balance must be a number like 1200.50 ...".
    """


def to_money(value: Decimal | int | str) -> Decimal:
    """Convert a str, int or Decimal to an amount quantized to the cent (ROUND_HALF_UP).

    Floats are rejected with TypeError because they cannot hold most cent values exactly
    (0.1 + 0.2 != 0.3); pass the text the amount came from instead.
    """
    # bool is an int subclass; True is never a meaningful amount.
    if isinstance(value, (float, bool)) or not isinstance(value, (Decimal, int, str)):
        raise TypeError(
            f"money must be a Decimal, int or str, not {type(value).__name__} ({value!r}); "
            "pass the amount as text, e.g. '19.99'"
        )
    try:
        amount = Decimal(value.strip()) if isinstance(value, str) else Decimal(value)
    except InvalidOperation:
        raise ValueError(
            f"not an amount of money: {value!r} (use digits with an optional decimal point, "
            "e.g. '1200.50')"
        ) from None
    if not amount.is_finite():
        raise ValueError(f"not an amount of money: {value!r} (it must be a finite number)")
    try:
        return amount.quantize(CENT, rounding=ROUND_HALF_UP)
    except InvalidOperation:
        raise ValueError(f"amount too large to handle: {value!r}") from None


def parse_money(text: str) -> Decimal:
    """Parse a figure typed into a file or a command-line flag, to the cent, strictly.

    Accepts ``1200``, ``1200.5``, ``1,200.50`` and ``-5`` (the caller checks the range);
    raises :class:`MoneyFormatError` for anything else, so that ``12,50`` is never read as
    1250 and ``1.234`` never as 1.23 or 1234. Nothing is rounded: more than two decimals is
    an error. Surrounding whitespace is ignored.
    """
    if not isinstance(text, str):
        raise TypeError(f"parse_money takes text, not {type(text).__name__} ({text!r})")
    raw = text.strip()
    if not raw:
        raise MoneyFormatError(f"must be {_EXAMPLE} (it is empty)")
    match = _AMOUNT_TEXT.fullmatch(raw)
    if match is None:
        if re.fullmatch(r"-?[0-9,]+(?:\.[0-9]*)?", raw) and "," in raw:
            why = "a comma may only separate thousands, in groups of three; decimals take a point"
        elif re.fullmatch(r"-?[0-9]+(?:\.[0-9]+)+", raw):
            why = "only one decimal point; thousands are separated by commas"
        elif re.fullmatch(r"-?0[0-9]+(?:\.[0-9]+)?", raw):
            why = "no leading zeros"
        elif re.fullmatch(r"-?(?:[0-9]*\.|\.[0-9]+)", raw):
            why = "digits on both sides of the decimal point"
        else:
            why = "digits only, no words, letters or symbols"
        raise MoneyFormatError(f"must be {_EXAMPLE} (got {raw!r}: {why})")
    fraction = match["fraction"]
    if fraction is not None and len(fraction) > 2:
        hint = ""
        if len(fraction) == 3:  # "1.234": a European thousands point, or three decimals?
            hint = "; a point is the decimal mark, thousands are written 1234 or 1,234"
        raise MoneyFormatError(f"must have at most two decimal places (got {raw!r}{hint})")
    try:
        amount = Decimal(raw.replace(",", "")).quantize(CENT)
    except InvalidOperation:
        raise MoneyFormatError(f"must be an amount this system can hold (got {raw!r})") from None
    return amount if amount else Decimal("0.00")  # never "-0.00"


def is_whole_cents(amount: Decimal) -> bool:
    """True when `amount` is a finite Decimal with no fraction of a cent."""
    return amount.is_finite() and amount == amount.quantize(CENT)


def ceil_to_cent(amount: Decimal) -> Decimal:
    """Round up to the next cent: used where rounding down would undercollect a total."""
    return amount.quantize(CENT, rounding=ROUND_CEILING)


def to_cents(amount: Decimal) -> int:
    """Whole cents in ``amount``, which must have no fraction of a cent."""
    if not is_whole_cents(amount):
        raise ValueError(f"amount has a fraction of a cent: {amount!r}")
    return int(amount.scaleb(2))


def from_cents(cents: int) -> Decimal:
    """The amount of ``cents`` as a Decimal with exactly two decimal places."""
    return Decimal(cents).scaleb(-2)


def format_money(amount: Decimal, currency: str, locale: str = "en_US") -> str:
    """Format an amount for a debtor with babel: "$1,200.00" (USD), "£0.07" (GBP),
    "€1,234,567.89" (EUR), "CA$1,200.00" (CAD)."""
    from babel.numbers import format_currency

    return str(format_currency(to_money(amount), currency.upper(), locale=locale))


class UnsupportedCurrencyError(ValueError):
    """A currency whose minor unit is not the cent: the engine rounds to 0.01."""


def require_cent_currency(currency: str) -> str:
    """The upper-case code, if its amounts have exactly two decimals (USD, EUR, GBP...).

    The engine plans in cents; a currency with no minor unit (JPY) or three (KWD) would be
    half supported (a schedule of ¥100.50), so it is refused up front with this message.
    """
    from babel.numbers import get_currency_precision

    code = currency.upper()
    digits = get_currency_precision(code)
    if digits != 2:
        raise UnsupportedCurrencyError(
            f"currency {code} has {digits} decimal places; Parley computes plans in cents, "
            "so only currencies with 2 decimal places (USD, EUR, GBP, CAD, ...) are supported"
        )
    return code
