"""Money as Decimal: the one parser and the one formatter for amounts in the engine."""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")

# Symbols we print in front of the amount; any other currency gets its code after it.
_SYMBOLS = {"USD": "$", "GBP": "£", "EUR": "€"}


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


def format_money(amount: Decimal, currency: str) -> str:
    """Format an amount for a debtor: "$1,200.00" (USD), "£" GBP, "€" EUR, else "1,200.00 XYZ"."""
    code = currency.upper()
    value = to_money(amount)
    sign = "-" if value < 0 else ""
    digits = f"{abs(value):,.2f}"
    symbol = _SYMBOLS.get(code)
    if symbol is not None:
        return f"{sign}{symbol}{digits}"
    return f"{sign}{digits} {code}"
