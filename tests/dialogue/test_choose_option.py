"""Picking an option in the debtor's words: what it is wins over the word "one"."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from bot.dialogue.texts import choose_option
from bot.negotiation import Finances, build_quote, load_policy
from bot.settings import PROJECT_ROOT

POLICY = load_policy(PROJECT_ROOT / "policies" / "default.yml")


def quote(income: str, expenses: str) -> list:  # type: ignore[type-arg]
    return list(
        build_quote(
            Decimal("1200.00"),
            Finances(Decimal(income), Decimal(expenses)),
            POLICY,
            date(2026, 12, 1),
            currency="USD",
            temporary_hardship=True,
        ).options
    )


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("the pause one pls", "deferral"),
        ("pause", "deferral"),
        ("can i take the break first", "deferral"),
        ("the one payment", "full"),
        ("all at once is fine", "full"),
        ("2", "installment"),
        ("option 1", "full"),
        ("the monthly one", "installment"),
        ("monthly one pls", "installment"),
        ("the second one", "installment"),
        ("the first one", "full"),
        ("id rather just get it done in a single go", "full"),
    ],
)
def test_options_are_picked_by_what_they_are(text: str, kind: str) -> None:
    options = quote("2600", "1400")  # full, monthly installments, pause then payments
    assert [o.kind for o in options] == ["full", "installment", "deferral"]
    picked = choose_option(options, text, None)
    assert picked is not None and picked.kind == kind, text


def test_a_frequency_is_picked_by_the_debtors_words_or_not_at_all() -> None:
    options = quote("2000", "1700") + quote("2600", "1400")
    biweekly = [o for o in quote("2500", "1900") if o.frequency and o.frequency.value == "biweekly"]
    assert biweekly, "the engine offers an every-two-weeks plan for this budget"
    text = "i get paid every other friday so the biweekly one is easier"
    assert choose_option(quote("2500", "1900"), text, "weekly") == biweekly[0]
    only_monthly = [o for o in options if o.kind != "installment" or o.frequency.value == "monthly"]
    assert choose_option(only_monthly, text, None) is None  # not on offer: nothing picked


def test_nothing_is_picked_from_an_amount_or_an_unrelated_text() -> None:
    options = quote("2600", "1400")
    assert choose_option(options, "i can do $50", None) is None
    assert choose_option(options, "whats the weather like", None) is None
    assert choose_option(options, "7", None) is None  # no option 7
