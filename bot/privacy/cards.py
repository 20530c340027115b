"""Mask payment card numbers that debtors text, before anything stores or reads them.

Debtors sometimes text a card number to "just pay it". The number must never reach the
logs, the tracker store or the NLU features, so every incoming message passes through
:func:`mask_card_numbers` first. Only Luhn-valid digit strings of 13-19 digits in a card
layout are masked, so phone numbers, amounts and dates of birth stay readable.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["CARD_PLACEHOLDER", "luhn_valid", "mask_card_numbers"]

CARD_PLACEHOLDER = "[card number removed]"

# Group lengths printed on cards, longest first so a 19-digit card is not cut to 16:
# 4-4-4-4-3 and 4-4-4-4 (Visa, Mastercard, Discover...), 4-6-5 (Amex), 4-6-4 (Diners),
# 4-4-4-1..4 (13- to 16-digit numbers typed in fours).
_GROUPINGS: tuple[tuple[int, ...], ...] = tuple(
    sorted(
        {(4, 4, 4, 4, 3), (4, 4, 4, 4), (4, 6, 5), (4, 6, 4), (4, 4, 4, 1), (4, 4, 4, 2),
         (4, 4, 4, 3)},
        key=lambda g: (-sum(g), g),
    )
)  # fmt: skip
_MIN_DIGITS, _MAX_DIGITS = 13, 19

# Digit groups joined by exactly one space, no-break space, hyphen or en dash. `\d` also
# takes full-width and other scripts' digits, which phone keyboards produce. No nested
# quantifier can match the same text two ways, so the scan is linear even on a
# 5,000-digit message.
_CHAIN_RE = re.compile(r"\d+(?:[ \u00a0\-\u2013]\d+)*")
_GROUP_RE = re.compile(r"\d+")


def _ascii_digits(s: str) -> str:
    return "".join(str(unicodedata.decimal(ch)) for ch in s)


def luhn_valid(digits: str) -> bool:
    """True if ``digits`` (only digits, at least two) passes the Luhn checksum.

    Anything else (empty, separators, letters, a non-string) is False rather than an
    error, because the input comes from untrusted messages.
    """
    if not isinstance(digits, str) or len(digits) < 2:
        return False
    if not all(ch.isdecimal() for ch in digits):
        return False
    total = 0
    for position, ch in enumerate(reversed(_ascii_digits(digits))):
        value = ord(ch) - 48
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _card_windows(text: str, groups: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """(start, end) character spans of the card numbers among one chain's digit groups."""
    found: list[tuple[int, int]] = []
    i = 0
    while i < len(groups):
        start = groups[i][0]
        # "+44..." is an international phone number, never a card.
        if start > 0 and text[start - 1] == "+":
            i += 1
            continue
        matched = 0
        for grouping in _GROUPINGS:
            size = len(grouping)
            window = groups[i : i + size]
            if len(window) == size and all(
                e - s == n for (s, e), n in zip(window, grouping, strict=True)
            ):
                digits = "".join(text[s:e] for s, e in window)
                if luhn_valid(digits):
                    matched = size
                    break
        if not matched:
            s, e = groups[i]
            if _MIN_DIGITS <= e - s <= _MAX_DIGITS and luhn_valid(text[s:e]):
                matched = 1
        if matched:
            found.append((start, groups[i + matched - 1][1]))
            i += matched
        else:
            i += 1
    return found


def mask_card_numbers(text: str) -> tuple[str, int]:
    """Replace each payment card number with ``[card number removed]``.

    A card number is 13-19 digits that pass the Luhn check, written contiguously or in
    card-like groups (4-4-4-4, 4-4-4-4-3, 4-6-5, 4-6-4, 4-4-4-1..4) separated by single
    spaces or dashes. Phone numbers ("+1 555 123 4567", "07700 900123", any run after a
    "+"), amounts, dates and digit strings that fail Luhn are left alone. Returns the
    masked text and how many numbers were masked; linear in the length of the text.
    """
    if not isinstance(text, str) or not text:
        return ("" if not isinstance(text, str) else text), 0
    if len(text) < _MIN_DIGITS or _CHAIN_RE.search(text) is None:
        # Too short for 13 digits, or no digit at all (most strings of a stored turn:
        # names, intents, timestamps): nothing to mask, and no work to find that out.
        return text, 0
    pieces: list[str] = []
    last = 0
    count = 0
    for chain in _CHAIN_RE.finditer(text):
        groups = [
            (chain.start() + g.start(), chain.start() + g.end())
            for g in _GROUP_RE.finditer(chain.group())
        ]
        for start, end in _card_windows(text, groups):
            pieces.append(text[last:start])
            pieces.append(CARD_PLACEHOLDER)
            last = end
            count += 1
    pieces.append(text[last:])
    return "".join(pieces), count
