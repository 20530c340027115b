"""Card-number masking: what is masked, what is left alone, and that it stays linear."""

from __future__ import annotations

import pytest

from bot.privacy import CARD_PLACEHOLDER, luhn_valid, mask_card_numbers
from tests.complexity import LINEAR_GROWTH, growth

P = CARD_PLACEHOLDER


def _reference_luhn(digits: str) -> bool:
    """An independent Luhn implementation, so the tests do not check the code with itself."""
    doubled = [int(d) * (2 if i % 2 else 1) for i, d in enumerate(reversed(digits))]
    return sum(d - 9 if d > 9 else d for d in doubled) % 10 == 0


def _with_check_digit(prefix: str) -> str:
    return next(prefix + d for d in "0123456789" if _reference_luhn(prefix + d))


# Published test card numbers (all Luhn-valid) and generated ones for rare lengths.
VISA = "4111111111111111"
VISA_13 = "4222222222222"
MASTERCARD = "5555555555554444"
AMEX = "378282246310005"
DINERS = "30569309025904"
DISCOVER = "6011111111111117"
NINETEEN = _with_check_digit("630400000000000000")
SEVENTEEN = _with_check_digit("4000000000000000")
PHONE_13 = _with_check_digit("491511234567")  # a German mobile number, Luhn-valid by chance


def test_fixture_numbers_are_luhn_valid() -> None:
    for number in (VISA, VISA_13, MASTERCARD, AMEX, DINERS, DISCOVER, NINETEEN, SEVENTEEN):
        assert _reference_luhn(number), number
    assert len(NINETEEN) == 19 and len(SEVENTEEN) == 17 and len(PHONE_13) == 13


@pytest.mark.parametrize(
    ("text", "masked", "count"),
    [
        # Contiguous, 13-19 digits.
        (VISA, P, 1),
        (VISA_13, P, 1),
        (AMEX, P, 1),
        (DINERS, P, 1),
        (SEVENTEEN, P, 1),
        (NINETEEN, P, 1),
        (f"my card is {VISA} thanks", f"my card is {P} thanks", 1),
        (f"card:{VISA}.", f"card:{P}.", 1),
        (f"({MASTERCARD})", f"({P})", 1),
        # 4-4-4-4 with spaces or dashes.
        ("4111 1111 1111 1111", P, 1),
        ("4111-1111-1111-1111", P, 1),
        ("5555 5555 5555 4444", P, 1),
        ("4111 1111-1111 1111", P, 1),  # mixed single separators
        ("6011\u00a01111\u00a01111\u00a01117", P, 1),  # no-break spaces from copy-paste
        ("4111\u20131111\u20131111\u20131111", P, 1),  # en dashes
        # 4-6-5 (Amex) and 4-6-4 (Diners).
        ("3782 822463 10005", P, 1),
        ("3782-822463-10005", P, 1),
        ("3056 930902 5904", P, 1),
        # 4-4-4-4-3 (19 digits) and 4-4-4-1..4.
        (
            f"{NINETEEN[:4]} {NINETEEN[4:8]} {NINETEEN[8:12]} {NINETEEN[12:16]} {NINETEEN[16:]}",
            P,
            1,
        ),
        ("4222 2222 2222 2", P, 1),
        (
            f"{_with_check_digit('40000000000000')[:4]} 0000 0000 "
            f"{_with_check_digit('40000000000000')[12:]}",
            P,
            1,
        ),
        # Several in one message; a card right after other numbers.
        (f"{VISA} or {MASTERCARD}", f"{P} or {P}", 2),
        ("pay 50 with 4111 1111 1111 1111 on friday", f"pay 50 with {P} on friday", 1),
        ("1 4111 1111 1111 1111", f"1 {P}", 1),
        # Full-width digits from phone keyboards are digits too.
        ("４１１１１１１１１１１１１１１１", P, 1),
        # Contiguous 13+ Luhn-valid digits without "+" are masked even if it was a phone:
        # leaking a card is worse than hiding a phone number.
        (PHONE_13, P, 1),
    ],
)
def test_masks_card_numbers(text: str, masked: str, count: int) -> None:
    assert mask_card_numbers(text) == (masked, count)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "hello",
        "😀💳",
        # Phone numbers.
        "+1 555 123 4567",
        "+1-555-123-4567",
        "(555) 123-4567",
        "555-123-4567",
        "07700 900123",
        "+44 7700 900123",
        "+" + PHONE_13,
        "+" + VISA,  # anything after "+" is a phone number
        # Amounts, dates, ages.
        "$1,234.56",
        "i can pay 50 a month",
        "10000000",
        "03/04/1985",
        "1985-03-04",
        "born 3.4.1985",
        "i'm 45",
        # Luhn failures and wrong lengths or layouts.
        "4111111111111112",
        "4111 1111 1111 1112",
        "411111111111",  # 12 digits
        "79927398713",  # Luhn-valid but 11 digits
        "41111111111111111111",  # 20 digits: not a card
        "4111  1111  1111  1111",  # double spaces are not card grouping
        "4111 11 11 1111 1111",  # 4-2-2-4-4 is not a card layout
        "4111.1111.1111.1111",  # dots are not card separators
        "411 1111 1111 11111",  # 3-4-4-5
        "1" * 5000,
        "0" * 5000,
    ],
)
def test_leaves_other_numbers_alone(text: str) -> None:
    assert mask_card_numbers(text) == (text, 0)


