from decimal import Decimal

import pytest

from bot.negotiation.money import MoneyFormatError, format_money, parse_money, to_money


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
        (Decimal("1200"), "CAD", "CA$1,200.00"),
        (Decimal("-5"), "USD", "-$5.00"),
    ],
)
def test_format_money(amount: Decimal, currency: str, expected: str) -> None:
    assert format_money(amount, currency) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1234", "1234.00"),
        ("1,234.50", "1234.50"),
        ("1,234,567.89", "1234567.89"),
        ("0", "0.00"),
        ("0.5", "0.50"),
        (" 75 ", "75.00"),
        ("999,999", "999999.00"),
        ("-5", "-5.00"),  # the shape is an amount; callers say whether it may be negative
        ("-0", "0.00"),
    ],
)
def test_parse_money_accepts_the_one_grammar(text: str, expected: str) -> None:
    result = parse_money(text)
    assert result == Decimal(expected)
    assert str(result) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("12,50", "a comma may only separate thousands"),  # a decimal comma: not 1250
        ("1,2345", "a comma may only separate thousands"),
        ("1,23", "a comma may only separate thousands"),
        ("12,345,67", "a comma may only separate thousands"),
        (",123", "a comma may only separate thousands"),
        ("1.234", "at most two decimal places"),  # a thousands point? three decimals?
        ("10.555", "at most two decimal places"),
        ("1.2.3", "only one decimal point"),
        ("007", "no leading zeros"),
        (".5", "digits on both sides"),
        ("5.", "digits on both sides"),
        ("fifty", "digits only"),  # word forms are for the NLU, not files and flags
        ("1.2k", "digits only"),
        ("$5", "digits only"),
        ("1e3", "digits only"),
        ("NaN", "digits only"),
        ("Infinity", "digits only"),
        ("+5", "digits only"),
        ("1 234", "digits only"),
        ("1_000", "digits only"),
        ("١٢٣", "digits only"),  # other scripts' digits, which Decimal() would accept
        ("", "empty"),
        ("   ", "empty"),
        ("9" * 40, "an amount this system can hold"),
    ],
)
def test_parse_money_rejects_anything_else_saying_why(text: str, reason: str) -> None:
    with pytest.raises(MoneyFormatError, match="^must ") as excinfo:
        parse_money(text)
    assert reason in str(excinfo.value)
    if text.strip():
        assert repr(text.strip()) in str(excinfo.value)  # names what it was given


def test_parse_money_error_is_a_value_error_and_text_only() -> None:
    assert issubclass(MoneyFormatError, ValueError)
    with pytest.raises(TypeError, match="text"):
        parse_money(12.5)  # type: ignore[arg-type]


@pytest.mark.parametrize("currency", ["USD", "eur", "GBP", "CAD", "CHF"])
def test_cent_currencies_are_supported(currency: str) -> None:
    from bot.negotiation.money import require_cent_currency

    assert require_cent_currency(currency) == currency.upper()


@pytest.mark.parametrize(("currency", "digits"), [("JPY", 0), ("KWD", 3), ("BHD", 3)])
def test_currencies_without_cents_are_refused_up_front(currency: str, digits: int) -> None:
    from bot.negotiation.money import UnsupportedCurrencyError, require_cent_currency

    with pytest.raises(UnsupportedCurrencyError, match=f"{currency} has {digits} decimal places"):
        require_cent_currency(currency)
