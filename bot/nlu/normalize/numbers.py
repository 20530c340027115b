"""Spelled-out numbers ("two hundred and fifty", "a couple of hundred", "3 grand").

The word tables are public because the spaCy entity rules (bot/nlu/spacy_pipeline.py)
build their patterns from them, so the rules and the normaliser know the same words.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

from text_to_num import text2num

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


# Texting slang for the scales text2num knows by their proper names.
_SLANG_SCALES = {"grand": "thousand", "mil": "million"}
# Words that stand for the count before a scale word: "a hundred", "a couple of grand".
_COUNT_LEADS = {"a": "one", "an": "one", "couple": "two"}


def _words_value(words: Sequence[str]) -> int | None:
    """The integer that spelled-out ``words`` name, or None if they are not one number.

    text2num reads the number and rejects sequences that are not one number, so "fifty
    fifty", "one fifty" (1.50 or 150?) and "twenty twenty four" (a year) are refused
    instead of being added up. On top of it, the texting forms and the stricter rules
    this project keeps: "a"/"an"/"couple (of)" count only right before a scale word
    ("a hundred", "couple of grand"); "grand" and "mil" are thousand and million;
    "and" only joins a scale word to a smaller number ("two hundred and fifty", not
    "eighty and five"); scales fall ("thousand million" is refused), one "hundred" per
    group; and "zero" is a number only on its own.
    """
    words = list(words)
    lead = 1 if words[:1] in (["a"], ["an"]) else 0
    count = _COUNT_LEADS[words[0]] if lead else ""
    if words[lead : lead + 1] == ["couple"]:
        lead, count = lead + 1, "two"
        if words[lead : lead + 1] == ["of"]:
            lead += 1
    if lead:
        if len(words) == lead or words[lead] not in SCALE_WORDS:
            return None
        words = [count, *words[lead:]]
    if not words or not all(w in NUMBER_WORDS or w == "and" for w in words):
        return None
    if "zero" in words and words != ["zero"]:
        return None
    for i, w in enumerate(words):
        if w == "and" and not (
            0 < i < len(words) - 1
            and words[i - 1] in SCALE_WORDS
            and words[i + 1] not in SCALE_WORDS
            and words[i + 1] != "and"
        ):
            return None
    scales = [SCALE_WORDS[w] for w in words if w in SCALE_WORDS and w != "hundred"]
    if any(later >= earlier for earlier, later in pairwise(scales)):
        return None
    hundreds = 0
    for w in words:
        hundreds = hundreds + 1 if w == "hundred" else 0 if w in SCALE_WORDS else hundreds
        if hundreds > 1:
            return None
    try:
        return int(text2num(" ".join(_SLANG_SCALES.get(w, w) for w in words), "en"))
    except ValueError:
        return None