def test_masking_is_idempotent() -> None:
    once, count = mask_card_numbers(f"card {VISA} exp 12/27 cvv 123")
    assert count == 1
    assert once == f"card {P} exp 12/27 cvv 123"
    assert mask_card_numbers(once) == (once, 0)


def test_text_around_cards_is_preserved_exactly() -> None:
    text = f"  Hi!\n{AMEX}\t\u202e{VISA_13} 😀 "
    assert mask_card_numbers(text) == (f"  Hi!\n{P}\t\u202e{P} 😀 ", 2)


@pytest.mark.parametrize(
    "text",
    [
        "4" * 5000,
        "4111 " * 1000,
        "4111-" * 1000,
        "1 " * 2500,
        "1-" * 2500,
        "12 " * 1666,
        "4111 1111 1111 111" * 300,
        "\u00a04" * 2500,
    ],
    ids=lambda s: repr(s[:10]),
)
def test_linear_time_on_long_digit_strings(text: str) -> None:
    masked, count = mask_card_numbers(text)
    assert isinstance(masked, str) and count >= 0
    # Counted, not timed: twice the text costs at most LINEAR_GROWTH times the work.
    assert growth(mask_card_numbers, text) <= LINEAR_GROWTH


def test_long_grouped_run_masks_every_valid_card() -> None:
    text = " ".join([VISA] * 200)
    masked, count = mask_card_numbers(text)
    assert count == 200
    assert masked == " ".join([P] * 200)


def test_non_string_input() -> None:
    assert mask_card_numbers(None) == ("", 0)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("digits", "expected"),
    [
        ("79927398713", True),
        ("79927398710", False),
        (VISA, True),
        (AMEX, True),
        ("4111111111111112", False),
        ("0000000000000", True),
        ("00", True),
        ("18", True),
        ("19", False),
        ("", False),
        ("0", False),  # one digit is no checksum
        ("4111 1111 1111 1111", False),  # separators are not digits
        ("4111-1111", False),
        ("abc", False),
        ("１８", True),  # full-width digits
        ("\u0661\u0668", True),  # Arabic-Indic digits
        ("²³", False),  # superscripts are not decimal digits
    ],
)
def test_luhn_valid(digits: str, expected: bool) -> None:
    assert luhn_valid(digits) is expected


@pytest.mark.parametrize("length", range(2, 25))
def test_luhn_valid_agrees_with_reference(length: int) -> None:
    for seed in range(20):
        digits = str(7**length * (seed + 3))[:length].rjust(length, "9")
        assert luhn_valid(digits) is _reference_luhn(digits)


def test_luhn_valid_rejects_non_strings() -> None:
    assert luhn_valid(4111111111111111) is False  # type: ignore[arg-type]
    assert luhn_valid(None) is False  # type: ignore[arg-type]
