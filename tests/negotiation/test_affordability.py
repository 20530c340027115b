from decimal import Decimal

import pytest

from bot.negotiation import (
    Finances,
    Frequency,
    NegotiationError,
    affordable_installment,
    disposable_income,
    policy_from_dict,
)

D = Decimal
DEFAULT = policy_from_dict({})  # share of disposable income: 0.50


def test_disposable_income_can_be_negative() -> None:
    assert disposable_income(Finances(D("2000.00"), D("1910.00"))) == D("90.00")
    assert disposable_income(Finances(D("1000.00"), D("1200.00"))) == D("-200.00")


@pytest.mark.parametrize(
    ("frequency", "expected"),
    [
        (Frequency.MONTHLY, "45.00"),  # 0.5 x 90
        (Frequency.BIWEEKLY, "20.76"),  # 45 x 12 / 26 = 20.769..., rounded down
        (Frequency.WEEKLY, "10.38"),  # 45 x 12 / 52 = 10.384..., rounded down
    ],
)
def test_affordable_installment_scales_to_frequency_and_rounds_down(
    frequency: Frequency, expected: str
) -> None:
    finances = Finances(D("2000.00"), D("1910.00"))
    assert affordable_installment(DEFAULT, finances, frequency) == D(expected)


def test_affordable_installment_uses_exact_share() -> None:
    policy = policy_from_dict({"installments": {"max_share_of_disposable": 0.1}})
    finances = Finances(D("1000.00"), D("0.00"))
    assert affordable_installment(policy, finances, Frequency.MONTHLY) == D("100.00")


@pytest.mark.parametrize("expenses", ["1000.00", "1500.00"])
def test_nothing_is_affordable_without_disposable_income(expenses: str) -> None:
    finances = Finances(D("1000.00"), D(expenses))
    for frequency in Frequency:
        assert affordable_installment(DEFAULT, finances, frequency) == D("0.00")


@pytest.mark.parametrize(
    ("income", "expenses", "field"),
    [
        (D("-1.00"), D("0.00"), "monthly_income"),
        (D("100.00"), D("-0.01"), "monthly_expenses"),
    ],
)
def test_finances_reject_negative_figures(income: Decimal, expenses: Decimal, field: str) -> None:
    with pytest.raises(ValueError, match=field) as raised:
        Finances(income, expenses)
    assert isinstance(raised.value, NegotiationError)


def test_finances_reject_floats() -> None:
    with pytest.raises(ValueError, match="monthly_income"):
        Finances(1800.0, D("0.00"))  # type: ignore[arg-type]


def test_finances_are_kept_to_the_cent() -> None:
    finances = Finances(D("2000"), D("1700.5"))
    assert str(finances.monthly_income) == "2000.00"
    assert str(disposable_income(finances)) == "299.50"
