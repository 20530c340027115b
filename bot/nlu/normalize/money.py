"""Amounts of money: ``parse_amount`` for an answer, ``extract_amount`` for a whole message.

Money is :class:`~decimal.Decimal`, quantised to cents. Phone, account and card numbers,
years, times, counts ("3 kids") and dates are not money; ambiguous decimals (``1.234``,
``12,50``) are rejected rather than guessed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from bot.nlu.normalize.calendar_words import _MONTHS
from bot.nlu.normalize.numbers import NUMBER_WORDS, SCALE_WORDS, _words_value
from bot.nlu.normalize.tokens import _adjacent, _clean, _Tok, _tokenize

CENT = Decimal("0.01")
# Above this an "amount" is a phone, account or card number, not money a debtor means.
MAX_AMOUNT = Decimal("10000000")


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
