"""A blank English spaCy pipeline whose entity ruler finds Parley's entities.

No pretrained spaCy model can be downloaded here, so the pipeline is ``spacy.blank("en")``
plus an ``entity_ruler`` that labels ``amount``, ``date``, ``frequency``, ``duration``
and ``hardship`` in texting-style messages. Rasa loads it with ``SpacyNLP`` (``model:``
set to the directory :func:`build` writes); ``SpacyEntityExtractor`` then reports the
ruler's spans and the entity normaliser turns them into contract values with
:mod:`bot.nlu.normalize`. Every pattern here is written so that the span it labels
normalises with those functions.

The ruler keeps the longest match when patterns overlap, which is how a number inside a
date ("march 3 1985"), a duration ("3 months") or a time ("at 5pm") is kept from being
labelled an amount. A pattern cannot look outside its own span, so a bare number whose
only non-money cue lies beside it (a phone number typed in spaced groups, "50%",
"i'm 45") is still labelled ``amount``; the dialogue should prefer
:func:`bot.nlu.normalize.extract_amount` on the whole message, which reads context.

Run ``python -m bot.nlu.spacy_pipeline PATH`` to write the pipeline to ``PATH``.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import spacy
from spacy.language import Language

from bot.nlu.normalize import (
    HARDSHIP_PHRASES,
    MONTHS,
    ORDINAL_WORDS,
    SCALE_WORDS,
    TEEN_WORDS,
    TENS_WORDS,
    UNIT_WORDS,
    WEEKDAYS,
)

__all__ = ["LABELS", "PHONE_TOKEN", "PIPELINE_NAME", "build", "build_pipeline", "patterns"]

PIPELINE_NAME = "parley_entities"
PIPELINE_VERSION = "0.1.0"
LABELS = ("amount", "date", "frequency", "duration", "hardship")

Pattern = dict[str, Any]
Token = dict[str, Any]

# ----------------------------------------------------------------------------
# Token building blocks. Rasa's SpacyNLP lower-cases text before spaCy sees it, and
# people type "Friday" or "FRIDAY", so every text comparison uses LOWER.
# ----------------------------------------------------------------------------

# A money-shaped number: no leading zero (those are dates and phone numbers), thousands
# grouped by commas, at most two decimals, at most 10,000,000 (normalize's cap).
_MONEY_NUMBER = (
    r"^~?(?:(?:[1-9][0-9]{0,2}(?:,[0-9]{3})?|[1-9](?:,[0-9]{3}){2}|[1-9][0-9]{0,6}|0)"
    r"(?:\.[0-9]{1,2})?|10,?000,?000(?:\.00?)?)(?:ish)?$"
)
_K_NUMBER = r"^~?[1-9][0-9]{0,3}(?:\.[0-9]{1,3})?k$"
_PENCE = r"^[1-9][0-9]?p$"
_DAY_NUMBER = r"^(?:0?[1-9]|[12][0-9]|3[01])$"
_DAY_ORDINAL = r"^(?:0?[1-9]|[12][0-9]|3[01])(?:st|nd|rd|th)$"
_YEAR = r"^(?:19|20)[0-9]{2}$"
_HOUR = r"^(?:0?[1-9]|1[0-2])$"
_CLOCK = r"^(?:[01]?[0-9]|2[0-3]):[0-5][0-9]$"
_CLOCK_AMPM = r"^(?:0?[1-9]|1[0-2])(?::[0-5][0-9])?(?:am|pm)$"
# Counts are bounded so every span normalises: durations up to 100 years, relative
# dates within the 50 years normalize accepts.
_GLUED_DURATION = (
    r"^(?:[1-9][0-9]{0,2}(?:days?|wks?|weeks?|mos?|mths?|months?)|[1-9][0-9]?(?:yrs?|years?))$"
)
_GLUED_OFFSET = (
    r"^(?:[1-9][0-9]{0,2}(?:days?|wks?|weeks?)|[1-9][0-9]?(?:mos?|mths?|months?)"
    r"|[1-9](?:yrs?|years?))$"
)

# Hyphen/dot phone numbers ("555-123-4567", "1-800-555-1234", "123-4567") kept as one
# token, which no amount pattern matches; spaCy would otherwise split them at each "-".
# The tokenizer serialises this regex, so a loaded pipeline tokenizes the same way.
PHONE_TOKEN = r"^\+?(?:[0-9]{1,3}[-.])?(?:[0-9]{3}[-.])?[0-9]{3}[-.][0-9]{4}$"

_CURRENCY_SYMBOLS = ["$", "£", "€"]
_CURRENCY_WORDS = ["dollar", "dollars", "buck", "bucks", "usd", "quid", "pound", "pounds",
                   "gbp", "euro", "euros", "eur"]  # fmt: skip
_SUBUNITS = ["cent", "cents", "pence"]
_SCALES = sorted(SCALE_WORDS)
_UNITS = sorted(UNIT_WORDS)
_BIG_WORDS = sorted(set(TEEN_WORDS) | set(TENS_WORDS))  # ten..ninety: money on their own
_SMALL_QUANTITIES = sorted(set(UNIT_WORDS) - {"zero"} | set(TEEN_WORDS) | set(TENS_WORDS))
_SHORT_UNITS = ["day", "days", "wk", "wks", "week", "weeks", "fortnight", "fortnights"]
_MONTH_UNITS = ["mo", "mos", "mth", "mths", "month", "months"]
_YEAR_UNITS = ["yr", "yrs", "year", "years"]
_DAY_UNITS = _SHORT_UNITS + _MONTH_UNITS + _YEAR_UNITS
_BELOW_TWENTY = sorted(set(UNIT_WORDS) - {"zero"} | set(TEEN_WORDS))
_MONTH_NAMES = sorted(MONTHS)
_WEEKDAY_SAFE = sorted(w for w in WEEKDAYS if w not in ("mon", "wed", "sat", "sun"))
_WEEKDAY_ALL = sorted(WEEKDAYS)
_ORDINAL_WORDS = sorted(w for w in ORDINAL_WORDS if " " not in w and "-" not in w)
_TOMORROW = ["tomorrow", "tmrw", "tmrow", "tmr", "tmw", "tmoro", "tomoz", "2morrow", "2moro",
             "2morow", "2mrw", "2mrow", "tomorow", "tommorow", "tommorrow", "tomorrw"]  # fmt: skip
_TODAY = ["today", "tonight", "2day", "tdy", "2nite", "tonite"]
_YESTERDAY = ["yesterday", "yday"]
_CHILDREN = ["kids", "children", "kiddos"]
# Too ambiguous alone for a pattern that cannot see the next word ("sick of this");
# normalize still reads them in context, and longer phrases ("got sick") are labelled.
RULER_SKIPS_PHRASES = frozenset({"sick"})


def _lower(*words: str) -> Token:
    return {"LOWER": words[0]} if len(words) == 1 else {"LOWER": {"IN": list(words)}}


def _in(words: Sequence[str], op: str | None = None) -> Token:
    token: Token = {"LOWER": {"IN": list(words)}}
    if op:
        token["OP"] = op
    return token


def _re(regex: str) -> Token:
    return {"LOWER": {"REGEX": regex}}


Slot = Token | Sequence["Token | Sequence[Token]"]


def _expand(*slots: Slot) -> list[list[Token]]:
    """Every token sequence that picks one option per slot.

    A slot is one token, or a list of options where each option is a token, a list of
    tokens, or ``{}`` / ``[]`` for "nothing here". Spelling alternatives out, rather
    than using "?" operators, keeps each pattern's span exact instead of relying on the
    longest of several overlapping matches to win.
    """
    sequences: list[list[Token]] = [[]]
    for slot in slots:
        options = [slot] if isinstance(slot, dict) else list(slot)
        fragments: list[list[Token]] = []
        for option in options:
            if isinstance(option, dict):
                fragments.append([option] if option else [])
            else:
                fragments.append(list(option))
        sequences = [seq + fragment for seq in sequences for fragment in fragments]
    return sequences


_NOTHING: Token = {}


def _count(max_digits: int) -> Token:
    """A whole count without a leading zero ("0 days" is no span at all)."""
    return {"IS_DIGIT": True, "LENGTH": {"<=": max_digits}, "LOWER": {"REGEX": r"^[1-9]"}}


def _amount_patterns() -> list[Pattern]:
    money = _re(_MONEY_NUMBER)
    k_number = _re(_K_NUMBER)
    symbol = _in(_CURRENCY_SYMBOLS)
    word = _in(_CURRENCY_WORDS)
    scale = _in(_SCALES)
    sequences: list[list[Token]] = []
    # "$50", "$1.2k", "$2 grand", "50 bucks", "2 grand", "50$", "1.2k", "75 cents".
    sequences += _expand([_NOTHING, symbol, _in(["usd", "gbp", "eur"])], [money, k_number])
    sequences += _expand([_NOTHING, symbol], money, scale, [_NOTHING, word])
    sequences += _expand([money, k_number], [word, symbol])
    # spaCy splits a capital "K" off ("1.2K" -> "1.2", "K"); SPACY=False keeps it glued.
    glued_money = {**money, "SPACY": False}
    sequences += _expand([_NOTHING, symbol], glued_money, _lower("k"), [_NOTHING, word])
    sequences += _expand(money, _in(_SUBUNITS))
    sequences += [[_re(_PENCE)]]
    # Spelled out: "fifty", "twenty five", "a hundred and fifty", "two hundred fifty",
    # "twelve hundred", "a couple hundred", "two grand", each optionally "... bucks".
    tens = _in(sorted(TENS_WORDS))
    units = _in([u for u in _UNITS if u != "zero"])
    below_hundred: list[list[Token]] = [
        [_in(_BIG_WORDS)],
        [tens, units],
        [tens, _lower("-"), units],
    ]
    leads = [[_in(["a", "an"])], [units], [_in(sorted(TEEN_WORDS))], [_lower("couple")],
             [_in(["a"]), _lower("couple")]]  # fmt: skip
    spelled: list[list[Token]] = list(below_hundred)
    for lead in leads:
        for sc in (["hundred"], ["thousand", "grand"]):
            head = lead + [_in(sc)]
            spelled.append(head)
            if sc == ["hundred"]:
                for tail in below_hundred + [[units]]:
                    spelled.append(head + tail)
                    spelled.append(head + [_lower("and")] + tail)
    for seq in spelled:
        sequences.append(seq)
        sequences.append(seq + [word])
    return [{"label": "amount", "pattern": seq} for seq in sequences]


# Calendar validity, so that every date the ruler labels is a real date: each group of
# months with its last day (February's 29th is allowed only without a year or with a
# leap year, which the year token then has to be).
_MONTH_GROUPS: tuple[tuple[tuple[int, ...], int], ...] = (
    ((1, 3, 5, 7, 8, 10, 12), 31),
    ((4, 6, 9, 11), 30),
    ((2,), 28),
)
_ANY_YEAR4 = r"(?:19|20)[0-9]{2}"
_ANY_YEAR2 = r"[0-9]{2}"
_LEAP_YEAR4 = r"(?:19(?:0[48]|[2468][048]|[13579][26])|20(?:[02468][048]|[13579][26]))"
_LEAP_YEAR2 = r"(?:[02468][048]|[13579][26])"


def _numbers(values: Sequence[int]) -> str:
    """Regex alternation for these numbers, single digits with an optional leading 0."""
    return "(?:" + "|".join(f"0?{n}" if n < 10 else str(n) for n in values) + ")"


def _day_regex(first: int, last: int, ordinal: bool = False) -> str:
    """One token: a day of the month from ``first`` to ``last``, optionally "3rd"-style."""
    suffix = "(?:st|nd|rd|th)" if ordinal else ""
    return f"^{_numbers(range(first, last + 1))}{suffix}$"


def _month_day(sep: str, day_first: bool = True) -> str:
    """Shapes like 3/4 (no anchors): month first, or day first when it cannot be a month."""
    parts = []
    for months, last in _MONTH_GROUPS:
        parts.append(f"{_numbers(months)}{sep}{_numbers(range(1, last + 1))}")
        if day_first:
            parts.append(f"{_numbers(range(13, last + 1))}{sep}{_numbers(months)}")
    return "(?:" + "|".join(parts) + ")"


def _leap_day(sep: str, day_first: bool = True) -> str:
    return f"(?:0?2{sep}29|29{sep}0?2)" if day_first else f"0?2{sep}29"


# One token each: "3/4", "03/04/1985", "25/12/1990" (day first only when it must be,
# as in normalize), "7.8.1979" (dots need a year), "1985/03/04".
_SLASH_DATE = (
    f"^(?:{_month_day('/')}(?:/(?:{_ANY_YEAR2}|{_ANY_YEAR4}))?"
    f"|{_leap_day('/')}(?:/(?:{_LEAP_YEAR2}|{_LEAP_YEAR4}))?)$"
)
_DOT = r"\."
_DOT_DATE = (
    f"^(?:{_month_day(_DOT)}{_DOT}(?:{_ANY_YEAR2}|{_ANY_YEAR4})"
    f"|{_leap_day(_DOT)}{_DOT}(?:{_LEAP_YEAR2}|{_LEAP_YEAR4}))$"
)
_ISO_DATE = (
    f"^(?:{_ANY_YEAR4}/{_month_day('/', day_first=False)}|{_LEAP_YEAR4}/0?2/29"
    f"|{_ANY_YEAR4}{_DOT}{_month_day(_DOT, day_first=False)}|{_LEAP_YEAR4}{_DOT}0?2{_DOT}29)$"
)


def _month_name_dates(
    names: Sequence[str], first: int, last: int, year: Token | None
) -> list[list[Token]]:
    """Dates like march 3, 3rd of march, the 3rd of march 1985, for days first..last."""
    month = _in(names)
    d_num = _re(_day_regex(first, last))
    d_ord = _re(_day_regex(first, last, ordinal=True))
    d_word = _in([w for w in _ORDINAL_WORDS if first <= ORDINAL_WORDS[w] <= last])
    comma = _lower(",")
    leads: list[list[Token]] = [
        [d_num],
        [d_ord],
        [_lower("the"), d_ord],
        [_lower("the"), d_word],
        [d_word],
    ]
    sequences: list[list[Token]] = []
    if year is None:
        # "march 3", "march 3rd", "march the 3rd", "3 march", "the 3rd of march".
        sequences += _expand(month, [[], [_lower("the")]], [d_num, d_ord, d_word])
        for lead in leads:
            sequences += [lead + [month], lead + [_lower("of"), month]]
    else:
        # "march 3 1985", "march 3, 1985", "12 july 1990", "the 3rd of march, 1985".
        sequences += _expand(month, [d_num, d_ord], [[year], [comma, year]])
        for lead in leads:
            for of in ([], [_lower("of")]):
                sequences += [lead + of + [month, year], lead + of + [month, comma, year]]
    return sequences


def _numeric_dash_dates(
    months: Sequence[int], first: int, last: int, year2: str, year4: str
) -> list[list[Token]]:
    """The dashed forms spaCy splits into five tokens: "03-04-85", "25-12-1990", "1985-03-04"."""
    dash = _lower("-")
    month = _re(f"^{_numbers(months)}$")
    day = _re(_day_regex(first, last))
    late_day = _re(_day_regex(max(first, 13), last))  # day first only when it must be
    sequences = []
    for year in (_re(f"^{year2}$"), _re(f"^{year4}$")):
        sequences += [[month, dash, day, dash, year], [late_day, dash, month, dash, year]]
    sequences.append([_re(f"^{year4}$"), dash, month, dash, day])
    return sequences


def _date_patterns() -> list[Pattern]:
    month = _in(_MONTH_NAMES)
    day_num = _re(_DAY_NUMBER)
    day_ord = _re(_DAY_ORDINAL)
    ord_word = _in(_ORDINAL_WORDS)
    year = _re(_YEAR)
    comma = _lower(",")
    weekday = _in(_WEEKDAY_SAFE)
    any_weekday = _in(_WEEKDAY_ALL)
    day_words = _in(_TOMORROW + _TODAY + _YESTERDAY)
    sequences: list[list[Token]] = []
    # Month names and numeric dates, each day bounded by its month's length.
    for months, last in _MONTH_GROUPS:
        names = sorted(name for name, number in MONTHS.items() if number in months)
        no_year_last = 29 if months == (2,) else last  # "feb 29" is the next leap day
        sequences += _month_name_dates(names, 1, no_year_last, None)
        sequences += _month_name_dates(names, 1, last, year)
        sequences += _numeric_dash_dates(months, 1, last, _ANY_YEAR2, _ANY_YEAR4)
        if months == (2,):
            leap = _re(f"^{_LEAP_YEAR4}$")
            sequences += _month_name_dates(names, 29, 29, leap)
            sequences += _numeric_dash_dates(months, 29, 29, _LEAP_YEAR2, _LEAP_YEAR4)
    # "june 2024" (the 1st of June).
    sequences += [[month, year], [month, comma, year]]
    # "the 15th", "the 1st of next month", "on the 15".
    sequences += [[day_ord], [_lower("the"), day_ord]]
    for lead in ([day_ord], [_lower("the"), day_ord], [_lower("the"), ord_word]):
        sequences += _expand([lead], _lower("of"), _in(["the", "this", "next"]), _lower("month"))
    sequences += [[_in(["on", "by", "before", "until", "till"]), _lower("the"), day_num]]
    # Numeric dates spaCy keeps as one token: "3/4", "03/04/1985", "7.8.1979".
    sequences += [[_re(_SLASH_DATE)], [_re(_DOT_DATE)], [_re(_ISO_DATE)]]
    # Weekdays: "friday", "next friday", "this fri", "on sat" (sat/sun/mon/wed need a cue
    # word, being ordinary words too), "friday after next".
    sequences += [
        [weekday],
        [_in(["next", "this", "coming", "last"]), any_weekday],
        [_lower("on"), any_weekday],
        [weekday, _lower("after"), _lower("next")],
    ]
    # "tomorrow", "tmrw", "today", "the day after tomorrow", "yesterday".
    sequences += [[day_words], [_lower("day"), _lower("after"), _in(_TOMORROW)],
                  [_lower("the"), _lower("day"), _lower("after"), _in(_TOMORROW)]]  # fmt: skip
    # "end of the month", "eom", "next week", "next month", "this weekend".
    sequences += _expand(
        [[], [_lower("the")]],
        _lower("end"),
        _lower("of"),
        [[], [_in(["the", "this", "next", "last"])]],
        _lower("month"),
    )
    sequences += [
        [_lower("eom")],
        [_lower("next"), _in(["week", "wk", "month"])],
        [_in(["beginning", "start"]), _lower("of"), _lower("next"), _lower("month")],
        [_lower("weekend")],
        [_in(["this", "the", "next"]), _lower("weekend")],
    ]
    # "in 2 weeks", "in a month", "in a couple of weeks", "within 10 days", "2 weeks ago",
    # "a week from now".
    words: list[list[Token]] = [[_in(["a", "an"] + _BELOW_TWENTY)]]
    vague: list[list[Token]] = [
        [_lower("a"), _lower("couple"), _lower("of")],
        [_lower("a"), _lower("few")],
        [_lower("couple"), _lower("of")],
    ]
    offsets = [
        ([[_count(3)], *words, *vague], _SHORT_UNITS),
        ([[_count(2)], *words, *vague], _MONTH_UNITS),
        ([[_count(1)], *words, *vague], _YEAR_UNITS),
    ]
    for quantities, unit_words in offsets:
        units = _in(unit_words)
        for q in quantities:
            sequences.append([_in(["in", "within"]), *q, units])
            sequences.append([*q, units, _lower("ago")])
            sequences.append([*q, units, _lower("from"), _in(["now", "today"])])
    sequences += [[_lower("in"), _re(_GLUED_OFFSET)], [_re(_GLUED_OFFSET), _lower("ago")]]
    # Times: "at 5pm", "5 pm", "5:30", "friday at 5pm" (a time alone is today).
    times: list[list[Token]] = [[_re(_HOUR), _in(["am", "pm", "a.m.", "p.m."])],
                                [_re(_CLOCK)], [_re(_CLOCK_AMPM)]]  # fmt: skip
    for t in times:
        sequences += [t, [_lower("at")] + t]
        for day in ([weekday], [day_words], [_in(["next", "this", "on"]), any_weekday]):
            sequences += [day + t, day + [_lower("at")] + t]
    return [{"label": "date", "pattern": seq} for seq in sequences]


def _frequency_patterns() -> list[Pattern]:
    monthly: list[list[Token]] = [
        [_in(["monthly", "mthly"])],
        [_in(["a", "per", "each", "every"]), _in(["month", "mo", "mth"])],
        [_lower("/"), _in(["month", "mo", "mth", "m"])],
        [_lower("once"), _lower("a"), _lower("month")],
        [_lower("every"), _in(["4", "four"]), _lower("weeks")],
    ]
    weekly: list[list[Token]] = [
        [_in(["weekly", "wkly"])],
        [_in(["a", "per", "each", "every"]), _in(["week", "wk"])],
        [_lower("/"), _in(["week", "wk", "w"])],
        [_in(["once", "twice", "2x"]), _lower("a"), _lower("week")],
        [_lower("every"), _in([w for w in _WEEKDAY_ALL if len(w) > 3])],
    ]
    biweekly: list[list[Token]] = [
        [_in(["biweekly", "fortnightly", "semimonthly"])],
        [_lower("bi"), _lower("-"), _lower("weekly")],
        [_lower("bi"), _lower("weekly")],
        [_lower("semi"), _lower("-"), _lower("monthly")],
        [
            _lower("every"),
            _in(["other", "second", "2nd", "2", "two"]),
            _in(["week", "weeks", "wk", "wks"]),
        ],
        [_lower("every"), _lower("other"), _in([w for w in _WEEKDAY_ALL if len(w) > 3])],
        [_lower("every"), _lower("fortnight")],
        [_in(["twice", "2x"]), _in(["a", "per"]), _in(["month", "mo"])],
        [_lower("twice"), _lower("monthly")],
    ]
    patterns: list[Pattern] = []
    for name, sequences in (("monthly", monthly), ("weekly", weekly), ("biweekly", biweekly)):
        patterns += [{"label": "frequency", "pattern": seq, "id": name} for seq in sequences]
    return patterns


def _duration_patterns() -> list[Pattern]:
    units = _in(_DAY_UNITS)
    sequences: list[list[Token]] = [
        [_count(3), _in(_SHORT_UNITS + _MONTH_UNITS)],
        [_count(2), _in(_YEAR_UNITS)],
        [_re(r"^[1-9][0-9]?\.[0-9]$"), _in(_SHORT_UNITS + _MONTH_UNITS)],
        [_re(r"^[0-9]\.[0-9]$"), _in(_YEAR_UNITS)],
        [_in(_SMALL_QUANTITIES), units],
        [_re(_GLUED_DURATION)],
        [_lower("a"), _lower("couple"), _lower("of"), units],
        [_lower("a"), _lower("couple"), units],
        [_lower("couple"), _lower("of"), units],
        [_lower("a"), _lower("few"), units],
        # "for a month", "about a week": spans, whereas "a month" alone is a rhythm.
        [
            _in(["for", "about", "around", "almost", "nearly", "over", "under"]),
            _in(["a", "an"]),
            units,
        ],
        [_in(["a", "an"]), units, _lower("and"), _lower("a"), _lower("half")],
        [_lower("half"), _lower("a"), units],
    ]
    return [{"label": "duration", "pattern": seq} for seq in sequences]


def _hardship_patterns() -> list[Pattern]:
    patterns: list[Pattern] = []
    for kind, phrases in HARDSHIP_PHRASES.items():
        patterns += [
            {"label": "hardship", "pattern": phrase, "id": kind}
            for phrase in phrases
            if phrase not in RULER_SKIPS_PHRASES
        ]
    # "2 kids", "three children": the count belongs to the hardship, not an amount.
    patterns.append(
        {"label": "hardship", "pattern": [{"LIKE_NUM": True}, _in(_CHILDREN)], "id": "family"}
    )
    patterns.append(
        {
            "label": "hardship",
            "pattern": [
                _in(["lost", "lose", "losing"]),
                _in(["my", "his", "her", "our", "their", "the", "a"], "?"),
                _in(["job", "jobs", "position"]),
            ],  # fmt: skip
            "id": "job_loss",
        }
    )
    return patterns


def patterns() -> list[Pattern]:
    """Every entity-ruler pattern, token patterns and phrase patterns together."""
    return (
        _amount_patterns()
        + _date_patterns()
        + _frequency_patterns()
        + _duration_patterns()
        + _hardship_patterns()
    )


def build_pipeline() -> Language:
    """A blank English pipeline with one ``entity_ruler`` labelling Parley's entities.

    The only change to the blank tokenizer is :data:`PHONE_TOKEN`, so hyphenated phone
    numbers stay whole instead of becoming three "amounts".
    """
    nlp = spacy.blank("en")
    nlp.tokenizer.token_match = re.compile(PHONE_TOKEN).match  # type: ignore[union-attr]
    nlp.meta["name"] = PIPELINE_NAME
    nlp.meta["version"] = PIPELINE_VERSION
    nlp.meta["description"] = (
        "Blank English tokenizer plus an entity ruler for Parley's amount, date, "
        "frequency, duration and hardship entities."
    )
    ruler = nlp.add_pipe(
        "entity_ruler",
        config={"overwrite_ents": True, "phrase_matcher_attr": "LOWER", "validate": True},
    )
    ruler.add_patterns(patterns())  # type: ignore[attr-defined]
    return nlp


def build(path: str | Path) -> Path:
    """Build the pipeline and save it to ``path`` (replacing what an earlier build wrote).

    Refuses to wipe a non-empty directory that is not a spaCy pipeline, or a file, so a
    wrong argument cannot delete unrelated work.
    """
    target = Path(path)
    if target.exists():
        if not target.is_dir():
            raise ValueError(f"{target} exists and is not a directory")
        if any(target.iterdir()) and not (target / "config.cfg").is_file():
            raise ValueError(f"{target} is not empty and is not a spaCy pipeline; not wiping it")
        shutil.rmtree(target)
    build_pipeline().to_disk(target)
    return target


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m bot.nlu.spacy_pipeline PATH``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("path", help="directory to write the spaCy pipeline to")
    args = parser.parse_args(argv)
    try:
        written = build(args.path)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote spaCy pipeline to {written.resolve()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
