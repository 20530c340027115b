import datetime
from decimal import Decimal

import pytest

from bot.negotiation import Frequency, Installment, Option, even_schedule, installment_schedule

D = Decimal
date = datetime.date


def amounts(schedule: tuple[Installment, ...]) -> list[str]:
    return [str(i.amount) for i in schedule]


def dates(schedule: tuple[Installment, ...]) -> list[date]:
    return [i.due_date for i in schedule]


def test_installment_schedule_last_payment_takes_the_remainder() -> None:
    schedule = installment_schedule(D("1000.00"), D("150.00"), Frequency.MONTHLY, date(2024, 1, 5))
    assert amounts(schedule) == ["150.00"] * 6 + ["100.00"]
    assert sum(i.amount for i in schedule) == D("1000.00")


def test_installment_schedule_exact_multiple_has_no_small_last_payment() -> None:
    schedule = installment_schedule(D("300.00"), D("100.00"), Frequency.WEEKLY, date(2024, 1, 5))
    assert amounts(schedule) == ["100.00", "100.00", "100.00"]


def test_installment_schedule_amount_covering_total_is_one_payment() -> None:
    schedule = installment_schedule(D("80.00"), D("100.00"), Frequency.MONTHLY, date(2024, 1, 5))
    assert amounts(schedule) == ["80.00"]


def test_monthly_dates_keep_the_day_of_month_from_the_first_date() -> None:
    schedule = installment_schedule(D("500.00"), D("100.00"), Frequency.MONTHLY, date(2023, 1, 31))
    assert dates(schedule) == [
        date(2023, 1, 31),
        date(2023, 2, 28),
        date(2023, 3, 31),  # not the 28th: counted from the first date
        date(2023, 4, 30),
        date(2023, 5, 31),
    ]


def test_monthly_dates_in_a_leap_year() -> None:
    schedule = installment_schedule(D("300.00"), D("100.00"), Frequency.MONTHLY, date(2024, 1, 30))
    assert dates(schedule) == [date(2024, 1, 30), date(2024, 2, 29), date(2024, 3, 30)]


@pytest.mark.parametrize(("frequency", "days"), [(Frequency.WEEKLY, 7), (Frequency.BIWEEKLY, 14)])
def test_weekly_and_biweekly_dates(frequency: Frequency, days: int) -> None:
    schedule = installment_schedule(D("400.00"), D("100.00"), frequency, date(2024, 12, 20))
    assert dates(schedule) == [
        date(2024, 12, 20) + datetime.timedelta(days=days * i) for i in range(4)
    ]


def test_even_schedule_rounds_up_and_last_absorbs_the_difference() -> None:
    schedule = even_schedule(D("100.00"), 3, Frequency.MONTHLY, date(2024, 1, 1))
    assert amounts(schedule) == ["33.34", "33.34", "33.32"]


def test_even_schedule_exact_split() -> None:
    schedule = even_schedule(D("1200.00"), 12, Frequency.MONTHLY, date(2024, 1, 1))
    assert amounts(schedule) == ["100.00"] * 12


def test_even_schedule_never_leaves_a_zero_last_payment() -> None:
    # 0.05 in 4 even payments of 0.02 would leave -0.03; fewer payments of 0.02 instead.
    schedule = even_schedule(D("0.05"), 4, Frequency.WEEKLY, date(2024, 1, 1))
    assert amounts(schedule) == ["0.02", "0.02", "0.01"]


@pytest.mark.parametrize(
    ("total", "amount"),
    [(D("0"), D("1.00")), (D("10.00"), D("0")), (D("10.001"), D("1.00")), (D("10"), D("-1"))],
)
def test_schedules_reject_bad_amounts(total: Decimal, amount: Decimal) -> None:
    with pytest.raises(ValueError):
        installment_schedule(total, amount, Frequency.MONTHLY, date(2024, 1, 1))


def test_schedule_length_is_bounded() -> None:
    with pytest.raises(ValueError, match="limited to"):
        installment_schedule(D("100000.00"), D("0.01"), Frequency.WEEKLY, date(2024, 1, 1))


def test_option_to_dict_is_json_ready() -> None:
    option = Option(
        kind="installment",
        total=D("300"),
        currency="USD",
        schedule=installment_schedule(
            D("300.00"), D("150.00"), Frequency.MONTHLY, date(2024, 2, 1)
        ),
        frequency=Frequency.MONTHLY,
    )
    assert option.regular_amount == D("150.00")
    assert option.to_dict() == {
        "kind": "installment",
        "frequency": "monthly",
        "total": "300.00",
        "currency": "USD",
        "schedule": [
            {"due_date": "2024-02-01", "amount": "150.00"},
            {"due_date": "2024-03-01", "amount": "150.00"},
        ],
        "installment_count": 2,
        "deferred_until": None,
        "settlement": False,
        "requires_review": False,
    }


def test_deferral_awaiting_review_has_no_schedule() -> None:
    option = Option(
        kind="deferral",
        total=D("500.00"),
        currency="GBP",
        schedule=(),
        deferred_until=date(2024, 3, 1),
        requires_review=True,
    )
    assert option.regular_amount is None
    assert option.to_dict()["deferred_until"] == "2024-03-01"
    assert option.to_dict()["installment_count"] == 0


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"schedule": (Installment(date(2024, 1, 1), D("99.00")),)}, "sums to"),
        ({"kind": "loan"}, "kind"),
        ({"currency": "usd"}, "currency"),
        ({"schedule": ()}, "empty schedule"),
        (
            {
                "kind": "installment",
                "schedule": (
                    Installment(date(2024, 2, 1), D("50.00")),
                    Installment(date(2024, 1, 1), D("50.00")),
                ),
                "frequency": Frequency.MONTHLY,
            },
            "strictly increasing",
        ),
        ({"kind": "installment"}, "needs a frequency"),
        ({"deferred_until": date(2024, 1, 1)}, "deferred_until"),
    ],
)
def test_option_refuses_inconsistent_plans(kwargs: dict, problem: str) -> None:
    fields = {
        "kind": "full",
        "total": D("100.00"),
        "currency": "USD",
        "schedule": (Installment(date(2024, 1, 1), D("100.00")),),
    }
    with pytest.raises(ValueError, match=problem):
        Option(**{**fields, **kwargs})
