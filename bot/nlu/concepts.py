"""Concept features: which concepts of bot/nlu/concepts.yml a message mentions.

The intent and emotion models see these as extra tokens next to the words and character
n-grams, so one example of "bye" teaches them about "g2g" too. The lexicon is read once
and carried inside each trained model (a ``ConceptAnalyzer`` pickles its patterns), so a
model always reads text the way it was trained to.

    python -m bot.nlu.concepts "omg my flight is delayed"   # shows the matches
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import yaml

from bot.nlu.normalize import hardship

LEXICON_PATH = Path(__file__).with_name("concepts.yml")
# What a model that reads concepts depends on besides its own code (its fingerprint).
FILES = (LEXICON_PATH, Path(__file__), Path(hardship.__file__))
# The hardship vocabulary has one home, bot/nlu/normalize/hardship.py (the phrases of the
# `hardship` entity). A lexicon concept named like a hardship kind gets that kind's phrases
# on top of the broader cues the lexicon lists for it, except the phrases that name a
# crisis (hardship.CRISIS_PHRASES): those stay with the crisis concepts alone, so "chemo"
# or "my dad died" never looks like ordinary illness or family trouble to the intent models.
HARDSHIP_CONCEPTS = ("job_loss", "illness", "family", "reduced_income")
# The concepts that carry crisis phrases (tests/nlu/test_hardship_vocabulary.py checks that
# every entity phrase they match is one of hardship.CRISIS_PHRASES).
CRISIS_CONCEPTS = ("crisis", "bereavement", "severe_illness", "abuse")
# How much the concept channel counts next to words and characters (0.45 scored best in
# 5-fold CV for both the intent and the emotion model; at 1.0 it drowns the words).
DEFAULT_WEIGHT = 0.45

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'"})


class LexiconError(ValueError):
    """The concept lexicon is malformed (the message names the concept and the entry)."""


def load_lexicon(path: Path = LEXICON_PATH) -> dict[str, list[str]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, Mapping) or not data:
        raise LexiconError(f"{path}: expected a mapping of concept names to phrase lists")
    lexicon: dict[str, list[str]] = {}
    for concept, phrases in data.items():
        if not isinstance(concept, str) or not re.fullmatch(r"[a-z_]+", concept):
            raise LexiconError(f"{path}: concept name {concept!r} must be lower_snake_case")
        if not isinstance(phrases, list) or not phrases:
            raise LexiconError(f"{path}: concept {concept!r} needs a non-empty list of phrases")
        for phrase in phrases:
            # YAML reads a bare yes/no/on/off as a boolean: quote those in the file.
            if not isinstance(phrase, str) or not phrase.strip():
                raise LexiconError(
                    f"{path}: concept {concept!r} has {phrase!r}; every entry must be a "
                    "non-empty string (quote yes, no, on, off and numbers)"
                )
        lexicon[concept] = [p.strip().lower().translate(_APOSTROPHES) for p in phrases]
    return with_hardship_phrases(lexicon)


def hardship_phrases_for(kind: str) -> list[str]:
    """The `hardship` entity phrases of ``kind`` that the concept of that name takes."""
    return [p for p in hardship.HARDSHIP_PHRASES[kind] if p not in hardship.CRISIS_PHRASES]


def with_hardship_phrases(lexicon: Mapping[str, list[str]]) -> dict[str, list[str]]:
    """``lexicon`` with each hardship concept it defines extended by the entity's phrases."""
    merged = dict(lexicon)
    for kind in HARDSHIP_CONCEPTS:
        if kind in merged:
            merged[kind] = list(dict.fromkeys([*merged[kind], *hardship_phrases_for(kind)]))
    return merged


def _pattern(phrases: Sequence[str]) -> re.Pattern[str]:
    # Longest first, so "thank you" wins over "thank"; whole words only; any whitespace.
    # Ties in alphabetical order: a set's order changes with PYTHONHASHSEED, and a pattern
    # that differs from one process to the next changes the saved ConceptRegexFeaturizer, so
    # Rasa's cache missed every NLU component after it on each new training process.
    alternatives = sorted(set(phrases), key=lambda p: (-len(p), p))
    body = "|".join(
        r"\s+".join(re.escape(w).replace("'", "['’ʼ]") for w in p.split()) for p in alternatives
    )
    return re.compile(rf"(?<!\w)(?:{body})(?!\w)")


# Concepts recognised by shape rather than by words: a figure (two or more digits, or
# digits with a currency sign or "k"), a day of the month ("the 15th"), and a lone digit,
# which after a list of options picks one ("2", "option 3").
_SHAPES = {
    "figure": re.compile(
        r"(?<![\w.,/])(?:[$£€]\s?\d[\d,]*(?:\.\d+)?|\d[\d,]*(?:\.\d+)?k|\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d{2,}(?:\.\d+)?)"
        r"(?![\w/])"
    ),
    "day_of_month": re.compile(r"(?<!\w)(?:[1-9]|[12]\d|3[01])(?:st|nd|rd|th)(?!\w)"),
    "lone_digit": re.compile(r"(?<![\w.,/$£€:-])[1-9](?![\w/%:]|[.,]\d)"),
}


class ConceptAnalyzer:
    """A scikit-learn ``analyzer``: text → the concept tokens it mentions (``c:name``).

    A concept that occurs more than once is one token; two concepts in one message also
    give their pair (``c:no+thanks``), since a "no" next to "thanks" means something else
    than a "no" alone.
    """

    def __init__(self, lexicon: Mapping[str, Sequence[str]] | None = None) -> None:
        lexicon = load_lexicon() if lexicon is None else lexicon
        patterns = {name: _pattern(phrases) for name, phrases in lexicon.items()}
        for name, shape in _SHAPES.items():
            # A lexicon concept of the same name ("figure": twenty, fifty, ...) adds words.
            words = patterns.get(name)
            patterns[name] = (
                re.compile(f"{words.pattern}|{shape.pattern}") if words is not None else shape
            )
        self.patterns = dict(sorted(patterns.items()))

    def concepts(self, text: str) -> list[str]:
        text = text.lower().translate(_APOSTROPHES)
        return [name for name, pattern in self.patterns.items() if pattern.search(text)]

    def __call__(self, text: str) -> list[str]:
        found = self.concepts(text)
        tokens = [f"c:{name}" for name in found]
        tokens += [f"c:{a}+{b}" for i, a in enumerate(found) for b in found[i + 1 :]]
        return tokens or ["c:none"]


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        print('usage: python -m bot.nlu.concepts "message text" [...]', file=sys.stderr)
        return 2
    analyzer = ConceptAnalyzer()
    for text in args:
        print(f"{text!r}: {', '.join(analyzer.concepts(text)) or '(no concept)'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
