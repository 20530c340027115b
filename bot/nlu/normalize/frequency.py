"""Payment frequencies: ``weekly``, ``biweekly`` or ``monthly`` (the label contract's three)."""

from __future__ import annotations

import re

from bot.nlu.normalize.tokens import _clean

FREQUENCIES = ("weekly", "biweekly", "monthly")


_WEEKDAY_STEMS = r"(?:mon|tues|wednes|thurs|fri|satur|sun)day"
# After "every" even the short forms are unambiguous: "every weds", "every other fri".
_ANY_WEEKDAY = r"(?:" + _WEEKDAY_STEMS + r"|mon|tues?|weds?|thu(?:rs?)?|fri|sat|sun)\b"
_FREQUENCY_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "biweekly",
        re.compile(
            r"\b(?:bi[\s-]?weekly|bi[\s-]?wkly|fortnightly|semi-?monthly|twice\s+monthly"
            r"|every\s+(?:other|second|2nd|2|two)\s+(?:weeks?|wks?|" + _ANY_WEEKDAY + r")"
            r"|every\s+(?:fortnight|14\s+days|fourteen\s+days)"
            r"|(?:once\s+)?(?:a|per|each)\s+fortnight"
            r"|(?:twice|2\s*x|two\s+times|2\s+times)\s+(?:a|per|each|every)\s+(?:month|mo|mth)\b)"
        ),
    ),
    (
        "weekly",
        re.compile(
            r"\b(?:weekly|wkly"
            r"|every\s+(?:single\s+)?(?:week|wk|7\s+days|seven\s+days)\b"
            r"|each\s+(?:week|wk)\b"
            r"|(?:a|per)\s+(?:week|wk)\b"
            r"|(?:once|twice|2\s*x)\s+a\s+week\b"
            r"|every\s+" + _ANY_WEEKDAY + r"|on\s+" + _WEEKDAY_STEMS + r"s\b)"
            r"|/\s*(?:week|wk|w)\b"
        ),
    ),
    (
        "monthly",
        re.compile(
            r"\b(?:monthly|mthly"
            r"|every\s+(?:single\s+)?(?:month|mo|mth|30\s+days|thirty\s+days|4\s+weeks|four\s+weeks)\b"
            r"|each\s+(?:month|mo|mth)\b"
            r"|(?:a|per)\s+(?:month|mo|mth)\b"
            r"|once\s+a\s+month\b)"
            r"|/\s*(?:month|mo|mth|m)\b"
        ),
    ),
)
# "in a month", "for a week", "a month ago": a time span, not a frequency.
_SPAN_BEFORE = frozenset(
    {"in", "for", "within", "about", "around", "than", "half", "over", "after", "like",
     "almost", "nearly", "just", "only", "past", "last", "least", "under", "take", "took"}
)  # fmt: skip
_SPAN_AFTER_RE = re.compile(
    r"\s*(?:ago|from|later|or\s+two|or\s+so|and\s+a\s+half|behind|late|early|off|now)\b"
)


def parse_frequency(text: str) -> str | None:
    """``weekly``, ``biweekly`` or ``monthly`` for the first payment rhythm the text names.

    "a month", "per month", "monthly", "every month", "/mo" -> monthly; "a week",
    "weekly", "every week", "every friday" -> weekly; "every 2 weeks", "every other
    week", "biweekly", "bi-weekly", "fortnightly", "every fortnight" -> biweekly.
    "twice a month" is biweekly and "twice a week" weekly (closest allowed value).
    "in a month" / "for a week" / "a month ago" are spans, not rhythms. Other rhythms
    (daily, quarterly, every 3 weeks) are None.
    """
    clean = _clean(text)
    best: tuple[int, int, str] | None = None
    for name, pattern in _FREQUENCY_PATTERNS:
        for m in pattern.finditer(clean):
            phrase = m.group()
            if phrase.startswith("a ") or phrase.startswith("per "):
                before = clean[: m.start()].split()
                if before and before[-1] in _SPAN_BEFORE and phrase.startswith("a "):
                    continue
                if _SPAN_AFTER_RE.match(clean, m.end()):
                    continue
            key = (m.start(), -(m.end() - m.start()), name)
            if best is None or key < best:
                best = key
            break
    return None if best is None else best[2]
