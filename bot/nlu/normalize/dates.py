"""Calendar dates and dates of birth, resolved against the debtor's own today.

Own patterns first (month-first numeric dates, weekdays, "the 15th", "end of the month"),
then ``dateparser`` with explicit settings as a fallback for short text with a clear
date cue.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from datetime import time as dt_time
from datetime import timezone as dt_timezone
from decimal import ROUND_HALF_UP, Decimal
from functools import partial

import pytz
from dateutil.relativedelta import relativedelta

from bot.nlu.normalize.calendar_words import _AMBIGUOUS_WEEKDAYS, MONTHS, ORDINAL_WORDS, WEEKDAYS
from bot.nlu.normalize.duration import _QTY_RE, _UNIT_DAYS, _UNIT_RE, _quantity
from bot.nlu.normalize.tokens import _clean

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
