import datetime
from decimal import Decimal

import pytest

from bot.negotiation import (
    Finances,
    Frequency,
    NegotiationError,
    build_quote,
    policy_from_dict,
)

D = Decimal
TODAY = datetime.date(2024, 1, 31)
DEFAULT = policy_from_dict({})
COMFORTABLE = Finances(D("2000.00"), D("1500.00"))  # 500 left: 250 a month affordable
TIGHT = Finances(D("2000.00"), D("1910.00"))  # 90 left: 45 a month affordable


def summary(quote) -> list[tuple[str, str | None, int]]:  # type: ignore[no-untyped-def]
    return [
        (o.kind, o.frequency.value if o.frequency else None, o.installment_count)
        for o in quote.options
    ]


def test_full_then_fewest_installments_per_frequency() -> None:
    quote = build_quote(D("400.00"), COMFORTABLE, DEFAULT, TODAY, max_options=5)
    assert summary(quote) == [
        ("full", None, 1),
        ("installment", "monthly", 2),  # 200 <= 250
        ("installment", "biweekly", 4),  # 100 <= 115.38
        ("installment", "weekly", 7),  # 57.15 <= 57.69
    ]
    assert not quote.needs_human_review and quote.reason is None
    first_due = TODAY + datetime.timedelta(days=7)
    assert all(o.schedule[0].due_date == first_due for o in quote.options)
    assert [str(i.amount) for i in quote.options[3].schedule] == ["57.15"] * 6 + ["57.10"]


def test_at_most_max_options_are_kept_in_order() -> None:
    quote = build_quote(D("400.00"), COMFORTABLE, DEFAULT, TODAY)
    assert summary(quote) == [
        ("full", None, 1),
        ("installment", "monthly", 2),
        ("installment", "biweekly", 4),
    ]


def test_installments_are_split_evenly() -> None:
    quote = build_quote(D("1200.00"), COMFORTABLE, DEFAULT, TODAY)
    monthly = quote.options[0]
    assert (monthly.kind, monthly.frequency) == ("installment", Frequency.MONTHLY)
    assert [str(i.amount) for i in monthly.schedule] == ["240.00"] * 5
    assert quote.affordable == {
        Frequency.MONTHLY: D("250.00"),
        Frequency.BIWEEKLY: D("115.38"),
        Frequency.WEEKLY: D("57.69"),
    }
    assert quote.disposable_income == D("500.00")


def test_full_payment_only_when_balance_is_within_disposable_income() -> None:
    assert build_quote(D("500.00"), COMFORTABLE, DEFAULT, TODAY).options[0].kind == "full"
    assert build_quote(D("500.01"), COMFORTABLE, DEFAULT, TODAY).options[0].kind == "installment"


def test_minimum_payment_is_used_when_the_even_split_is_below_it() -> None:
    policy = policy_from_dict({"installments": {"min_amount": "55.00"}})
    finances = Finances(D("120.00"), D("0.00"))  # 60 a month affordable
    quote = build_quote(D("100.00"), finances, policy, TODAY)
    monthly = [o for o in quote.options if o.frequency is Frequency.MONTHLY][0]
    # Two even payments of 50 would be below the minimum: 55 then the remaining 45.
    assert [str(i.amount) for i in monthly.schedule] == ["55.00", "45.00"]


def test_balance_below_the_minimum_may_still_be_split() -> None:
    finances = Finances(D("20.00"), D("0.00"))  # 10 a month affordable
    quote = build_quote(D("20.00"), finances, DEFAULT, TODAY)
    monthly = [o for o in quote.options if o.frequency is Frequency.MONTHLY][0]
    assert [str(i.amount) for i in monthly.schedule] == ["10.00", "10.00"]


def test_too_many_installments_means_no_plan_at_that_frequency() -> None:
    # 45 a month would take 27 payments; the default policy allows 12.
    quote = build_quote(D("1200.00"), TIGHT, DEFAULT, TODAY)
    assert not any(o.kind in ("full", "installment") for o in quote.options)


def test_nothing_affordable_offers_a_pause_and_a_person() -> None:
    quote = build_quote(D("1200.00"), TIGHT, DEFAULT, TODAY)
    assert quote.needs_human_review
    assert quote.reason == (
        "Nothing within your budget fits our payment plans right now, so we can pause for up "
        "to 60 days or have a person review your situation."
    )
    (deferral,) = quote.options
    assert deferral.kind == "deferral"
    assert deferral.schedule == ()
    assert deferral.requires_review
    assert deferral.total == D("1200.00")
    assert deferral.deferred_until == TODAY + datetime.timedelta(days=60)


def test_nothing_affordable_without_deferrals_offers_a_person() -> None:
    policy = policy_from_dict({"deferral": {"max_days": 0}})
    quote = build_quote(D("1200.00"), Finances(D("900.00"), D("1000.00")), policy, TODAY)
    assert quote.options == ()
    assert quote.needs_human_review
    assert quote.reason is not None and "a person will review your situation" in quote.reason
    assert quote.affordable[Frequency.WEEKLY] == D("0.00")


