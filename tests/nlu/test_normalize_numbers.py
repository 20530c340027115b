"""Spelled-out numbers: text2num reads them, the project's own rules sit on top.

tests/nlu/test_normalize.py is the regression check for the normalisers as a whole; this
module pins the number-word reader itself, every number up to 99,999 included.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.nlu.normalize import parse_amount, parse_duration_days
from bot.nlu.normalize.numbers import _words_value

_UNITS = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def _below_100(n: int) -> list[str]:
    if n < 20:
        return [_UNITS[n]]
    return [_TENS[n // 10]] + ([_UNITS[n % 10]] if n % 10 else [])


def _below_1000(n: int, with_and: bool) -> list[str]:
    hundreds, rest = divmod(n, 100)
    words = [_UNITS[hundreds], "hundred"] if hundreds else []
    if rest:
        words += (["and"] if hundreds and with_and else []) + _below_100(rest)
    return words


def _spelled(n: int, with_and: bool) -> list[str]:
    thousands, rest = divmod(n, 1000)
    words = _below_1000(thousands, with_and) + ["thousand"] if thousands else []
    if rest:
        words += (["and"] if thousands and with_and and rest < 100 else []) + _below_1000(
            rest, with_and
        )
    return words


def test_every_number_below_100000_is_read_with_and_without_and() -> None:
    wrong = [
        (n, words)
        for n in range(1, 100_000)
        for with_and in (False, True)
        if _words_value(words := _spelled(n, with_and)) != n
    ]
    assert not wrong, wrong[:10]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("hundred", 100),
        ("a hundred", 100),
        ("an hundred", 100),
        ("a thousand", 1000),
        ("a couple of hundred", 200),
        ("couple hundred", 200),
        ("a couple grand", 2000),
        ("three grand", 3000),
        ("two mil", 2_000_000),
        ("twelve hundred", 1200),
        ("twenty five hundred", 2500),
        ("fourty", 40),  # the usual misspelling
        ("one hundred five", 105),
        ("one million two thousand", 1_002_000),
        ("zero", 0),
    ],
)
def test_texting_forms(text: str, value: int) -> None:
    assert _words_value(text.split()) == value


@pytest.mark.parametrize(
    "text",
    [
        "",
        "fifty fifty",
        "one fifty",  # 1.50 or 150?
        "twenty twenty four",  # a year
        "nineteen eighty",
        "a",
        "a five",
        "couple",
        "couple of",
        "a couple five",
        "two hundred and",
        "eighty and five",
        "and fifty",
        "thousand million",
        "two thousand thousand",
        "twenty hundred one hundred",
        "twenty zero",
        "zero five",
        "fifty dollars",
        "fifty-five",  # callers split hyphens into words first
    ],
)
def test_what_is_not_one_number(text: str) -> None:
    assert _words_value(text.split()) is None


def test_the_callers_read_number_words_through_it() -> None:
    assert parse_amount("two hundred and fifty") == Decimal("250.00")
    assert parse_amount("a couple of grand") == Decimal("2000.00")
    assert parse_amount("fifty fifty") is None
    assert parse_duration_days("twenty-one days") == 21
    assert parse_duration_days("three weeks") == 21
