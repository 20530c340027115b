"""Edge-case tables for bot.nlu.normalize (pure functions, no fixtures needed)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from bot.nlu.normalize import (
    HARDSHIP_KINDS,
    HARDSHIP_PHRASES,
    MAX_AMOUNT,
    extract_amount,
    local_today,
    parse_amount,
    parse_birth_date,
    parse_date,
    parse_duration_days,
    parse_frequency,
    parse_hardship,
)
from tests.complexity import LINEAR_GROWTH, growth

# A Saturday, so "friday" (yesterday) and "next friday" exercise the week boundary.
TODAY = date(2026, 11, 28)
FRIDAY = date(2026, 11, 27)


def test_today_is_a_saturday() -> None:
    assert TODAY.weekday() == 5
    assert FRIDAY.weekday() == 4


# ---------------------------------------------------------------------------
# Untrusted input: every function, no exception, nothing invented.
# ---------------------------------------------------------------------------

GARBAGE = [
    "",
    " ",
    "\n\t\r",
    "😀",
    "🙂🙃💸💸💸",
    "\x00\x01\x02\x1b\x7f",
    "\u200b\u200d\u202e\ufeff",
    "\ud800\udfff",  # lone surrogates
    "Привет, как дела",
    "日本語のテキスト",
    "مرحبا كيف حالك",
    "Ἀθῆναι ελληνικά",
    "x" * 5000,
    "😀" * 5000,
    "\x00" * 5000,
    " " * 5000,
    "?!.,;:'\"()[]{}<>@#%^&*_+=|\\/~`",
]

PARSERS: dict[str, Callable[[str], Any]] = {
    "parse_amount": parse_amount,
    "extract_amount": extract_amount,
    "parse_frequency": parse_frequency,
    "parse_duration_days": parse_duration_days,
    "parse_hardship": parse_hardship,
    "parse_date": lambda s: parse_date(s, TODAY),
    "parse_date_past": lambda s: parse_date(s, TODAY, past=True),
    "parse_birth_date": lambda s: parse_birth_date(s, TODAY),
}


@pytest.mark.parametrize("text", GARBAGE, ids=lambda s: repr(s[:20]))
@pytest.mark.parametrize("name", sorted(PARSERS))
def test_garbage_gives_none(name: str, text: str) -> None:
    assert PARSERS[name](text) is None


# Long, adversarial inputs: the functions may find something, but must not raise and
# must stay fast (each is a linear scan; dateparser only ever sees short text).
ADVERSARIAL = [
    "1" * 5000,
    "1 " * 2500,
    "1-" * 2500,
    "1," * 2500,
    "1." * 2500,
    "1/" * 2500,
    "1:" * 2500,
    "+1 " * 1700,
    "$" * 5000,
    "1k" * 2500,
    "fifty " * 850,
    "a hundred and " * 360,
    "twenty-" * 700,
    "the 15th " * 560,
    "march 3 " * 625,
    "next friday " * 420,
    "every " * 850,
    "in a " * 1000,
    "not sick " * 560,
    "2024 " * 1000,
    "4111 1111 1111 1111 " * 250,
    "日本語 ٥٠ Привет 50 " * 300,
    "i can pay 50 a month starting the 15th, lost my job 3 months ago. " * 75,
]


@pytest.mark.parametrize("text", ADVERSARIAL, ids=lambda s: repr(s[:16]))
def test_long_input_is_safe_and_fast(text: str) -> None:
    assert len(text) >= 4900
    for name, parse in PARSERS.items():
        parse(text)  # must not raise
        # Counted, not timed: twice the text costs at most LINEAR_GROWTH times the work.
        assert growth(parse, text) <= LINEAR_GROWTH, name


@pytest.mark.parametrize("value", [None, 50, 5.0, b"50", ["50"]])
def test_non_string_input_gives_none(value: Any) -> None:
    for name, parse in PARSERS.items():
        assert parse(value) is None, name


# ---------------------------------------------------------------------------
# parse_amount
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$50", "50.00"),
        ("50", "50.00"),
        ("50.5", "50.50"),
        ("50.50", "50.50"),
        ("$1,234.56", "1234.56"),
        ("1,234", "1234.00"),
        ("1,234,567", "1234567.00"),
        ("1.2k", "1200.00"),
        ("1.2K", "1200.00"),
        ("2k", "2000.00"),
        ("$2k", "2000.00"),
        ("1.25k", "1250.00"),
        ("fifty", "50.00"),
        ("Fifty", "50.00"),
        ("fifty bucks", "50.00"),
        ("fifty dollars", "50.00"),
        ("a hundred and fifty", "150.00"),
        ("two hundred fifty", "250.00"),
        ("two hundred and fifty five", "255.00"),
        ("twenty-five", "25.00"),
        ("twenty five", "25.00"),
        ("twelve hundred", "1200.00"),
        ("a grand", "1000.00"),
        ("two grand", "2000.00"),
        ("a couple hundred", "200.00"),
        ("five thousand two hundred", "5200.00"),
        ("one", "1.00"),
        ("zero", "0.00"),
        ("75 dollars", "75.00"),
        ("£40", "40.00"),
        ("€20", "20.00"),
        ("40 quid", "40.00"),
        ("20 euros", "20.00"),
        ("usd 50", "50.00"),
        ("50 usd", "50.00"),
        ("50$", "50.00"),
        ("$ 50", "50.00"),
        ("about 1800", "1800.00"),
        ("like 2 grand", "2000.00"),
        ("around $300", "300.00"),
        ("at least 100", "100.00"),
        ("up to 75", "75.00"),
        ("~50", "50.00"),
        ("50ish", "50.00"),
        ("50 or so", "50.00"),
        ("50?", "50.00"),
        ("50!!", "50.00"),
        ("50 👍", "50.00"),
        ("💵 50", "50.00"),
        ("75 cents", "0.75"),
        ("50p", "0.50"),
        ("$0.50", "0.50"),
        ("0", "0.00"),
        ("2024", "2024.00"),  # a bare span is money here; free text decides by context
        ("15", "15.00"),
        ("10000000", "10000000.00"),
        ("$10,000,000", "10000000.00"),
        ("５０", "50.00"),  # full-width digits from phone keyboards
        ("i can do 50 a month", "50.00"),  # short message: falls back to extract_amount
        ("i can pay 100 on friday", "100.00"),
        ("1800 a month after tax", "1800.00"),
    ],
)
def test_parse_amount(text: str, expected: str) -> None:
    result = parse_amount(text)
    assert result == Decimal(expected)
    assert isinstance(result, Decimal)
    assert result.as_tuple().exponent == -2  # quantised to cents


@pytest.mark.parametrize(
    "text",
    [
        "-50",
        "$-50",
        "-$50",
        "minus 50",
        "negative 50",
        "10000001",
        "99999999",
        "$10,000,001",
        "1" * 30,
        "1.234",  # three decimals: 1.234 or 1,234? ask again rather than guess
        "12,50",  # a decimal comma
        "1,2,3",
        "007",
        "one fifty",  # 1.50 or 150?
        "fifty fifty",
        "twenty twenty four",
        "a",
        "a couple",
        "the 15th",
        "3 months",
        "two weeks",
        "03/04/1985",
        "march 3",
        "march 3 1985",
        "at 5pm",
        "5:30",
        "555-123-4567",
        "+1 555 123 4567",
        "50%",
        "no",
        "idk",
        "lots",
    ],
)
def test_parse_amount_none(text: str) -> None:
    assert parse_amount(text) is None


def test_max_amount_is_ten_million() -> None:
    assert str(MAX_AMOUNT) == "10000000"


# ---------------------------------------------------------------------------
# extract_amount
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("i make about 1800 a month after tax", "1800.00"),
        ("rent is like 1.2k", "1200.00"),
        ("I can pay $50 on the 15th", "50.00"),
        ("on the 15th i can pay 100", "100.00"),
        ("on the 15 i get 900", "900.00"),
        ("the 3rd works, 75 bucks", "75.00"),
        ("born 03/04/1985, i can pay 20", "20.00"),
        ("my dob is march 3 1985 and i can do 40", "40.00"),
        ("march 3 2024 i paid 300", "300.00"),
        ("back in 2019 i paid 250", "250.00"),
        ("at 5pm i can send 40", "40.00"),
        ("at 5 i can send 40", "40.00"),
        ("5:30 works, 80 bucks", "80.00"),
        ("my number is 07700 900123 i can pay 25", "25.00"),
        ("(555) 123-4567 and 60", "60.00"),
        ("3 months ago i paid 200", "200.00"),
        ("i have 2 kids and make 1800", "1800.00"),
        ("i can pay 3 payments of 50", "50.00"),
        ("acct 12345 pay 30", "30.00"),
        ("about 50% of it, so 500", "500.00"),
        ("i can do 50-60", "50.00"),
        ("pay 100 on friday", "100.00"),
        ("i could do fifty a month", "50.00"),
        ("maybe a hundred and fifty every two weeks", "150.00"),
        ("like 2 grand", "2000.00"),
        ("i owe 2,500", "2500.00"),
        ("i can do $5", "5.00"),  # a currency sign overrides "small number" doubts
        ("five bucks a week", "5.00"),
        ("i can send 20 in 2 weeks", "20.00"),
        ("i have 2 jobs and 3 kids but can pay 45", "45.00"),
        ("it's £40 per month", "40.00"),
        ("€20 now, 20 later", "20.00"),
        ("99999999999 is my acct, i pay 80", "80.00"),  # absurd candidate skipped
        ("twenty twenty four was hard, i pay 60 now", "60.00"),
    ],
)
def test_extract_amount(text: str, expected: str) -> None:
    assert extract_amount(text) == Decimal(expected)


@pytest.mark.parametrize(
    "text",
    [
        "the 15th",
        "on the 3rd",
        "on the 15",
        "03/04/1985",
        "3/4",
        "03-04-85",
        "7.8.1979",
        "1985-03-04",
        "march 3",
        "march 3 1985",
        "3 march",
        "12 july 1990",
        "in 2024 i lost my job",
        "since 2019",
        "at 5pm",
        "at 5 pm",
        "5:30",
        "10am",
        "call me +1 555 123 4567",
        "555-123-4567",
        "(555) 123-4567",
        "07700 900123",
        "5551234",
        "3 months",
        "2 weeks",
        "10 days",
        "a 3-month plan",
        "2 kids",
        "three kids",
        "i work 40 hours",
        "50%",
        "50 percent",
        "acct 12345",
        "order #123",
        "one day i'll pay",
        "i have two jobs",
        "i can pay it soon",
        "-50",
        "minus 50",
        "",
    ],
)
def test_extract_amount_ignores_non_money(text: str) -> None:
    assert extract_amount(text) is None


# ---------------------------------------------------------------------------
# parse_frequency
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a month", "monthly"),
        ("per month", "monthly"),
        ("monthly", "monthly"),
        ("Monthly", "monthly"),
        ("every month", "monthly"),
        ("each month", "monthly"),
        ("once a month", "monthly"),
        ("/mo", "monthly"),
        ("50/mo", "monthly"),
        ("$50 / month", "monthly"),
        ("i can do 50 a month", "monthly"),
        ("every 4 weeks", "monthly"),
        ("a week", "weekly"),
        ("per week", "weekly"),
        ("weekly", "weekly"),
        ("every week", "weekly"),
        ("$50/week", "weekly"),
        ("20/wk", "weekly"),
        ("every friday", "weekly"),
        ("every weds", "weekly"),
        ("every other fri", "biweekly"),
        ("on fridays", "weekly"),
        ("twice a week", "weekly"),  # closest allowed
        ("every 2 weeks", "biweekly"),
        ("every two weeks", "biweekly"),
        ("every other week", "biweekly"),
        ("every second week", "biweekly"),
        ("biweekly", "biweekly"),
        ("bi-weekly", "biweekly"),
        ("bi weekly", "biweekly"),
        ("fortnightly", "biweekly"),
        ("every fortnight", "biweekly"),
        ("once a fortnight", "biweekly"),
        ("twice a month", "biweekly"),  # closest allowed
        ("2x a month", "biweekly"),
        ("twice monthly", "biweekly"),
        ("semi-monthly", "biweekly"),
        ("i get paid every other friday", "biweekly"),
        ("every 14 days", "biweekly"),
        # The first rhythm named wins.
        ("weekly or monthly", "weekly"),
        ("monthly, or every 2 weeks", "monthly"),
    ],
)
def test_parse_frequency(text: str, expected: str | None) -> None:
    assert parse_frequency(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "in a month",
        "for a week",
        "a month ago",
        "about a month from now",
        "within a week",
        "a month or two",
        "daily",
        "every day",
        "quarterly",
        "yearly",
        "every 3 months",
        "3 months",
        "next month",
        "this week",
        "the 15th",
        "hello",
    ],
)
def test_parse_frequency_none(text: str) -> None:
    assert parse_frequency(text) is None


# ---------------------------------------------------------------------------
# parse_duration_days
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3 months", 90),
        ("a month", 30),
        ("one month", 30),
        ("two weeks", 14),
        ("2 weeks", 14),
        ("a couple of weeks", 14),
        ("a couple weeks", 14),
        ("couple of weeks", 14),
        ("10 days", 10),
        ("a day", 1),
        ("a few days", 3),
        ("a few weeks", 21),
        ("6 wks", 42),
        ("6wks", 42),
        ("2wk", 14),
        ("3mo", 90),
        ("3 mos", 90),
        ("1 year", 365),
        ("2 yrs", 730),
        ("a fortnight", 14),
        ("twenty one days", 21),
        ("twenty-one days", 21),
        ("1.5 months", 45),
        ("a month and a half", 45),
        ("half a year", 183),
        ("for a month", 30),
        ("about a week", 7),
        ("for the next 3 months", 90),
        ("i lost my job 3 months ago", 90),
        ("in 2 weeks", 14),
        ("2 weeks and 3 days", 14),  # the first span only
    ],
)
def test_parse_duration_days(text: str, expected: int) -> None:
    assert parse_duration_days(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "every 2 weeks",
        "every other week",
        "50 a month",
        "fifty a week",
        "$50 a month",
        "once a month",
        "0 days",
        "1000 years",
        "a few",
        "months",
        "monthly",
        "soon",
        "48 hours",
    ],
)
def test_parse_duration_days_none(text: str) -> None:
    assert parse_duration_days(text) is None


# ---------------------------------------------------------------------------
# parse_hardship
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("lost my job", "job_loss"),
        ("I LOST MY JOB in may", "job_loss"),
        ("my husband lost his job", "job_loss"),
        ("i got laid off", "job_loss"),
        ("laid off", "job_loss"),
        ("fired", "job_loss"),
        ("i was fired last week", "job_loss"),
        ("unemployed", "job_loss"),
        ("currently unemployed", "job_loss"),
        ("im out of work", "job_loss"),
        ("i'm not working right now", "job_loss"),
        ("surgery", "illness"),
        ("i had surgery", "illness"),
        ("in the hospital", "illness"),
        ("my son is in hospital", "illness"),
        ("sick", "illness"),
        ("i've been sick", "illness"),
        ("cancer", "illness"),
        ("medical bills", "illness"),
        ("injury", "illness"),
        ("got injured at work", "illness"),
        ("divorce", "family"),
        ("going through a divorce", "family"),
        ("new baby", "family"),
        ("baby", "family"),
        ("my mom passed", "family"),
        ("my dad died", "family"),
        ("kids", "family"),
        ("i have 3 kids", "family"),
        ("child care", "family"),
        ("funeral", "family"),
        ("hours got cut", "reduced_income"),
        ("my hours were cut", "reduced_income"),
        ("pay cut", "reduced_income"),
        ("reduced hours", "reduced_income"),
        ("only part time now", "reduced_income"),
        ("business is slow", "reduced_income"),
        ("business has been really slow", "reduced_income"),
        ("car broke down", "other"),
        ("my car broke down", "other"),
        ("rent went up", "other"),
        ("can't afford it", "other"),
        ("im broke", "other"),
        # The hardship named first wins; "other" only when nothing specific is named.
        ("i got laid off and then got sick", "job_loss"),
        ("sick kid so i lost my job", "illness"),
        ("rent went up and i lost my job", "job_loss"),
        ("im broke since my hours got cut", "reduced_income"),
        # A "no" answering the bot is not a negation of what follows.
        ("no i lost my job", "job_loss"),
        ("no, i lost my job", "job_loss"),
        ("not really, i was in the hospital", "illness"),
    ],
)
def test_parse_hardship(text: str, expected: str) -> None:
    assert parse_hardship(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "hello",
        "i can pay 50 a month",
        "ill pay friday",  # "I'll", not "ill"
        "sick of this",
        "sick and tired of these texts",
        "i'm not sick",
        "i didn't get fired",
        "i have no kids",
        "i never lost my job",
        "i haven't lost my job",
        "i dont have any kids",
        "wasn't really sick",
        "let go of it",
    ],
)
def test_parse_hardship_none(text: str) -> None:
    assert parse_hardship(text) is None


@pytest.mark.parametrize(
    ("kind", "phrase"),
    [(kind, phrase) for kind, phrases in HARDSHIP_PHRASES.items() for phrase in phrases],
)
def test_every_hardship_phrase_normalises_to_its_kind(kind: str, phrase: str) -> None:
    # The spaCy ruler labels these exact phrases, so each must come back as its kind.
    assert parse_hardship(phrase) == kind


def test_hardship_kinds_are_the_contract() -> None:
    assert set(HARDSHIP_KINDS) == {"job_loss", "illness", "family", "reduced_income", "other"}
    assert set(HARDSHIP_PHRASES) == set(HARDSHIP_KINDS)


# ---------------------------------------------------------------------------
# local_today
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "now", "expected"),
    [
        ("UTC", datetime(2026, 11, 28, 3, 0, tzinfo=timezone.utc), date(2026, 11, 28)),
        ("America/New_York", datetime(2026, 11, 28, 3, 0, tzinfo=timezone.utc), date(2026, 11, 27)),
        ("America/New_York", datetime(2026, 11, 28, 5, 0, tzinfo=timezone.utc), date(2026, 11, 28)),
        (
            "America/Los_Angeles",
            datetime(2026, 11, 28, 7, 59, tzinfo=timezone.utc),
            date(2026, 11, 27),
        ),
        (
            "America/Los_Angeles",
            datetime(2026, 11, 28, 8, 0, tzinfo=timezone.utc),
            date(2026, 11, 28),
        ),
        ("Asia/Tokyo", datetime(2026, 11, 27, 15, 0, tzinfo=timezone.utc), date(2026, 11, 28)),
        (
            "Pacific/Kiritimati",
            datetime(2026, 11, 27, 10, 0, tzinfo=timezone.utc),
            date(2026, 11, 28),
        ),
        (
            "Pacific/Pago_Pago",
            datetime(2026, 11, 28, 10, 0, tzinfo=timezone.utc),
            date(2026, 11, 27),
        ),
        ("Asia/Kolkata", datetime(2026, 11, 27, 18, 30, tzinfo=timezone.utc), date(2026, 11, 28)),
        # Summer time: New York is UTC-4 in July, so 03:30 UTC is still the previous day.
        ("America/New_York", datetime(2026, 7, 1, 3, 30, tzinfo=timezone.utc), date(2026, 6, 30)),
        ("America/New_York", datetime(2026, 7, 1, 4, 30, tzinfo=timezone.utc), date(2026, 7, 1)),
        # A non-UTC aware `now` is converted, not read as local.
        (
            "Europe/London",
            datetime(2026, 11, 28, 1, 0, tzinfo=timezone(timedelta(hours=5))),
            date(2026, 11, 27),
        ),
        # New Year across the date line.
        ("Pacific/Auckland", datetime(2026, 12, 31, 11, 0, tzinfo=timezone.utc), date(2027, 1, 1)),
    ],
)
def test_local_today(zone: str, now: datetime, expected: date) -> None:
    assert local_today(zone, now) == expected


def test_local_today_defaults_to_now() -> None:
    before = datetime.now(timezone.utc).date()
    result = local_today("Pacific/Kiritimati")
    after = datetime.now(timezone.utc).date()
    assert isinstance(result, date)
    # UTC+14: the local date is the UTC date or the day after.
    assert before <= result <= after + timedelta(days=1)


def test_local_today_rejects_naive_now() -> None:
    with pytest.raises(ValueError, match="aware"):
        local_today("UTC", datetime(2026, 11, 28, 12, 0))


@pytest.mark.parametrize(
    "zone", ["Mars/Olympus_Mons", "", "   ", "EST5EDT/x", "\x00", "../etc/passwd"]
)
def test_local_today_unknown_zone_names_it(zone: str) -> None:
    with pytest.raises(ValueError) as info:
        local_today(zone, datetime(2026, 11, 28, tzinfo=timezone.utc))
    assert repr(zone) in str(info.value)


# ---------------------------------------------------------------------------
# parse_date
# ---------------------------------------------------------------------------

D = date


@pytest.mark.parametrize(
    ("text", "future", "past"),
    [
        # Day of the month: next occurrence on/after today (past: on/before).
        ("the 15th", D(2026, 12, 15), D(2026, 11, 15)),
        ("on the 3rd", D(2026, 12, 3), D(2026, 11, 3)),
        ("3rd", D(2026, 12, 3), D(2026, 11, 3)),
        ("on the 15", D(2026, 12, 15), D(2026, 11, 15)),
        ("the 15", D(2026, 12, 15), D(2026, 11, 15)),
        ("the 28th", TODAY, TODAY),
        ("the 31st", D(2026, 12, 31), D(2026, 10, 31)),  # November has no 31st
        ("the 1st of next month", D(2026, 12, 1), D(2026, 12, 1)),
        ("the 1st of the month", D(2026, 12, 1), D(2026, 11, 1)),
        ("the first of the month", D(2026, 12, 1), D(2026, 11, 1)),
        ("the fifteenth", D(2026, 12, 15), D(2026, 11, 15)),
        # Relative days and texting spellings.
        ("today", TODAY, TODAY),
        ("tonight", TODAY, TODAY),
        ("tomorrow", D(2026, 11, 29), D(2026, 11, 29)),
        ("tmrw", D(2026, 11, 29), D(2026, 11, 29)),
        ("tmr", D(2026, 11, 29), D(2026, 11, 29)),
        ("2morrow", D(2026, 11, 29), D(2026, 11, 29)),
        ("Tomorow", D(2026, 11, 29), D(2026, 11, 29)),
        ("the day after tomorrow", D(2026, 11, 30), D(2026, 11, 30)),
        ("yesterday", FRIDAY, FRIDAY),
        # Weekdays (today is Saturday).
        ("friday", D(2026, 12, 4), FRIDAY),
        ("Friday", D(2026, 12, 4), FRIDAY),
        ("on friday", D(2026, 12, 4), FRIDAY),
        ("this friday", D(2026, 12, 4), FRIDAY),
        ("fri", D(2026, 12, 4), FRIDAY),
        ("next friday", D(2026, 12, 4), D(2026, 12, 4)),
        ("last friday", FRIDAY, FRIDAY),
        ("friday after next", D(2026, 12, 11), D(2026, 12, 11)),
        ("saturday", TODAY, TODAY),
        ("next saturday", D(2026, 12, 5), D(2026, 12, 5)),
        ("on sat", TODAY, TODAY),
        ("monday", D(2026, 11, 30), D(2026, 11, 23)),
        ("next tues", D(2026, 12, 1), D(2026, 12, 1)),
        ("this coming monday", D(2026, 11, 30), D(2026, 11, 23)),
        # Periods.
        ("end of the month", D(2026, 11, 30), D(2026, 11, 30)),
        ("end of month", D(2026, 11, 30), D(2026, 11, 30)),
        ("eom", D(2026, 11, 30), D(2026, 11, 30)),
        ("end of next month", D(2026, 12, 31), D(2026, 12, 31)),
        ("next week", D(2026, 11, 30), D(2026, 11, 30)),
        ("next month", D(2026, 12, 1), D(2026, 12, 1)),
        ("beginning of next month", D(2026, 12, 1), D(2026, 12, 1)),
        ("this weekend", TODAY, TODAY),
        ("next weekend", D(2026, 12, 5), D(2026, 12, 5)),
        # Offsets.
        ("in 2 weeks", D(2026, 12, 12), D(2026, 12, 12)),
        ("in two weeks", D(2026, 12, 12), D(2026, 12, 12)),
        ("in a week", D(2026, 12, 5), D(2026, 12, 5)),
        ("in a few days", D(2026, 12, 1), D(2026, 12, 1)),
        ("in a couple of weeks", D(2026, 12, 12), D(2026, 12, 12)),
        ("within 10 days", D(2026, 12, 8), D(2026, 12, 8)),
        ("in 3 months", D(2027, 2, 28), D(2027, 2, 28)),  # calendar months
        ("in a month", D(2026, 12, 28), D(2026, 12, 28)),
        ("a week from now", D(2026, 12, 5), D(2026, 12, 5)),
        ("2 weeks ago", D(2026, 11, 14), D(2026, 11, 14)),
        ("3 months ago", D(2026, 8, 28), D(2026, 8, 28)),
        # Month names.
        ("march 3", D(2027, 3, 3), D(2026, 3, 3)),
        ("March 3rd", D(2027, 3, 3), D(2026, 3, 3)),
        ("3 march", D(2027, 3, 3), D(2026, 3, 3)),
        ("3rd of march", D(2027, 3, 3), D(2026, 3, 3)),
        ("the 3rd of march", D(2027, 3, 3), D(2026, 3, 3)),
        ("dec 5th", D(2026, 12, 5), D(2025, 12, 5)),
        ("sept. 3rd", D(2027, 9, 3), D(2026, 9, 3)),
        ("december fifth", D(2026, 12, 5), D(2025, 12, 5)),
        ("nov 28", TODAY, TODAY),
        ("march 3 1985", D(1985, 3, 3), D(1985, 3, 3)),
        ("march 3, 1985", D(1985, 3, 3), D(1985, 3, 3)),
        ("12 july 1990", D(1990, 7, 12), D(1990, 7, 12)),
        ("june 2024", D(2024, 6, 1), D(2024, 6, 1)),
        ("feb 29", D(2028, 2, 29), D(2024, 2, 29)),
        # Numeric: month first; day first only when month first is impossible.
        ("3/4/1985", D(1985, 3, 4), D(1985, 3, 4)),
        ("03/04/1985", D(1985, 3, 4), D(1985, 3, 4)),
        ("3/4", D(2027, 3, 4), D(2026, 3, 4)),
        ("12/25", D(2026, 12, 25), D(2025, 12, 25)),
        ("25/12/1990", D(1990, 12, 25), D(1990, 12, 25)),
        ("31/12", D(2026, 12, 31), D(2025, 12, 31)),
        ("03-04-85", D(1985, 3, 4), D(1985, 3, 4)),
        ("1/15/27", D(2027, 1, 15), D(1927, 1, 15)),  # two-digit years: see docstring
        ("7.8.1979", D(1979, 7, 8), D(1979, 7, 8)),
        ("1985-03-04", D(1985, 3, 4), D(1985, 3, 4)),
        ("1985/03/04", D(1985, 3, 4), D(1985, 3, 4)),
        # dateparser fallback (a form the own patterns do not cover).
        ("5-dec-2026", D(2026, 12, 5), D(2026, 12, 5)),
        # A time alone is today.
        ("at 5pm", TODAY, TODAY),
        ("5:30", TODAY, TODAY),
        ("at noon", TODAY, TODAY),
        # In a sentence: the first date named wins.
        ("i can pay 100 on friday", D(2026, 12, 4), FRIDAY),
        ("i can pay 50 a month starting the 15th", D(2026, 12, 15), D(2026, 11, 15)),
        ("friday at 5pm", D(2026, 12, 4), FRIDAY),
        ("friday or the 15th", D(2026, 12, 4), FRIDAY),
        ("2/30 or friday", D(2026, 12, 4), FRIDAY),
    ],
)
def test_parse_date(text: str, future: date, past: date) -> None:
    assert parse_date(text, TODAY) == future
    assert parse_date(text, TODAY, past=True) == past


@pytest.mark.parametrize(
    "text",
    [
        "after payday",
        "when i get paid",
        "soon",
        "whenever",
        "later",
        "asap",
        "idk",
        "50",
        "$50",
        "1800",
        "1,800",
        "50.5",
        "50 a month",
        "i can do 50 a month",
        "2024",
        "3 months",
        "lost my job",
        "i sat down",  # "sat" needs a cue word
        "my first payment",
        "wait a second",
        "june",  # no day
        "2/30",
        "2/30/2026",
        "13/13/2020",
        "29 feb 2027",  # not a leap year, and not "feb 2027" instead
        "the 30th of feb",
        "the 32nd",
        "the 0th",
        "25:00",
        "in 0 days",
    ],
)
def test_parse_date_none(text: str) -> None:
    assert parse_date(text, TODAY) is None
    assert parse_date(text, TODAY, past=True) is None


@pytest.mark.parametrize(
    ("today", "text", "expected"),
    [
        # On a Friday, "friday" is today and "next friday" is a week away.
        (FRIDAY, "friday", FRIDAY),
        (FRIDAY, "next friday", D(2026, 12, 4)),
        # Mid-week, "friday" and "next friday" are the same coming Friday.
        (D(2026, 11, 25), "friday", FRIDAY),
        (D(2026, 11, 25), "next friday", FRIDAY),
        (D(2026, 11, 25), "next week", D(2026, 11, 30)),
        # Sunday: the weekend is today; next week starts tomorrow.
        (D(2026, 11, 29), "this weekend", D(2026, 11, 29)),
        (D(2026, 11, 29), "next week", D(2026, 11, 30)),
        # End of February, leap year and not.
        (D(2028, 2, 10), "end of the month", D(2028, 2, 29)),
        (D(2027, 2, 10), "end of the month", D(2027, 2, 28)),
        # "the 30th" in February moves to March.
        (D(2027, 2, 10), "the 30th", D(2027, 3, 30)),
        # Year rollover.
        (D(2026, 12, 31), "tomorrow", D(2027, 1, 1)),
        (D(2026, 12, 20), "the 5th", D(2027, 1, 5)),
        (D(2026, 12, 20), "next month", D(2027, 1, 1)),
        (D(2026, 12, 20), "end of next month", D(2027, 1, 31)),
        # "in a month" from Jan 31st is the last day of February.
        (D(2027, 1, 31), "in a month", D(2027, 2, 28)),
    ],
)
def test_parse_date_against_other_days(today: date, text: str, expected: date) -> None:
    assert parse_date(text, today) == expected


def test_parse_date_bad_today_gives_none() -> None:
    assert parse_date("tomorrow", "2026-11-28") is None  # type: ignore[arg-type]


# ---------------------------------------------------------------------------
# parse_birth_date
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("march 3 1985", D(1985, 3, 3)),
        ("March 3rd, 1985", D(1985, 3, 3)),
        ("3/4/1985", D(1985, 3, 4)),  # month first
        ("03-04-85", D(1985, 3, 4)),
        ("1985-03-04", D(1985, 3, 4)),
        ("3rd of march 1985", D(1985, 3, 3)),
        ("dob is 12 july 1990", D(1990, 7, 12)),
        ("DOB: 12/07/1990", D(1990, 12, 7)),
        ("born on 7.8.1979", D(1979, 7, 8)),  # dots are month first too
        ("25/12/1990", D(1990, 12, 25)),  # day first only when it must be
        ("my birthday is 11/28/2010", D(2010, 11, 28)),  # 16 today
        ("03-04-05", D(2005, 3, 4)),  # 2005 makes them 21
        ("03-04-15", D(1915, 3, 4)),  # 2015 would make them 11
        ("1/1/1906", D(1906, 1, 1)),  # 120 years back is the limit
        ("my dob is march 3 1985 and i can pay 50", D(1985, 3, 3)),
        ("3/4/2020 no sorry 3/4/1985", D(1985, 3, 4)),  # the first plausible one
    ],
)
def test_parse_birth_date(text: str, expected: date) -> None:
    assert parse_birth_date(text, TODAY) == expected


@pytest.mark.parametrize(
    "text",
    [
        "march 3",  # no year
        "the 15th",
        "3/4",
        "11/29/2010",  # one day short of 16
        "3/4/2015",  # 11 years old
        "1/1/2030",  # future
        "11/28/2026",  # today
        "1/1/1905",  # more than 120 years back
        "3/4/1850",
        "2/30/1985",
        "13/13/1985",
        "1985",
        "tomorrow",
        "i dont want to say",
        "50",
    ],
)
def test_parse_birth_date_none(text: str) -> None:
    assert parse_birth_date(text, TODAY) is None


def test_parse_birth_date_leap_day() -> None:
    # Born Feb 29th 2008: 16 on Feb 28th/Mar 1st 2024 depending on convention; by
    # Nov 2026 they are 18 either way.
    assert parse_birth_date("2/29/2008", TODAY) == D(2008, 2, 29)
    assert parse_birth_date("2/29/2007", TODAY) is None  # no such day
