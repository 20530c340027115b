"""Spelled-out numbers ("two hundred and fifty", "a couple of hundred", "3 grand").

The word tables are public because the spaCy entity rules (bot/nlu/spacy_pipeline.py)
build their patterns from them, so the rules and the normaliser know the same words.
"""

from __future__ import annotations

from collections.abc import Sequence

UNIT_WORDS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
}
TEEN_WORDS = {
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}
TENS_WORDS = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fourty": 40,  # common misspelling
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
SCALE_WORDS = {
    "hundred": 100,
    "thousand": 1000,
    "grand": 1000,
    "million": 1_000_000,
    "mil": 1_000_000,
}
NUMBER_WORDS = (
    frozenset(UNIT_WORDS) | frozenset(TEEN_WORDS) | frozenset(TENS_WORDS) | frozenset(SCALE_WORDS)
)


def _words_value(words: Sequence[str]) -> int | None:
    """The integer that spelled-out ``words`` name, or None if they are not one number.

    A small state machine rather than a sum, so "fifty fifty", "one fifty" (1.50 or
    150?) and "twenty twenty four" (a year) are rejected instead of being added up.
    """
    total = 0
    group = 0
    state = "start"
    last_scale: int | None = None
    for w in words:
        if w in ("a", "an"):
            if state != "start":
                return None
            group, state = 1, "a"
        elif w == "couple":
            if state not in ("start", "a"):
                return None
            group, state = 2, "couple"
        elif w == "of":
            if state != "couple":
                return None
            state = "couple_of"
        elif w == "and":
            if state not in ("hundred", "scale"):
                return None
            state = "and"
        elif w in UNIT_WORDS:
            if state not in ("start", "tens", "hundred", "scale", "and"):
                return None
            group += UNIT_WORDS[w]
            state = "unit"
        elif w in TEEN_WORDS or w in TENS_WORDS:
            if state not in ("start", "hundred", "scale", "and"):
                return None
            group += TEEN_WORDS.get(w) or TENS_WORDS[w]
            state = "tens" if w in TENS_WORDS else "teen"
        elif w == "hundred":
            if state in ("hundred", "and", "scale") or group >= 100:
                return None
            group = (group or 1) * 100
            state = "hundred"
        elif w in SCALE_WORDS:
            scale = SCALE_WORDS[w]
            if state == "and" or (last_scale is not None and scale >= last_scale):
                return None
            total += (group or 1) * scale
            group, last_scale, state = 0, scale, "scale"
        else:
            return None
    if state in ("start", "a", "couple", "couple_of", "and"):
        return None
    return total + group
