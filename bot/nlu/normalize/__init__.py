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

One module per kind of value, each re-exported here (``from bot.nlu.normalize import
parse_amount`` is the import to use):

* :mod:`~bot.nlu.normalize.money`: amounts (``parse_amount``, ``extract_amount``);
* :mod:`~bot.nlu.normalize.numbers`: spelled-out numbers ("two hundred and fifty");
* :mod:`~bot.nlu.normalize.dates`: dates and dates of birth, and ``local_today``;
* :mod:`~bot.nlu.normalize.calendar_words`: month, weekday and ordinal words;
* :mod:`~bot.nlu.normalize.duration`: durations in days ("three weeks");
* :mod:`~bot.nlu.normalize.frequency`: weekly / biweekly / monthly;
* :mod:`~bot.nlu.normalize.hardship`: the kind of hardship a message names, and the
  hardship vocabulary the concept lexicon reads too;
* :mod:`~bot.nlu.normalize.tokens`: the cleaning and tokens they share.
"""

from __future__ import annotations

from bot.nlu.normalize.calendar_words import MONTHS, ORDINAL_WORDS, WEEKDAYS
from bot.nlu.normalize.dates import local_today, parse_birth_date, parse_date
from bot.nlu.normalize.duration import parse_duration_days
from bot.nlu.normalize.frequency import FREQUENCIES, parse_frequency
from bot.nlu.normalize.hardship import (
    CRISIS_PHRASES,
    HARDSHIP_KINDS,
    HARDSHIP_PHRASES,
    parse_hardship,
)
from bot.nlu.normalize.money import MAX_AMOUNT, extract_amount, parse_amount
from bot.nlu.normalize.numbers import (
    NUMBER_WORDS,
    SCALE_WORDS,
    TEEN_WORDS,
    TENS_WORDS,
    UNIT_WORDS,
)

__all__ = [
    "CRISIS_PHRASES",
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
