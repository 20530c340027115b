from decimal import Decimal

import pytest

from bot.negotiation.money import format_money, to_money


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("12.345", "12.35"),  # half up, not banker's rounding
        ("12.344", "12.34"),
        (" 7 ", "7.00"),
        (5, "5.00"),
        (Decimal("1.005"), "1.01"),
        (Decimal("0.125"), "0.13"),
        ("-3.1", "-3.10"),
    ],
)
def test_to_money_quantizes_half_up(value: object, expected: str) -> None:
    result = to_money(value)  # type: ignore[arg-type]
    assert result == Decimal(expected)
    assert str(result) == expected


@pytest.mark.parametrize("value", [0.1, 1.0, True, None, [1]])
def test_to_money_rejects_floats_and_other_types(value: object) -> None:
    with pytest.raises(TypeError, match="Decimal, int or str"):
        to_money(value)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["abc", "", "NaN", "Infinity", "1,200.00"])
def test_to_money_rejects_text_that_is_not_an_amount(value: str) -> None:
    with pytest.raises(ValueError, match="amount"):
        to_money(value)


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        (Decimal("1200"), "USD", "$1,200.00"),
        (Decimal("1200.5"), "usd", "$1,200.50"),
        (Decimal("0.07"), "GBP", "£0.07"),
        (Decimal("1234567.891"), "EUR", "€1,234,567.89"),
        (Decimal("1200"), "CAD", "1,200.00 CAD"),
        (Decimal("-5"), "USD", "-$5.00"),
    ],
)
def test_format_money(amount: Decimal, currency: str, expected: str) -> None:
    assert format_money(amount, currency) == expected