def test_hardship_adds_a_deferral_that_survives_the_cut() -> None:
    quote = build_quote(
        D("400.00"), COMFORTABLE, DEFAULT, TODAY, temporary_hardship=True, max_options=2
    )
    assert summary(quote) == [("full", None, 1), ("deferral", "monthly", 2)]
    deferral = quote.options[1]
    resume = TODAY + datetime.timedelta(days=60)
    assert deferral.deferred_until == resume
    assert deferral.schedule[0].due_date == resume
    assert not deferral.requires_review and not quote.needs_human_review


def test_deferral_plan_uses_another_frequency_when_monthly_is_not_allowed() -> None:
    policy = policy_from_dict({"installments": {"frequencies": ["weekly", "biweekly"]}})
    quote = build_quote(D("1200.00"), COMFORTABLE, policy, TODAY, temporary_hardship=True)
    deferral = quote.options[-1]
    assert deferral.kind == "deferral"
    assert deferral.frequency is Frequency.BIWEEKLY


def test_deferral_is_one_payment_when_only_paying_in_full_fits() -> None:
    policy = policy_from_dict({"installments": {"max_count": 1}})
    quote = build_quote(D("400.00"), COMFORTABLE, policy, TODAY, temporary_hardship=True)
    assert summary(quote) == [("full", None, 1), ("deferral", None, 1)]


def test_first_due_defaults_to_a_week_or_the_window() -> None:
    short = policy_from_dict({"first_payment_window_days": 3})
    quote = build_quote(D("400.00"), COMFORTABLE, short, TODAY)
    assert quote.options[0].schedule[0].due_date == TODAY + datetime.timedelta(days=3)


def test_explicit_first_due_within_the_window_is_used() -> None:
    first_due = TODAY + datetime.timedelta(days=14)
    quote = build_quote(D("400.00"), COMFORTABLE, DEFAULT, TODAY, first_due=first_due)
    assert {o.schedule[0].due_date for o in quote.options} == {first_due}


@pytest.mark.parametrize("days", [-1, 15])
def test_explicit_first_due_outside_the_window_is_an_error(days: int) -> None:
    with pytest.raises(ValueError, match="first_due .* must be between"):
        build_quote(
            D("400.00"),
            COMFORTABLE,
            DEFAULT,
            TODAY,
            first_due=TODAY + datetime.timedelta(days=days),
        )


@pytest.mark.parametrize(
    ("balance", "currency", "problem"),
    [
        (D("0.00"), "USD", "balance must be more than zero"),
        (D("-5.00"), "USD", "balance must be more than zero"),
        (D("10.005"), "USD", "whole cents"),
        (D("100.00"), "US", "3-letter"),
        (D("100.00"), "U$D", "3-letter"),
        (D("100.00"), "DOLLARS", "3-letter"),
    ],
)
def test_bad_input_is_a_negotiation_error(balance: Decimal, currency: str, problem: str) -> None:
    with pytest.raises(NegotiationError, match=problem):
        build_quote(balance, COMFORTABLE, DEFAULT, TODAY, currency=currency)


def test_negative_finances_are_a_negotiation_error() -> None:
    with pytest.raises(NegotiationError, match="monthly_expenses cannot be negative"):
        build_quote(D("100.00"), Finances(D("100.00"), D("-1.00")), DEFAULT, TODAY)


def test_float_balance_and_datetime_today_are_refused() -> None:
    with pytest.raises(NegotiationError, match="balance"):
        build_quote(100.0, COMFORTABLE, DEFAULT, TODAY)  # type: ignore[arg-type]
    with pytest.raises(NegotiationError, match="today must be a date"):
        build_quote(D("1"), COMFORTABLE, DEFAULT, datetime.datetime(2024, 1, 1))


def test_currency_is_normalised_and_carried_into_options() -> None:
    quote = build_quote(D("400.00"), COMFORTABLE, DEFAULT, TODAY, currency="gbp")
    assert quote.currency == "GBP"
    assert {o.currency for o in quote.options} == {"GBP"}


def test_quote_to_dict() -> None:
    data = build_quote(D("400.00"), COMFORTABLE, DEFAULT, TODAY, max_options=1).to_dict()
    assert data == {
        "balance": "400.00",
        "currency": "USD",
        "disposable_income": "500.00",
        "affordable": {"monthly": "250.00", "biweekly": "115.38", "weekly": "57.69"},
        "options": [
            {
                "kind": "full",
                "frequency": None,
                "total": "400.00",
                "currency": "USD",
                "schedule": [{"due_date": "2024-02-07", "amount": "400.00"}],
                "installment_count": 1,
                "deferred_until": None,
                "settlement": False,
                "requires_review": False,
            }
        ],
        "needs_human_review": False,
        "reason": None,
    }
