"""Normalise what debtors text into the values the NLU label contract promises.

Shared by the NLU components (the entity normaliser) and the dialogue actions, so it is
pure: no I/O, no global state, no network. Every public function accepts any string
(empty, emoji only, 5,000 characters, control characters, mixed scripts) and answers
``None`` rather than raising when the text does not say what was asked; the one
exception is :func:`local_today`, whose arguments come from configuration, not a debtor.

Decisions on ambiguous forms (also stated in each function's docstring):

* Numeric dates are month-first (``3/4/1985`` is March 4th), dots and dashes included
  (``7.8.1979`` is July 8th). Only when month-first is impossible and day-first is
  possible (``25/12/1990``) is the day taken first. ``1985-03-04`` is year-month-day.
* ``friday`` / ``this friday`` / ``on friday`` mean the nearest Friday on or after today
  (today itself when today is a Friday); ``next friday`` means the first Friday strictly
  after today, so the two differ only when today is a Friday.
* ``next week`` is the Monday after today; ``next month`` is the 1st of next month; a
  month and year without a day (``june 2024``) is the 1st of that month. A time of day
  alone (``at 5pm``) is today.
* ``twice a month`` is ``biweekly`` and ``twice a week`` is ``weekly``: the closest of
  the three frequencies the contract allows. A month is 30 days, a year 365.
* Money is :class:`~decimal.Decimal`, quantised to cents; a number with more than two
  decimals and no ``k``/``grand`` suffix (``1.234``) is rejected as ambiguous, and so is
  a decimal comma (``12,50``), rather than guessed.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as dt_time
from datetime import timezone as dt_timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import partial

import pytz
from dateutil.relativedelta import relativedelta

__all__ = [
    "FREQUENCIES",
    "HARDSHIP_KINDS",
    "HARDSHIP_PHRASES",
    "MAX_AMOUNT",
    "MONTHS",
    "NUMBER_WORDS",
    "ORDINAL_WORDS",
    "SCALE_WORDS",
    "TEEN_WORDS",
    "TENS_WORDS",
    "UNIT_WORDS",
    "WEEKDAYS",
    "extract_amount",
    "local_today",
    "parse_amount",
    "parse_birth_date",
    "parse_date",
    "parse_duration_days",
    "parse_frequency",
    "parse_hardship",
]

CENT = Decimal("0.01")
# Above this an "amount" is a phone, account or card number, not money a debtor means.
MAX_AMOUNT = Decimal("10000000")
FREQUENCIES = ("weekly", "biweekly", "monthly")
HARDSHIP_KINDS = ("job_loss", "illness", "family", "reduced_income", "other")

# ---------------------------------------------------------------------------
# Cleaning and tokens
# ---------------------------------------------------------------------------

_TRANSLATE = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2015": "-",
        "\u2212": "-",
    }
)


def _clean(text: object) -> str:
    """Lower-case, NFKC-folded text with control/format characters turned into spaces.

    NFKC folds full-width digits and letters that phone keyboards produce; control and
    format characters (zero-width joiners, RTL marks, lone surrogates) become spaces so
    they can neither glue nor split tokens unexpectedly.
    """
    if not isinstance(text, str) or not text:
        return ""
    text = "".join(" " if unicodedata.category(ch)[0] == "C" else ch for ch in text)
    text = unicodedata.normalize("NFKC", text).translate(_TRANSLATE)
    return " ".join(text.lower().split())


@dataclass(frozen=True)
class _Tok:
    text: str
    start: int
    end: int
    kind: str  # "num", "word" or "sym"


# Digit groups keep their internal separators ("1,234.56", "7.8.1979") so a malformed
# number is seen whole and rejected, rather than read as its first piece.
_TOKEN_RE = re.compile(r"[0-9]+(?:[.,][0-9]+)*|[^\W\d_]+(?:'[^\W\d_]+)*|\S")


def _tokenize(clean: str) -> list[_Tok]:
    toks = []
    for m in _TOKEN_RE.finditer(clean):
        s = m.group()
        kind = "num" if s[0].isdigit() and s[0].isascii() else ("word" if s[0].isalpha() else "sym")
        toks.append(_Tok(s, m.start(), m.end(), kind))
    return toks


def _adjacent(a: _Tok, b: _Tok) -> bool:
    return a.end == b.start


# ---------------------------------------------------------------------------
# Number words
# ---------------------------------------------------------------------------

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


# ---------------------------------------------------------------------------
# Amounts
# ---------------------------------------------------------------------------

_CURRENCY_SYMBOLS = frozenset("$£€")
_CURRENCY_WORDS = frozenset(
    {
        "dollar",
        "dollars",
        "buck",
        "bucks",
        "usd",
        "quid",
        "pound",
        "pounds",
        "gbp",
        "euro",
        "euros",
        "eur",
        "dlls",
        "dls",
    }
)
_PREFIX_CURRENCY_WORDS = frozenset({"usd", "gbp", "eur"})
_SUBUNIT_WORDS = frozenset({"cent", "cents", "pence", "penny", "¢"})
_TIME_WORDS = frozenset({"am", "pm", "oclock", "o'clock"})
# A number followed by one of these counts something or measures time: not money.
_COUNT_NOUNS = frozenset(
    {
        "day", "days", "wk", "wks", "week", "weeks", "weekend", "weekends", "fortnight",
        "fortnights", "month", "months", "mo", "mos", "mth", "mths", "mnth", "mnths",
        "year", "years", "yr", "yrs", "yo", "hour", "hours", "hr", "hrs", "min", "mins",
        "minute", "minutes", "sec", "secs", "second", "seconds", "time", "times",
        "percent", "pct", "kid", "kids", "child", "children", "kiddos", "job", "jobs",
        "people", "ppl", "person", "persons", "payment", "payments", "installment",
        "installments", "instalment", "instalments", "car", "cars", "dog", "dogs", "cat",
        "cats", "bill", "bills", "loan", "loans", "account", "accounts", "card", "cards",
        "shift", "shifts", "bedroom", "bedrooms", "room", "rooms", "miles", "mi", "km",
        "lbs", "kg", "x", "%", "st", "nd", "rd", "th",
    }
)  # fmt: skip
_REFERENCE_WORDS = frozenset(
    {
        "#", "acct", "account", "ref", "reference", "case", "order", "invoice", "zip",
        "apt", "pin", "code", "ext", "extension", "ticket", "policy", "suite", "age", "aged",
    }
)  # fmt: skip
# Before a bare year these make it a year ("back in 2019"), not an amount.
_YEAR_PREPOSITIONS = frozenset({"in", "since", "until", "till", "til", "year"})
_HEDGES = frozenset(
    {
        "about", "around", "like", "roughly", "approx", "approximately", "maybe", "only",
        "just", "abt", "circa", "ca", "prob", "probably", "almost", "nearly", "over",
        "under", "max", "maximum", "min", "minimum", "some", "atleast", "~", "of",
    }
)  # fmt: skip
_HEDGE_PAIRS = frozenset({("at", "least"), ("at", "most"), ("up", "to"), ("less", "than"),
                          ("more", "than")})  # fmt: skip
_TRAILING_HEDGES = frozenset({"ish", "max", "tops", "maybe", "total", "each", "only"})
_STRUCTURAL_SYMS = frozenset("$£€¢-+%#/:.,~'()&")
_NEGATORS = frozenset({"minus", "negative"})

_NUMERIC_RE = re.compile(r"(?:[1-9][0-9]{0,2}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?")


def _numeric_value(s: str) -> Decimal | None:
    """The value of a digit token, or None if its shape is not a number a person writes.

    Commas must group thousands ("1,234"), so "12,50" (a decimal comma) and "1,2,3" are
    rejected; leading zeros ("07700", "03") mark phone numbers and dates.
    """
    if not _NUMERIC_RE.fullmatch(s):
        return None
    int_part = s.split(".")[0]
    if len(int_part) > 1 and int_part[0] == "0":
        return None
    try:
        return Decimal(s.replace(",", ""))
    except InvalidOperation:  # pragma: no cover - the regex admits only valid numbers
        return None


@dataclass
class _Amount:
    first: int  # token index where the expression starts (currency prefix included)
    core: int  # token index of the first number token or word
    core_end: int  # index after the number itself
    end: int  # index after the whole expression (suffixes included)
    value: Decimal | None  # None: looks like a number but is malformed or absurd
    marked: bool  # a currency or scale word/symbol says it is money
    words: bool  # spelled out ("fifty")


_RUN_WORDS = NUMBER_WORDS | {"and", "couple", "of", "-"}


def _starts_word_number(toks: Sequence[_Tok], i: int) -> bool:
    t = toks[i].text
    if t in NUMBER_WORDS:
        return True
    nxt = toks[i + 1].text if i + 1 < len(toks) else ""
    if t in ("a", "an"):
        return nxt in SCALE_WORDS or nxt == "couple"
    if t == "couple":
        return nxt in SCALE_WORDS or nxt == "of"
    return False


def _read_amount(toks: Sequence[_Tok], i: int) -> _Amount:
    """Read the money expression whose number starts at token ``i``."""
    n = len(toks)
    marked = False
    scaled = False
    run: list[str] = []
    words = toks[i].kind != "num"
    if not words:
        raw = _numeric_value(toks[i].text)
        if raw is not None and raw > MAX_AMOUNT:
            raw = None  # a card, phone or account number; also keeps Decimal in range
        j = core_end = i + 1
        multiplier = 1
        if raw is not None and j < n:
            nxt = toks[j]
            # "1.2k" only when glued on: a lone "k" after a space is too ambiguous.
            if nxt.text == "k" and _adjacent(toks[i], nxt):
                multiplier, j = 1000, j + 1
            elif nxt.text in SCALE_WORDS:
                multiplier, j = SCALE_WORDS[nxt.text], j + 1
            scaled = multiplier != 1
        value = None if raw is None else raw * multiplier
        if raw is not None and not scaled and raw.as_tuple().exponent < -2:  # type: ignore[operator]
            value = None
    else:
        j = i
        # Twelve words cover any amount a person spells out; the cap bounds the work.
        while (
            j < n
            and j - i < 12
            and (toks[j].text in _RUN_WORDS or (j == i and toks[j].text in ("a", "an")))
        ):
            run.append(toks[j].text)
            j += 1
        while run and run[-1] not in NUMBER_WORDS and run[-1] != "couple":
            run.pop()
            j -= 1
        core_end = j
        spelled = _words_value([w for w in run if w != "-"])
        value = None if spelled is None else Decimal(spelled)
    first = i
    if i > 0:
        prev = toks[i - 1]
        if prev.text in _CURRENCY_SYMBOLS or prev.text in _PREFIX_CURRENCY_WORDS:
            first, marked = i - 1, True
    if j < n:
        nxt = toks[j]
        if nxt.text in _CURRENCY_WORDS or nxt.text in _CURRENCY_SYMBOLS:
            marked, j = True, j + 1
        elif nxt.text in _SUBUNIT_WORDS or (nxt.text == "p" and _adjacent(toks[j - 1], nxt)):
            marked, j = True, j + 1
            if value is not None:
                value = value / 100
    marked = marked or scaled or (words and any(w in SCALE_WORDS for w in run))
    if value is not None:
        value = value.quantize(CENT, rounding=ROUND_HALF_UP)
        if value > MAX_AMOUNT:
            value = None
    return _Amount(first, i, core_end, j, value, marked, words)


def _is_negative(toks: Sequence[_Tok], amt: _Amount) -> bool:
    """A minus sign or word directly before the amount ("-50", "$-50", "minus 50")."""
    k = amt.core - 1
    if k >= 0 and toks[k].text == "-" and _adjacent(toks[k], toks[amt.core]):
        # "50-60" is a range, not a negative sixty.
        return not (k > 0 and toks[k - 1].kind == "num" and _adjacent(toks[k - 1], toks[k]))
    k = amt.first - 1
    if k >= 0 and toks[k].text == "-" and _adjacent(toks[k], toks[amt.first]):
        return not (k > 0 and toks[k - 1].kind == "num" and _adjacent(toks[k - 1], toks[k]))
    return k >= 0 and toks[k].text in _NEGATORS


def _digits(tok: _Tok) -> int:
    return sum(ch.isdigit() for ch in tok.text)


def _phone_indices(clean: str, toks: Sequence[_Tok]) -> frozenset[int]:
    """Indices of digit tokens that form phone numbers ("+1 555 123 4567", "07700 900123").

    One linear pass over the text, so a 5,000-digit message costs no more than reading it.
    A run of plain digit groups joined by single spaces, dashes, dots or brackets is a
    phone number when it has 7+ digits in all or starts with "+".
    """

    def joined(a: _Tok, b: _Tok) -> bool:
        gap = clean[a.end : b.start]
        return len(gap) <= 2 and set(gap) <= set(" -.()")

    phone: set[int] = set()
    n = len(toks)
    i = 0
    while i < n:
        if toks[i].kind != "num" or not toks[i].text.isdigit():
            i += 1
            continue
        run = [i]
        j = i
        while True:
            k = j + 1
            while k < n and k - j <= 2 and toks[k].text in ("-", ".", "(", ")"):
                k += 1
            if (
                k < n
                and toks[k].kind == "num"
                and toks[k].text.isdigit()
                and joined(toks[j], toks[k])
            ):
                run.append(k)
                j = k
            else:
                break
        plus = i > 0 and toks[i - 1].text == "+" and _adjacent(toks[i - 1], toks[i])
        if plus or sum(_digits(toks[r]) for r in run) >= 7:
            phone.update(run)
        i = j + 1
    return frozenset(phone)


def _dash_chains(toks: Sequence[_Tok]) -> dict[int, tuple[_Tok, ...]]:
    """For each digit token glued to others by "-" ("03-04-85", "50-60"), its whole chain.

    Built in one pass (and shared by every token of a chain) so "1-1-1-..." over 5,000
    characters stays linear.
    """
    chains: dict[int, tuple[_Tok, ...]] = {}
    n = len(toks)
    i = 0
    while i < n:
        if toks[i].kind != "num":
            i += 1
            continue
        members = [i]
        j = i
        while (
            j + 2 < n
            and toks[j + 1].text == "-"
            and toks[j + 2].kind == "num"
            and _adjacent(toks[j], toks[j + 1])
            and _adjacent(toks[j + 1], toks[j + 2])
        ):
            j += 2
            members.append(j)
        if len(members) > 1:
            chain = tuple(toks[k] for k in members)
            for k in members:
                chains[k] = chain
        i = j + 1
    return chains


def _word_at(toks: Sequence[_Tok], idx: int) -> str:
    return toks[idx].text if 0 <= idx < len(toks) else ""


def _not_money(
    toks: Sequence[_Tok],
    amt: _Amount,
    phones: frozenset[int],
    chains: dict[int, tuple[_Tok, ...]],
) -> bool:
    """Context says this unmarked number is a date, time, phone, count or duration."""
    n = len(toks)
    core = toks[amt.core]
    nxt = _word_at(toks, amt.end)
    nxt_tok = toks[amt.end] if amt.end < n else None
    prev = _word_at(toks, amt.first - 1)
    prev2 = _word_at(toks, amt.first - 2)
    # Counts and durations: "3 months", "2 kids", "3-month", "50%".
    after = nxt
    if nxt == "-" and nxt_tok is not None and _adjacent(toks[amt.end - 1], nxt_tok):
        after = _word_at(toks, amt.end + 1)
    if after in _COUNT_NOUNS or nxt in _TIME_WORDS:
        return True
    if amt.words:
        return after in _MONTHS or prev in _MONTHS
    glued_next = nxt_tok is not None and _adjacent(toks[amt.end - 1], nxt_tok)
    if glued_next and nxt in ("a", "p") and _word_at(toks, amt.end + 1) == ".":
        return True  # "5a.m."
    value = amt.value or Decimal(0)
    integer = core.text.isdigit()
    # Dates and times written with separators: "3/4", "5:30".
    for sep in ("/", ":"):
        k = amt.core - 1
        if (
            k >= 1
            and toks[k].text == sep
            and _adjacent(toks[k], core)
            and toks[k - 1].kind == "num"
            and _adjacent(toks[k - 1], toks[k])
        ):
            return True
        k = amt.core_end
        if (
            k + 1 < n
            and toks[k].text == sep
            and _adjacent(toks[k - 1], toks[k])
            and toks[k + 1].kind == "num"
            and _adjacent(toks[k], toks[k + 1])
        ):
            return True
    chain = chains.get(amt.core, ())
    if len(chain) >= 3:
        return True
    if len(chain) == 2:
        a, b = chain
        if a.text[0] == "0" or b.text[0] == "0" or core is b:
            return True
        if min(len(a.text), len(b.text)) >= 3 and len(a.text) + len(b.text) >= 7:
            return True
    if amt.core in phones:
        return True
    # Dates with month names: "march 3", "3 march", "march 3 1985", "march 2024".
    if (
        integer
        and value <= 31
        and (
            prev in _MONTHS
            or (prev == "the" and prev2 in _MONTHS)
            or nxt in _MONTHS
            or (nxt == "of" and _word_at(toks, amt.end + 1) in _MONTHS)
        )
    ):
        return True
    is_year = integer and len(core.text) == 4 and 1900 <= value <= 2099
    if is_year and (
        any(_word_at(toks, amt.first - k) in _MONTHS for k in (1, 2, 3, 4))
        or prev in _YEAR_PREPOSITIONS
    ):
        return True
    # "on the 15", "on 15": a day of the month.
    if integer and 1 <= value <= 31 and prev in ("the", "on"):
        return True
    # "at 5": a time of day.
    if integer and value <= 12 and prev == "at":
        return True
    return prev in _REFERENCE_WORDS


def _amount_candidates(toks: Sequence[_Tok]) -> Iterator[_Amount]:
    i = 0
    while i < len(toks):
        if toks[i].kind == "num" or _starts_word_number(toks, i):
            amt = _read_amount(toks, i)
            yield amt
            i = max(amt.end, i + 1)
        else:
            i += 1


def extract_amount(text: str) -> Decimal | None:
    """The first money amount in free text, as a Decimal quantised to cents, or None.

    "i make about 1800 a month after tax" -> 1800.00; "rent is like 1.2k" -> 1200.00.
    Numbers that context shows are not money are skipped: dates ("the 15th", "3/4",
    "march 3 1985", a year next to a month name or after "in"/"since"), times ("at 5pm",
    "5:30"), phone numbers ("+1 555 123 4567", "07700 900123", any 7+ digit run),
    durations and counts ("3 months", "2 kids", "3 payments"), percentages and
    reference numbers ("acct 12345"). A currency sign or word ("$", "bucks", "k",
    "grand") overrides the context. Spelled-out numbers below ten count only with a
    currency word ("one day" is not money); negative amounts are skipped.
    """
    clean = _clean(text)
    toks = _tokenize(clean)
    phones = _phone_indices(clean, toks)
    chains = _dash_chains(toks)
    for amt in _amount_candidates(toks):
        if amt.value is None or _is_negative(toks, amt):
            continue
        if not amt.marked:
            if amt.words and amt.value < 10:
                continue
            if _not_money(toks, amt, phones, chains):
                continue
        return amt.value
    return None


def parse_amount(text: str) -> Decimal | None:
    """A money amount in an entity span or short message, as Decimal cents, or None.

    Accepts "$50", "50", "50.5" (50.50), "$1,234.56", "1.2k" (1200.00), "2k", "fifty",
    "fifty bucks", "a hundred and fifty", "two hundred fifty", "75 dollars", "£40",
    "€20", "40 quid", "75 cents" (0.75), "about 1800", "like 2 grand". When the whole
    text (hedges like "about"/"like"/"ish" aside) is one amount it is taken as is, so
    a bare "2024" or "15" is money here; otherwise the first amount that
    :func:`extract_amount` finds in it ("i can do 50 a month" -> 50.00). Negative
    amounts, amounts above 10,000,000 and ambiguous shapes ("1.234", "12,50") are None.
    """
    clean = _clean(text)
    toks = _tokenize(clean)
    lo, hi = 0, len(toks)

    def decoration(t: _Tok) -> bool:
        return t.kind == "sym" and t.text not in _STRUCTURAL_SYMS

    while lo < hi and (toks[lo].text in _HEDGES or decoration(toks[lo])):
        lo += 1
    while lo + 1 < hi and (toks[lo].text, toks[lo + 1].text) in _HEDGE_PAIRS:
        lo += 2
    while lo < hi and (toks[lo].text in _HEDGES or decoration(toks[lo])):
        lo += 1
    while lo < hi and (
        toks[hi - 1].text in _TRAILING_HEDGES
        or decoration(toks[hi - 1])
        or toks[hi - 1].text in ".,"
    ):
        hi -= 1
    if hi - lo >= 2 and (toks[hi - 2].text, toks[hi - 1].text) == ("or", "so"):
        hi -= 2
    if lo < hi:
        first = toks[lo]
        if first.text == "-" or first.text in _NEGATORS:
            return None
        core = lo
        if first.text in _CURRENCY_SYMBOLS or first.text in _PREFIX_CURRENCY_WORDS:
            core = lo + 1
            if core < hi and toks[core].text == "-":
                return None
        if core < hi and (toks[core].kind == "num" or _starts_word_number(toks, core)):
            amt = _read_amount(toks, core)
            if amt.first == lo and amt.end == hi:
                return amt.value
    return extract_amount(text)


# ---------------------------------------------------------------------------
# Frequency
# ---------------------------------------------------------------------------

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


# ---------------------------------------------------------------------------
# Durations
# ---------------------------------------------------------------------------

_UNIT_DAYS = {
    "day": 1, "days": 1,
    "wk": 7, "wks": 7, "week": 7, "weeks": 7,
    "fortnight": 14, "fortnights": 14,
    "mo": 30, "mos": 30, "mth": 30, "mths": 30, "mnth": 30, "mnths": 30, "month": 30,
    "months": 30,
    "yr": 365, "yrs": 365, "year": 365, "years": 365,
}  # fmt: skip
_UNIT_RE = r"(?P<unit>days?|wks?|weeks?|fortnights?|mos|mo|mths?|mnths?|months?|yrs?|years?)"
_SMALL_WORDS_RE = (
    r"(?:(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)(?:[\s-]+(?:one|two|three"
    r"|four|five|six|seven|eight|nine))?|zero|one|two|three|four|five|six|seven|eight|nine"
    r"|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen)"
)
_QTY_RE = (
    r"(?P<qty>[0-9]{1,4}(?:\.[0-9]+)?|" + _SMALL_WORDS_RE + r"|a\s+couple\s+of|a\s+couple"
    r"|couple\s+of|couple|a\s+few|few|an|a|half\s+an?)"
)
_DURATION_RE = re.compile(r"\b" + _QTY_RE + r"\s*" + _UNIT_RE + r"\b(?P<half>\s+and\s+a\s+half)?")
_AMOUNTISH_BEFORE = frozenset(
    _CURRENCY_WORDS | _CURRENCY_SYMBOLS | {"once", "twice", "times", "x", "k", "every", "each",
                                           "per", "other"}
)  # fmt: skip


def _quantity(qty: str) -> Decimal | None:
    qty = " ".join(qty.split())
    if qty[0].isdigit():
        return Decimal(qty)
    if qty in ("a", "an"):
        return Decimal(1)
    if qty.startswith("half"):
        return Decimal("0.5")
    if "couple" in qty:
        return Decimal(2)
    if "few" in qty:
        return Decimal(3)
    value = _words_value(qty.replace("-", " ").split())
    return None if value is None else Decimal(value)


def _duration_matches(clean: str) -> Iterator[tuple[re.Match[str], Decimal, int]]:
    """(match, quantity, days per unit) for each duration that is not a frequency."""
    for m in _DURATION_RE.finditer(clean):
        qty = _quantity(m.group("qty"))
        if qty is None:
            continue
        before = clean[: m.start()].split()
        prev = before[-1] if before else ""
        # "every 2 weeks" and "50 a month" are rhythms (see parse_frequency).
        if prev in ("every", "each", "per", "other"):
            continue
        if m.group("qty") in ("a", "an") and (
            prev in _AMOUNTISH_BEFORE
            or prev[:1].isdigit()
            or prev[-1:].isdigit()
            or prev in NUMBER_WORDS
        ):
            continue
        yield m, qty, _UNIT_DAYS[m.group("unit")]


def parse_duration_days(text: str) -> int | None:
    """The first time span in the text as a number of days, or None.

    "3 months" -> 90 (a month is 30 days), "a month" -> 30, "two weeks" -> 14,
    "a couple of weeks" -> 14, "10 days" -> 10, "a few days" -> 3 ("a few" is three),
    "6 wks" -> 42, "1 year" -> 365, "a month and a half" -> 45, "1.5 months" -> 45.
    Rhythms ("every 2 weeks", "50 a month") are not spans. Spans under one day or over
    100 years are None.
    """
    clean = _clean(text)
    for m, qty, unit_days in _duration_matches(clean):
        days = qty * unit_days
        if m.group("half"):
            days += Decimal(unit_days) / 2
        whole = int(days.to_integral_value(rounding=ROUND_HALF_UP))
        if 1 <= whole <= 36500:
            return whole
    return None


# ---------------------------------------------------------------------------
# Hardship
# ---------------------------------------------------------------------------

_POSSESSIVES = ("my", "his", "her", "our", "their", "the")
_RELATIVES = (
    "mom", "mum", "mother", "dad", "father", "husband", "wife", "son", "daughter", "brother",
    "sister", "grandma", "grandmother", "grandpa", "grandfather", "partner", "boyfriend",
    "girlfriend", "fiance", "aunt", "uncle", "baby", "child", "parent", "nan",
)  # fmt: skip


def _with_owners(template: str, owners: Sequence[str] = _POSSESSIVES) -> list[str]:
    return [template.format(owner) for owner in owners]


# Literal phrases, lower-case and space-separated. The spaCy entity ruler labels exactly
# these as `hardship`, and parse_hardship matches them too, so every labelled span
# normalises (tests check both directions).
HARDSHIP_PHRASES: dict[str, tuple[str, ...]] = {
    "job_loss": tuple(
        [
            *_with_owners("lost {} job"),
            *_with_owners("lost {} jobs"),
            "lost work",
            "lost a job",
            "lost the contract",
            "lost my position",
            "laid off",
            "got laid off",
            "been laid off",
            "lay off",
            "layoff",
            "layoffs",
            "got let go",
            "been let go",
            "fired",
            "got fired",
            "got sacked",
            "sacked",
            "terminated",
            "unemployed",
            "jobless",
            "out of work",
            "no job",
            "dont have a job",
            "don't have a job",
            "without a job",
            "between jobs",
            "not working anymore",
            "im not working",
            "i'm not working",
            "no longer working",
            "no longer employed",
            "made redundant",
            "redundant",
            "quit my job",
            "job ended",
            "contract ended",
            "company closed",
            "company shut down",
            "business closed",
            "on unemployment",
            "looking for work",
            "looking for a job",
            "lost my job",
        ]
    ),
    "illness": tuple(
        [
            "sick",
            "been sick",
            "got sick",
            "im sick",
            "i'm sick",
            "was sick",
            "is sick",
            "very sick",
            "really sick",
            "getting sick",
            "sick kid",
            "sick child",
            "illness",
            "fell ill",
            "been ill",
            "very ill",
            "seriously ill",
            "surgery",
            "an operation",
            "hospital",
            "in the hospital",
            "in hospital",
            "hospitalized",
            "hospitalised",
            "cancer",
            "chemo",
            "chemotherapy",
            "medical bills",
            "medical bill",
            "medical issues",
            "medical condition",
            "medical leave",
            "sick leave",
            "on disability",
            "disability",
            "injury",
            "injured",
            "hurt my back",
            "broke my leg",
            "broke my arm",
            "broke my back",
            "accident",
            "diagnosed",
            "stroke",
            "heart attack",
            "covid",
            "health issues",
            "health problems",
            "mental health",
            "treatment",
            "rehab",
            "doctor",
            "doctors",
            "bedridden",
        ]
    ),
    "family": tuple(
        [
            "divorce",
            "divorced",
            "getting divorced",
            "separated",
            "separation",
            "breakup",
            "break up",
            "broke up",
            "baby",
            "new baby",
            "newborn",
            "pregnant",
            "pregnancy",
            "maternity",
            "maternity leave",
            "paternity leave",
            "kids",
            "my kid",
            "children",
            "my child",
            "child care",
            "childcare",
            "daycare",
            "day care",
            "child support",
            "single mom",
            "single mum",
            "single dad",
            "single parent",
            "custody",
            "passed away",
            "death in the family",
            "bereavement",
            "funeral",
            "widow",
            "widowed",
            "caring for my",
            "caregiver",
            "family emergency",
            "family issues",
            "family problems",
            *[f"my {r} passed" for r in _RELATIVES],
            *[f"my {r} passed away" for r in _RELATIVES],
            *[f"my {r} died" for r in _RELATIVES],
        ]
    ),
    "reduced_income": tuple(
        [
            "hours got cut",
            "hours were cut",
            "hours been cut",
            "hours have been cut",
            "hours cut",
            "cut my hours",
            "cut our hours",
            "reduced hours",
            "fewer hours",
            "less hours",
            "pay cut",
            "paycut",
            "took a pay cut",
            "salary cut",
            "wage cut",
            "reduced pay",
            "reduced income",
            "reduced salary",
            "less income",
            "less work",
            "part time",
            "part-time",
            "only part time now",
            "business is slow",
            "business has been slow",
            "business is bad",
            "business is down",
            "slow season",
            "fewer shifts",
            "less shifts",
            "shifts got cut",
            "cut my shifts",
            "no overtime",
            "overtime got cut",
            "furloughed",
            "furlough",
            "making less",
            "earning less",
            "income went down",
            "income dropped",
            "commission is down",
            "demoted",
            "benefits got cut",
            "benefits cut",
            "benefits stopped",
        ]
    ),
    "other": tuple(
        [
            "car broke down",
            "car broke",
            "car repairs",
            "car repair",
            "car trouble",
            "rent went up",
            "rent increased",
            "rent is due",
            "rent got raised",
            "behind on rent",
            "behind on bills",
            "behind on my bills",
            "too many bills",
            "bills piling up",
            "other bills",
            "other debts",
            "can't afford",
            "cant afford",
            "cannot afford",
            "im broke",
            "i'm broke",
            "flat broke",
            "money is tight",
            "tight on money",
            "struggling financially",
            "struggling",
            "evicted",
            "eviction",
            "homeless",
            "got robbed",
            "robbed",
            "stolen",
            "scammed",
            "house fire",
            "flood",
            "hurricane",
            "legal fees",
            "inflation",
            "gas prices",
        ]
    ),
}

# Stems the literal phrases cannot list (tense and word-order variants).
_HARDSHIP_EXTRA: dict[str, tuple[str, ...]] = {
    "job_loss": (
        r"\blos(?:t|e|ing)\s+(?:my|his|her|our|their|the|a)?\s*(?:job|jobs|position|employment)\b",
        r"\b(?:got|was|been|being|be)\s+(?:laid\s+off|let\s+go|fired|terminated|sacked)\b",
        r"\bunemploy",
    ),
    "illness": (
        # Not a bare "ill": texters write "ill pay friday" for "I'll".
        r"\b(?:sick|sickness|illness)\b(?!\s+(?:of|and\s+tired))",
        r"\bsurger(?:y|ies)\b",
        r"\bhospital",
        r"\binjur(?:y|ies|ed)\b",
        r"\bmedical\b",
    ),
    "family": (
        r"\bdivorc",
        r"\b(?:mom|mum|mother|dad|father|husband|wife|son|daughter|brother|sister|grand\w*"
        r"|partner|baby|child|parent)\s+(?:just\s+)?(?:passed|died)\b",
        r"\b(?:kids|children)\b",
    ),
    "reduced_income": (
        r"\bhours\s+(?:\w+\s+){0,3}cut\b",
        r"\bcut\s+(?:back\s+)?(?:my|our|his|her)?\s*(?:hours|shifts|pay)\b",
        r"\bpart[\s-]?time\b",
        r"\bbusiness\s+(?:\w+\s+){0,3}(?:slow|down|bad|dead)\b",
    ),
    "other": (
        r"\bcar\s+(?:\w+\s+)?broke\b",
        r"\brent\s+(?:\w+\s+){0,2}(?:up|increased|raised)\b",
        r"\bbroke\b(?!\s+(?:my|his|her|down|up|the|a|it))",
    ),
}


# Phrases that mean something else before certain words ("sick of this", "sick and tired").
_PHRASE_GUARDS = {"sick": r"(?!\s+(?:of|and\s+tired))"}


def _hardship_regex(kind: str) -> re.Pattern[str]:
    phrases = sorted(HARDSHIP_PHRASES[kind], key=len, reverse=True)
    alternatives = (re.escape(p) + r"\b" + _PHRASE_GUARDS.get(p, "") for p in phrases)
    literal = r"\b(?:" + "|".join(alternatives) + r")"
    return re.compile("|".join([literal, *_HARDSHIP_EXTRA[kind]]))


_HARDSHIP_RES = {kind: _hardship_regex(kind) for kind in HARDSHIP_KINDS}
# A negator right before the phrase, or with auxiliaries between ("didn't get fired"),
# but not "no i lost my job", which is a "no" answering something else.
_NEGATION_RE = re.compile(
    r"\b(?:not|never|no|didn't|didnt|don't|dont|doesn't|doesnt|wasn't|wasnt|weren't|werent"
    r"|isn't|isnt|aren't|arent|haven't|havent|hasn't|hasnt|won't|wont|ain't|aint)\s+"
    r"(?:(?:get|got|gotten|been|be|being|have|had|really|even|actually|ever|any|a|an|the|my"
    r"|our)\s+){0,2}$"
)


def parse_hardship(text: str) -> str | None:
    """The kind of hardship the text describes, or None when it describes none.

    job_loss ("lost my job", "laid off", "fired", "unemployed"), illness ("surgery",
    "in the hospital", "sick", "cancer", "medical bills", "injury"), family ("divorce",
    "new baby", "my mom passed", "kids", "child care", "funeral"), reduced_income ("hours
    got cut", "pay cut", "reduced hours", "only part time now", "business is slow") or
    other money trouble ("car broke down", "rent went up", "can't afford"). When several
    are named, the one mentioned first wins; "other" only when no specific kind is
    named. A directly negated mention ("i'm not sick", "didn't get fired") is ignored.
    """
    clean = _clean(text)
    if not clean:
        return None
    best: tuple[int, int] | None = None
    best_kind: str | None = None
    for rank, kind in enumerate(HARDSHIP_KINDS):
        if kind == "other" and best_kind is not None:
            break
        for m in _HARDSHIP_RES[kind].finditer(clean):
            # The phrase itself may carry "not" ("not working"): look only before it.
            if _NEGATION_RE.search(clean, max(0, m.start() - 24), m.start()):
                continue
            key = (m.start(), rank)
            if best is None or key < best:
                best, best_kind = key, kind
            break
    return best_kind


# ---------------------------------------------------------------------------
# Dates
# ---------------------------------------------------------------------------

MONTHS: dict[str, int] = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "febuary": 2, "feburary": 2,
    "march": 3, "mar": 3, "april": 4, "apr": 4, "may": 5, "june": 6, "jun": 6,
    "july": 7, "jul": 7, "august": 8, "aug": 8, "september": 9, "sep": 9, "sept": 9,
    "october": 10, "oct": 10, "november": 11, "nov": 11, "december": 12, "dec": 12,
}  # fmt: skip
_MONTHS = frozenset(MONTHS)
WEEKDAYS: dict[str, int] = {
    "monday": 0, "mon": 0, "tuesday": 1, "tue": 1, "tues": 1, "wednesday": 2, "wed": 2,
    "weds": 2, "thursday": 3, "thu": 3, "thur": 3, "thurs": 3, "friday": 4, "fri": 4,
    "saturday": 5, "sat": 5, "sunday": 6, "sun": 6,
}  # fmt: skip
# Abbreviations that are also ordinary words ("i sat down") need a cue word before them.
_AMBIGUOUS_WEEKDAYS = frozenset({"mon", "wed", "sat", "sun"})
_ORDINAL_WORDS: dict[str, int] = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6,
    "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12,
    "thirteenth": 13, "fourteenth": 14, "fifteenth": 15, "sixteenth": 16,
    "seventeenth": 17, "eighteenth": 18, "nineteenth": 19, "twentieth": 20,
    "thirtieth": 30,
}  # fmt: skip
for _unit, _n in list(_ORDINAL_WORDS.items())[:9]:
    _ORDINAL_WORDS[f"twenty {_unit}"] = 20 + _n
    _ORDINAL_WORDS[f"twenty-{_unit}"] = 20 + _n
_ORDINAL_WORDS["thirty first"] = 31
_ORDINAL_WORDS["thirty-first"] = 31
ORDINAL_WORDS = dict(_ORDINAL_WORDS)

_TEXTING = (
    (
        re.compile(
            r"\b(?:tmrw|tmrow|tmr|tmw|tmoro|tomoz|2morrow|2moro|2morow|2mrw|2mrow|2mro"
            r"|tomorow|tommorow|tommorrow|tomorrw|tomm?or+ow)\b"
        ),
        "tomorrow",
    ),  # fmt: skip
    (re.compile(r"\b(?:2day|tdy|tday)\b"), "today"),
    (re.compile(r"\b(?:2nite|2night|tonite)\b"), "tonight"),
    (re.compile(r"\b(?:yday|ystrdy|yesterdy|yesturday)\b"), "yesterday"),
    (re.compile(r"\bnxt\b"), "next"),
    (re.compile(r"\bwk\b"), "week"),
    (re.compile(r"\b(?:til|untill|till)\b"), "until"),
)

_MONTH_RE = "(?P<month>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
_MONTH2_RE = _MONTH_RE.replace("?P<month>", "?P<month2>")
_ORDWORD_RE = "|".join(sorted((re.escape(w) for w in ORDINAL_WORDS), key=len, reverse=True))
_DAY_RE = r"(?P<day>(?:[0-3]?[0-9])(?:st|nd|rd|th)?|" + _ORDWORD_RE + ")"
_DAY2_RE = _DAY_RE.replace("?P<day>", "?P<day2>")
_YEAR_RE = r"(?:\s*,?\s*(?P<year>(?:19|20)[0-9]{2}|'[0-9]{2})(?![0-9]))?"
_WEEKDAY_RE = "(?P<weekday>" + "|".join(sorted(WEEKDAYS, key=len, reverse=True)) + ")"

# Each finder yields (start, end, resolve) and the earliest (then longest) wins.
_DAY_MONTH_RE = re.compile(
    r"\b(?:the\s+)?" + _DAY_RE + r"\s+(?:of\s+)?" + _MONTH_RE + r"(?![a-z])" + _YEAR_RE
)
_MONTH_DAY_RE = re.compile(
    r"\b" + _MONTH2_RE + r"\s+(?:the\s+)?" + _DAY2_RE + r"(?![0-9a-z])" + _YEAR_RE
)
_MONTH_YEAR_RE = re.compile(r"\b" + _MONTH_RE + r"\s*,?\s+(?P<year>(?:19|20)[0-9]{2})(?![0-9])")
_ISO_RE = re.compile(
    r"(?<![0-9])(?P<y>[0-9]{4})([-/.])(?P<m>[0-9]{1,2})\2(?P<d>[0-9]{1,2})(?![0-9])"
)
_NUMERIC_DATE_RE = re.compile(
    r"(?<![0-9/.-])(?P<a>[0-9]{1,2})(?P<sep>[-/.])(?P<b>[0-9]{1,2})(?P=sep)"
    r"(?P<y>[0-9]{4}|[0-9]{2})(?![0-9]|[/.-][0-9])"
)
_SHORT_DATE_RE = re.compile(r"(?<![0-9/.-])(?P<a>[0-9]{1,2})/(?P<b>[0-9]{1,2})(?![0-9]|/[0-9])")
_ORDINAL_DAY_RE = re.compile(
    r"\b(?P<prep>(?:on|by|before|until|after)\s+)?(?P<the>the\s+)?"
    r"(?:(?P<num>[0-3]?[0-9])(?P<suf>st|nd|rd|th)?|(?P<word>" + _ORDWORD_RE + r"))\b"
    r"(?P<of>\s+of\s+(?:the|this|next|every)\s+month)?"
)
_WEEKDAY_FINDER_RE = re.compile(
    r"\b(?:(?P<cue>on|by|before|until|next|this|coming|this\s+coming|last|past)\s+)?"
    + _WEEKDAY_RE
    + r"\b(?P<after>\s+after\s+next)?"
)
_RELATIVE_DAY_RE = re.compile(
    r"\b(?:(?P<dat>(?:the\s+)?day\s+after\s+tomorrow)|(?P<dby>(?:the\s+)?day\s+before\s+yesterday)"
    r"|(?P<tomorrow>tomorrow)|(?P<today>today|tonight|this\s+(?:morning|afternoon|evening)"
    r"|right\s+now)|(?P<yesterday>yesterday|last\s+night))\b"
)
_PERIOD_RE = re.compile(
    r"\b(?:(?P<end>(?:the\s+)?end\s+of\s+(?:(?P<which>the|this|next|last)\s+)?month|eom)"
    r"|(?P<start>(?:the\s+)?(?:beginning|start|first)\s+of\s+next\s+month)"
    r"|(?P<nextmonth>next\s+month)|(?P<nextweek>next\s+week)"
    r"|(?P<weekend>(?:(?P<wcue>this|the|next)\s+)?weekend))\b"
)
_IN_RE = re.compile(
    r"\b(?:in|within)\s+" + _QTY_RE + r"\s*" + _UNIT_RE + r"\b"
    r"|\b"
    + _QTY_RE.replace("?P<qty>", "?P<qty2>")
    + r"\s*"
    + _UNIT_RE.replace("?P<unit>", "?P<unit2>")
    + r"\s+(?P<dir>ago|from\s+(?:now|today))\b"
)
_TIME_RE = re.compile(
    r"\b(?:at\s+)?(?:(?P<h>[0-9]{1,2})(?::(?P<mi>[0-5][0-9]))?\s*(?P<ampm>am|pm|a\.m\.|p\.m\.)"
    r"|(?P<h2>[0-9]{1,2}):(?P<mi2>[0-5][0-9])|(?P<word>noon|midday|midnight))(?![0-9a-z])"
)
_ONLY_NUMBER_RE = re.compile(r"[$£€~#]?\s*[0-9][0-9,]*(?:\.[0-9]+)?\s*[.!?]*")
_STRONG_DATE_CUE_RE = re.compile(
    r"\b(?:"
    + "|".join(sorted(MONTHS, key=len, reverse=True))
    + r"|"
    + "|".join(w for w in WEEKDAYS if w not in _AMBIGUOUS_WEEKDAYS)
    + r"|today|tomorrow|yesterday|tonight|ago|from\s+now|next|last)\b"
    r"|[0-9][/.-][0-9]"
)
_DATEPARSER_MAX_CHARS = 64  # dateparser is slow on long text and dates are short

_Resolver = Callable[[date, bool], "date | None"]


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _day_number(day: str) -> int | None:
    day = day.strip()
    if day in ORDINAL_WORDS:
        return ORDINAL_WORDS[day]
    digits = day.rstrip("stndrh")
    if not digits.isdigit():
        return None
    value = int(digits)
    return value if 1 <= value <= 31 else None


def _next_day_of_month(today: date, day: int, past: bool) -> date | None:
    """The next (or, with past, the most recent) date whose day of the month is ``day``."""
    step = -1 if past else 1
    for offset in range(0, 13):
        month_index = today.year * 12 + today.month - 1 + step * offset
        candidate = _safe_date(month_index // 12, month_index % 12 + 1, day)
        if candidate is None:
            continue  # e.g. the 31st in a 30-day month: try the next month
        if (candidate >= today) if not past else (candidate <= today):
            return candidate
    return None


def _next_month_day(today: date, month: int, day: int, past: bool) -> date | None:
    """The next (or most recent) ``month``/``day`` on or after (before) today."""
    step = -1 if past else 1
    for offset in range(0, 9):  # eight years covers February 29th
        candidate = _safe_date(today.year + step * offset, month, day)
        if candidate is not None and ((candidate >= today) if not past else (candidate <= today)):
            return candidate
    return None


def _weekday_on_or_after(today: date, weekday: int) -> date:
    return today + timedelta(days=(weekday - today.weekday()) % 7)


def _weekday_on_or_before(today: date, weekday: int) -> date:
    return today - timedelta(days=(today.weekday() - weekday) % 7)


def _full_year(two_digits: int, today: date, past: bool) -> int:
    """Century for a two-digit year: the nearest one that is not unreasonably future."""
    year = 2000 + two_digits
    limit = today.year if past else today.year + 20
    return year if year <= limit else year - 100


def _year_value(raw: str | None, today: date, past: bool) -> int | None:
    if not raw:
        return None
    raw = raw.lstrip("'")
    return int(raw) if len(raw) == 4 else _full_year(int(raw), today, past)


def _month_day_numbers(a: int, b: int) -> tuple[int, int] | None:
    """(month, day) from a numeric date, month first unless only day-first is possible."""
    if 1 <= a <= 12 and 1 <= b <= 31:
        return a, b
    if 1 <= b <= 12 and 1 <= a <= 31:
        return b, a
    return None


def _add_units(today: date, qty: Decimal, unit: str, sign: int) -> date | None:
    days_per_unit = _UNIT_DAYS[unit]
    if days_per_unit in (30, 365) and qty == qty.to_integral_value():
        # Calendar months and years: "in 3 months" from Nov 28 is Feb 28, not Feb 26.
        months = int(qty) * (12 if days_per_unit == 365 else 1)
        return today + relativedelta(months=sign * months)
    days = int((qty * days_per_unit).to_integral_value(rounding=ROUND_HALF_UP))
    try:
        return today + timedelta(days=sign * days)
    except OverflowError:
        return None


def _fixed_date(year: int, month: int, day: int, today: date, past: bool) -> date | None:
    return _safe_date(year, month, day)


def _days_from_today(offset: int, today: date, past: bool) -> date | None:
    return today + timedelta(days=offset)


def _units_from_today(qty: Decimal, unit: str, sign: int, today: date, past: bool) -> date | None:
    return _add_units(today, qty, unit, sign)


def _date_candidates(clean: str, require_year: bool) -> Iterator[tuple[int, int, _Resolver]]:
    """Every date expression in ``clean`` with a function resolving it against today."""

    def month_day(month: int, day: int | None, year_raw: str | None) -> _Resolver:
        def resolve(today: date, past: bool) -> date | None:
            if day is None:
                return None
            year = _year_value(year_raw, today, past)
            if year is None:
                return _next_month_day(today, month, day, past)
            return _safe_date(year, month, day)

        return resolve

    for m in _DAY_MONTH_RE.finditer(clean):
        if require_year and not m.group("year"):
            continue
        yield (
            m.start(),
            m.end(),
            month_day(MONTHS[m.group("month")], _day_number(m.group("day")), m.group("year")),
        )
    for m in _MONTH_DAY_RE.finditer(clean):
        if require_year and not m.group("year"):
            continue
        yield (
            m.start(),
            m.end(),
            month_day(MONTHS[m.group("month2")], _day_number(m.group("day2")), m.group("year")),
        )
    if not require_year:
        for m in _MONTH_YEAR_RE.finditer(clean):
            yield m.start(), m.end(), month_day(MONTHS[m.group("month")], 1, m.group("year"))
    for m in _ISO_RE.finditer(clean):
        y, mo, d = int(m.group("y")), int(m.group("m")), int(m.group("d"))
        yield m.start(), m.end(), partial(_fixed_date, y, mo, d)
    for m in _NUMERIC_DATE_RE.finditer(clean):
        md = _month_day_numbers(int(m.group("a")), int(m.group("b")))
        if md is not None:
            yield m.start(), m.end(), month_day(md[0], md[1], m.group("y"))
    if require_year:
        return
    for m in _SHORT_DATE_RE.finditer(clean):
        md = _month_day_numbers(int(m.group("a")), int(m.group("b")))
        if md is not None:
            yield m.start(), m.end(), month_day(md[0], md[1], None)
    for m in _ORDINAL_DAY_RE.finditer(clean):
        whole = m.group().strip() == clean
        if m.group("num") is not None and not (
            m.group("suf") or (m.group("the") and (m.group("prep") or whole))
        ):
            continue  # a bare number is not a day: "pay 15" is money
        if m.group("word") is not None and not (m.group("of") or whole):
            continue  # "the first payment", "wait a second": not dates
        day = _day_number(m.group("num") or m.group("word"))
        if day is None:
            continue
        of_next = bool(m.group("of")) and "next" in m.group("of")
        if m.group("the"):
            start = m.start("the")
        else:
            start = m.start("num") if m.group("num") is not None else m.start("word")

        def resolve_day(
            today: date, past: bool, day: int = day, of_next: bool = of_next
        ) -> date | None:
            if of_next:
                first_next = today.replace(day=1) + relativedelta(months=1)
                return _safe_date(first_next.year, first_next.month, day)
            return _next_day_of_month(today, day, past)

        yield start, m.end(), resolve_day
    for m in _WEEKDAY_FINDER_RE.finditer(clean):
        name, cue = m.group("weekday"), m.group("cue")
        if name in _AMBIGUOUS_WEEKDAYS and not cue and clean != name:
            continue
        weekday = WEEKDAYS[name]
        cue = " ".join((cue or "").split())

        def resolve_weekday(
            today: date,
            past: bool,
            weekday: int = weekday,
            cue: str = cue,
            after: bool = bool(m.group("after")),
        ) -> date | None:
            if cue == "next":
                found = _weekday_on_or_after(today + timedelta(days=1), weekday)
            elif cue in ("last", "past"):
                found = _weekday_on_or_before(today - timedelta(days=1), weekday)
            elif past:
                found = _weekday_on_or_before(today, weekday)
            else:
                found = _weekday_on_or_after(today, weekday)
            if after:
                # "friday after next": a week past the first Friday after today.
                found = _weekday_on_or_after(today + timedelta(days=1), weekday) + timedelta(days=7)
            return found

        prefixed = cue and cue not in ("on", "by", "before", "until")
        start = m.start("cue") if prefixed else m.start("weekday")
        yield start, m.end(), resolve_weekday
    for m in _RELATIVE_DAY_RE.finditer(clean):
        offset = (
            2 if m.group("dat") else -2 if m.group("dby") else 1 if m.group("tomorrow")
            else -1 if m.group("yesterday") else 0
        )  # fmt: skip
        yield m.start(), m.end(), partial(_days_from_today, offset)
    for m in _PERIOD_RE.finditer(clean):
        yield m.start(), m.end(), _period_resolver(m)
    for m in _IN_RE.finditer(clean):
        qty_raw = m.group("qty") or m.group("qty2")
        unit = m.group("unit") or m.group("unit2")
        qty = _quantity(qty_raw)
        if qty is None or qty <= 0 or qty > 1200:
            continue
        sign = -1 if m.group("dir") == "ago" else 1
        yield m.start(), m.end(), partial(_units_from_today, qty, unit, sign)


def _period_resolver(m: re.Match[str]) -> _Resolver:
    def resolve(today: date, past: bool) -> date | None:
        first_this = today.replace(day=1)
        if m.group("end"):
            which = m.group("which") or "this"
            shift = {"next": 1, "last": -1}.get(which, 0)
            first = first_this + relativedelta(months=shift)
            return first.replace(day=calendar.monthrange(first.year, first.month)[1])
        if m.group("start") or m.group("nextmonth"):
            return first_this + relativedelta(months=1)
        if m.group("nextweek"):
            return _weekday_on_or_after(today + timedelta(days=1), 0)
        # Weekends: Saturday, or today when today is already the weekend.
        if m.group("wcue") == "next":
            return _weekday_on_or_after(today + timedelta(days=1), 5)
        if today.weekday() >= 5:
            return today
        return _weekday_on_or_after(today, 5)

    return resolve


def _time_only(clean: str) -> bool:
    m = _TIME_RE.search(clean)
    if m is None:
        return False
    if m.group("word"):
        return True
    hour = int(m.group("h") or m.group("h2"))
    return 0 <= hour <= (12 if m.group("ampm") else 23)


def _first_date(clean: str, today: date, past: bool, require_year: bool) -> date | None:
    """The earliest (then longest) date expression that is a real date.

    An expression that matched but is no date ("29 feb 2027", "the 30th of feb") also
    rules out the shorter matches inside it ("feb 2027", "the 30th"): the debtor meant
    the whole thing, so answering with a piece of it would invent a date.
    """
    candidates = sorted(_date_candidates(clean, require_year), key=lambda c: (c[0], c[0] - c[1]))
    blocked_until = -1
    for start, end, resolve in candidates:
        if start < blocked_until:
            continue
        try:
            value = resolve(today, past)
        except (ValueError, OverflowError):
            value = None
        if value is not None and today.year - 150 <= value.year <= today.year + 50:
            return value
        blocked_until = max(blocked_until, end)
    return None


def _dateparser_date(clean: str, today: date, past: bool) -> date | None:
    """Fallback for forms the own patterns miss; only short text with a clear date cue."""
    if len(clean) > _DATEPARSER_MAX_CHARS or not _STRONG_DATE_CUE_RE.search(clean):
        return None
    from dateparser.date import DateDataParser  # imported lazily: it is slow to load

    settings = {
        "RELATIVE_BASE": datetime.combine(today, dt_time(12, 0)),
        "PREFER_DATES_FROM": "past" if past else "future",
        "DATE_ORDER": "MDY",
        "RETURN_AS_TIMEZONE_AWARE": False,
        # No "timestamp" or "no-spaces-time" parsers: they read "1800" or "50" as dates.
        "PARSERS": ["relative-time", "absolute-time"],
    }
    try:
        data = DateDataParser(languages=["en"], settings=settings).get_date_data(clean)
    except Exception:  # noqa: BLE001 - dateparser raises assorted errors on odd text
        return None
    if data is None or data.date_obj is None or data.period not in ("day", "time"):
        return None
    found = data.date_obj.date()
    return found if today.year - 150 <= found.year <= today.year + 50 else None


def _date_text(text: str) -> str:
    clean = _clean(text)
    for pattern, replacement in _TEXTING:
        clean = pattern.sub(replacement, clean)
    return clean


def parse_date(text: str, today: date, *, past: bool = False) -> date | None:
    """The first calendar date the text names, resolved against ``today``, or None.

    Own handling, then ``dateparser`` (English only, month-first, relative to today,
    preferring future or, with ``past``, past dates) for anything else with a clear cue:

    * "the 15th", "on the 3rd", "on the 15": the next such day on or after today (with
      ``past``, the most recent on or before); a day the month lacks moves to the next
      month that has it. "the 1st of next month" is in next month.
    * "tomorrow" (and "tmrw", "tmr", "2morrow"...), "today", "tonight", "yesterday",
      "the day after tomorrow".
    * "friday", "this friday", "on friday": the nearest Friday on or after today (today if
      it is Friday; with ``past``, on or before). "next friday": the first Friday strictly
      after today. "last friday": the last one strictly before. Sat/sun/mon/wed need a
      cue word ("on sat") because they are also ordinary words.
    * "end of the month" (last day of this month), "end of next month", "next week" (the
      Monday after today), "next month" (its 1st), "this weekend" (Saturday, or today at
      the weekend), "in 2 weeks", "in 3 months" (calendar months), "2 weeks ago".
    * "march 3", "3rd of march", "march 3 1985", "3/4/1985", "3/4", "03-04-85",
      "7.8.1979", "1985-03-04": numeric dates are month-first, day-first only when
      month-first is impossible ("25/12/1990"); two-digit years pick the century that
      is not more than 20 years ahead (with ``past``, not ahead at all). Without a year,
      the next occurrence (most recent with ``past``). "june 2024" is June 1st.
    * A time of day alone ("at 5pm", "5:30") is today.

    Vague answers ("after payday", "soon", "whenever") and bare numbers ("50", "1800",
    "50 a month") are None.
    """
    if not isinstance(today, date):
        return None
    clean = _date_text(text)
    if not clean or _ONLY_NUMBER_RE.fullmatch(clean):
        return None
    found = _first_date(clean, today, past, require_year=False)
    if found is not None:
        return found
    if _time_only(clean):
        return today
    return _dateparser_date(clean, today, past)


def parse_birth_date(text: str, today: date) -> date | None:
    """A date of birth with day, month and year, or None if there is none or it is implausible.

    Accepts "march 3 1985", "3/4/1985" (month first, as everywhere here), "03-04-85",
    "1985-03-04", "3rd of march 1985", "dob is 12 july 1990", "born on 7.8.1979" (dots
    too are month first: July 8th 1979). A two-digit year is in this century only if
    that makes the person at least 16. The date must be before today, no more than 120
    years back, and make the person at least 16 years old; otherwise None.
    """
    if not isinstance(today, date):
        return None
    clean = _date_text(text)
    if not clean:
        return None
    oldest = today.year - 120
    youngest = today - relativedelta(years=16)

    def plausible(born: date | None) -> bool:
        return born is not None and born < today and born.year >= oldest and born <= youngest

    # A two-digit year resolves with past=True against the date 16 years ago, so "05"
    # is 2005 only if a 2005 birth makes the person 16 or more.
    reference = youngest
    candidates = []
    for start, end, resolve in _date_candidates(clean, require_year=True):
        try:
            born = resolve(reference, True)
        except (ValueError, OverflowError):
            born = None
        candidates.append((start, -(end - start), born))
    for _, _, born in sorted(candidates, key=lambda c: (c[0], c[1])):
        if plausible(born):
            return born
    if not candidates and re.search(r"(?<![0-9])(?:19|20)[0-9]{2}(?![0-9])", clean):
        born = _dateparser_date(clean, today, past=True)
        if plausible(born):
            return born
    return None


def local_today(timezone: str, now: datetime | None = None) -> date:
    """Today's date in the IANA time zone ``timezone`` (e.g. "America/Chicago").

    ``now`` defaults to the current time; it must be time-zone aware (a naive datetime
    is ambiguous, so it raises ValueError). An unknown zone raises ValueError naming it.
    """
    if not isinstance(timezone, str) or not timezone.strip():
        raise ValueError(f"unknown time zone: {timezone!r}")
    try:
        zone = pytz.timezone(timezone)
    except Exception as exc:  # UnknownTimeZoneError, or odd input such as NUL bytes
        raise ValueError(f"unknown time zone: {timezone!r}") from exc
    if now is None:
        now = datetime.now(dt_timezone.utc)
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be a time-zone aware datetime")
    return now.astimezone(zone).date()
