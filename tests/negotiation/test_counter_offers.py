import datetime
from decimal import Decimal

import pytest

from bot.negotiation import (
    CounterOffer,
    Finances,
    Frequency,
    NegotiationError,
    Outcome,
    evaluate_counter_offer,
    evaluate_deferral,
    evaluate_settlement,
    policy_from_dict,
)

D = Decimal
TODAY = datetime.date(2024, 1, 31)
NEXT_WEEK = datetime.date(2024, 2, 7)
LATEST = datetime.date(2024, 2, 14)  # the default 14-day window
DEFAULT = policy_from_dict({})
COMFORTABLE = Finances(D("2000.00"), D("1500.00"))  # 250.00 a month, 57.69 a week
TIGHT = Finances(D("2000.00"), D("1910.00"))  # 45.00 a month
BALANCE = D("1200.00")


def evaluate(offer: CounterOffer, finances: Finances | None = COMFORTABLE, policy=DEFAULT):  # type: ignore[no-untyped-def]
    return evaluate_counter_offer(BALANCE, finances, policy, TODAY, offer)


def amounts(decision) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(i.amount) for i in decision.option.schedule]


def test_an_affordable_compliant_offer_is_accepted_as_proposed() -> None:
    decision = evaluate(CounterOffer(D("150.00"), Frequency.MONTHLY, datetime.date(2024, 2, 10)))
    assert (decision.outcome, decision.reason) == (Outcome.ACCEPTED, "accepted")
    assert decision.option.kind == "installment"
    assert amounts(decision) == ["150.00"] * 8
    assert decision.option.schedule[0].due_date == datetime.date(2024, 2, 10)
    assert decision.message == (
        "Thank you, that works: 8 payments of $150.00 a month, from February 10, 2024 "
        "to September 10, 2024."
    )


def test_frequency_defaults_to_monthly_and_date_to_a_week_out() -> None:
    decision = evaluate(CounterOffer(D("110.00")))
    assert decision.outcome is Outcome.ACCEPTED
    assert decision.option.frequency is Frequency.MONTHLY
    assert decision.option.schedule[0].due_date == NEXT_WEEK
    assert amounts(decision) == ["110.00"] * 10 + ["100.00"]
    assert "(the last one $100.00)" in decision.message


def test_without_finances_nothing_is_agreed() -> None:
    decision = evaluate(CounterOffer(D("150.00")), finances=None)
    assert (decision.outcome, decision.reason, decision.option) == (
        Outcome.REFUSED,
        "finances_needed",
        None,
    )
    assert "what comes in each month" in decision.message


@pytest.mark.parametrize(
    "offer", [CounterOffer(BALANCE), CounterOffer(D("5000.00")), CounterOffer(lump_sum=True)]
)
def test_paying_the_whole_balance_is_accepted_as_one_payment(offer: CounterOffer) -> None:
    decision = evaluate(offer)
    assert (decision.outcome, decision.reason) == (Outcome.ACCEPTED, "pays_in_full")
    assert decision.option.kind == "full"
    assert decision.option.total == BALANCE  # never more than is owed
    assert amounts(decision) == ["1200.00"]
    assert not decision.option.settlement


def test_paying_more_than_owed_says_what_is_owed() -> None:
    decision = evaluate(CounterOffer(D("5000.00")))
    assert decision.message == (
        "The balance is $1,200.00, so one payment of $1,200.00 on February 7, 2024 clears "
        "the balance."
    )


def test_full_payment_too_late_is_countered_with_the_latest_date() -> None:
    decision = evaluate(CounterOffer(lump_sum=True, first_due=datetime.date(2024, 3, 15)))
    assert (decision.outcome, decision.reason) == (Outcome.COUNTERED, "first_payment_too_late")
    assert decision.option.schedule[0].due_date == LATEST
    assert decision.message.startswith("The payment needs to be by February 14, 2024.")


def test_unallowed_frequency_is_countered_with_the_same_amount_at_the_nearest() -> None:
    policy = policy_from_dict({"installments": {"frequencies": ["monthly", "biweekly"]}})
    decision = evaluate(CounterOffer(D("100.00"), Frequency.WEEKLY), policy=policy)
    assert (decision.outcome, decision.reason) == (Outcome.COUNTERED, "frequency_not_allowed")
    assert decision.option.frequency is Frequency.BIWEEKLY
    assert amounts(decision) == ["100.00"] * 12
    assert decision.message.startswith("We can't set up weekly payments on this account.")


def test_unallowed_frequency_falls_back_to_a_compliant_plan() -> None:
    policy = policy_from_dict({"installments": {"frequencies": ["monthly"]}})
    # 300 a month would be above the affordable 250: the best monthly plan instead.
    decision = evaluate(CounterOffer(D("300.00"), Frequency.BIWEEKLY), policy=policy)
    assert (decision.outcome, decision.reason) == (Outcome.COUNTERED, "frequency_not_allowed")
    assert decision.option.frequency is Frequency.MONTHLY
    assert amounts(decision) == ["240.00"] * 5


def test_offer_above_affordable_is_countered_with_the_best_affordable_plan() -> None:
    decision = evaluate(CounterOffer(D("300.00")))
    assert (decision.outcome, decision.reason) == (Outcome.COUNTERED, "above_affordable")
    assert amounts(decision) == ["240.00"] * 5
    assert decision.message == (
        "$300.00 a month is more than your budget leaves room for. We can do 5 payments of "
        "$240.00 a month, from February 7, 2024 to June 7, 2024."
    )


def test_message_for_the_spec_example() -> None:
    policy = policy_from_dict({"installments": {"max_count": 36}})
    decision = evaluate(CounterOffer(D("60.00")), finances=TIGHT, policy=policy)
    assert decision.reason == "above_affordable"
    assert decision.message.startswith(
        "$60.00 a month is more than your budget leaves room for. We can do 27 payments of "
        "$44.45 a month, from February 7, 2024 to April 7, 2026 (the last one $44.30)"
    )


def test_above_affordable_tries_other_frequencies_before_refusing() -> None:
    # Weekly: at most 57.69 but the minimum is 60; monthly still fits.
    policy = policy_from_dict({"installments": {"min_amount": "60.00"}})
    decision = evaluate(CounterOffer(D("80.00"), Frequency.WEEKLY), policy=policy)
    assert (decision.outcome, decision.reason) == (Outcome.COUNTERED, "above_affordable")
    assert decision.option.frequency is Frequency.BIWEEKLY


def test_offer_above_affordable_with_nothing_affordable_is_refused_kindly() -> None:
    decision = evaluate(CounterOffer(D("60.00")), finances=TIGHT)
    assert (decision.outcome, decision.reason, decision.option) == (
        Outcome.REFUSED,
        "nothing_affordable",
        None,
    )
    assert decision.message == (
        "$60.00 a month is more than your budget leaves room for. Nothing within your budget "
        "fits our payment plans right now, so we can pause for up to 60 days or have a person "
        "review your situation."
    )


def test_offer_below_minimum_is_countered_with_the_minimum() -> None:
    policy = policy_from_dict({"installments": {"max_count": 60}})
    decision = evaluate(CounterOffer(D("10.00")), policy=policy)
    assert (decision.outcome, decision.reason) == (Outcome.COUNTERED, "below_minimum")
    assert amounts(decision) == ["25.00"] * 48
    assert decision.message.startswith(
        "$10.00 a month is below the smallest payment we can set up ($25.00)."
    )


def test_offer_below_an_unaffordable_minimum_is_refused() -> None:
    policy = policy_from_dict({"installments": {"min_amount": "300.00", "max_count": 60}})
    decision = evaluate(CounterOffer(D("10.00")), policy=policy)
    assert (decision.outcome, decision.reason) == (Outcome.REFUSED, "nothing_affordable")


def test_offer_taking_too_many_payments_is_countered_with_the_smallest_even_split() -> None:
    decision = evaluate(CounterOffer(D("30.00")))
    assert (decision.outcome, decision.reason) == (Outcome.COUNTERED, "too_many_installments")
    assert amounts(decision) == ["100.00"] * 12
    assert decision.message.startswith(
        "At $30.00 a month it would take 40 payments, and we can spread the balance over at "
        "most 12."
    )


def test_too_many_payments_with_nothing_affordable_is_refused() -> None:
    decision = evaluate(CounterOffer(D("30.00")), finances=TIGHT)
    assert (decision.outcome, decision.reason) == (Outcome.REFUSED, "nothing_affordable")


def test_late_first_payment_is_countered_with_the_same_plan_at_the_latest_date() -> None:
    decision = evaluate(CounterOffer(D("150.00"), first_due=datetime.date(2024, 3, 1)))
    assert (decision.outcome, decision.reason) == (Outcome.COUNTERED, "first_payment_too_late")
    assert amounts(decision) == ["150.00"] * 8
    assert decision.option.schedule[0].due_date == LATEST
    assert decision.message.startswith("The first payment needs to be by February 14, 2024.")


def test_other_problems_also_move_a_late_first_payment() -> None:
    decision = evaluate(CounterOffer(D("300.00"), first_due=datetime.date(2024, 3, 1)))
    assert decision.reason == "above_affordable"
    assert decision.option.schedule[0].due_date == LATEST
    assert "The first payment needs to be by February 14, 2024." in decision.message


def test_frequency_without_amount_gets_a_suggested_plan() -> None:
    decision = evaluate(CounterOffer(frequency=Frequency.BIWEEKLY))
    assert (decision.outcome, decision.reason) == (Outcome.COUNTERED, "amount_suggested")
    assert decision.option.frequency is Frequency.BIWEEKLY


def test_lump_sum_below_the_balance_is_a_settlement_offer() -> None:
    decision = evaluate(CounterOffer(D("1000.00"), lump_sum=True))
    assert (decision.outcome, decision.reason) == (Outcome.ACCEPTED, "accepted")
    assert decision.option.settlement and decision.option.total == D("1000.00")


def test_late_lump_sum_settlement_is_countered_with_the_latest_date() -> None:
    offer = CounterOffer(D("1000.00"), first_due=datetime.date(2024, 4, 1), lump_sum=True)
    decision = evaluate(offer)
    assert (decision.outcome, decision.reason) == (Outcome.COUNTERED, "first_payment_too_late")
    assert decision.option.schedule[0].due_date == LATEST


@pytest.mark.parametrize(
    ("offer", "problem"),
    [
        (CounterOffer(D("0.00")), "more than zero"),
        (CounterOffer(D("-10.00")), "more than zero"),
        (CounterOffer(D("10.001")), "whole cents"),
        (CounterOffer(D("50.00"), first_due=datetime.date(2024, 1, 30)), "before today"),
    ],
)
def test_unusable_offers_are_errors(offer: CounterOffer, problem: str) -> None:
    with pytest.raises(NegotiationError, match=problem):
        evaluate(offer)


def test_decision_to_dict() -> None:
    data = evaluate(CounterOffer(D("300.00"))).to_dict()
    assert data["outcome"] == "countered"
    assert data["reason"] == "above_affordable"
    assert data["option"]["schedule"][0] == {"due_date": "2024-02-07", "amount": "240.00"}


# --- settlement ---


def test_settlement_at_or_above_the_floor_is_accepted() -> None:
    decision = evaluate_settlement(D("1000.00"), DEFAULT, TODAY, D("800.00"))
    assert (decision.outcome, decision.reason) == (Outcome.ACCEPTED, "accepted")
    option = decision.option
    assert (option.kind, option.total, option.settlement) == ("full", D("800.00"), True)
    assert option.schedule[0].due_date == NEXT_WEEK
    assert decision.message == (
        "We can accept $800.00 as one payment on February 7, 2024 to settle the balance of "
        "$1,000.00."
    )


def test_settlement_below_the_floor_is_countered_at_the_floor_rounded_up() -> None:
    decision = evaluate_settlement(D("999.99"), DEFAULT, TODAY, D("500.00"))
    assert (decision.outcome, decision.reason) == (Outcome.COUNTERED, "below_settlement_floor")
    # 0.80 x 999.99 = 799.992: rounding down would accept less than the floor.
    assert decision.option.total == D("800.00")
    assert decision.option.settlement
    assert "we can accept $800.00 as one payment on February 7, 2024" in decision.message


def test_settlement_not_allowed_is_refused() -> None:
    policy = policy_from_dict({"settlement": {"allowed": False}})
    decision = evaluate_settlement(D("1000.00"), policy, TODAY, D("900.00"))
    assert (decision.outcome, decision.reason, decision.option) == (
        Outcome.REFUSED,
        "settlement_not_allowed",
        None,
    )


def test_settlement_of_the_whole_balance_is_paying_in_full() -> None:
    policy = policy_from_dict({"settlement": {"allowed": False}})
    decision = evaluate_settlement(D("1000.00"), policy, TODAY, D("1000.00"))
    assert (decision.outcome, decision.reason) == (Outcome.ACCEPTED, "pays_in_full")
    assert not decision.option.settlement


def test_a_floor_of_one_counters_with_the_full_balance() -> None:
    policy = policy_from_dict({"settlement": {"floor": 1}})
    decision = evaluate_settlement(D("1000.00"), policy, TODAY, D("900.00"))
    assert decision.outcome is Outcome.COUNTERED
    assert decision.option.total == D("1000.00")
    assert not decision.option.settlement


def test_settlement_date_must_be_in_the_window() -> None:
    with pytest.raises(NegotiationError, match="first_due"):
        evaluate_settlement(
            D("1000.00"), DEFAULT, TODAY, D("900.00"), first_due=datetime.date(2024, 3, 1)
        )


# --- deferral ---


def test_deferral_within_the_limit_is_accepted_and_payments_resume_that_day() -> None:
    until = datetime.date(2024, 3, 15)
    decision = evaluate_deferral(BALANCE, COMFORTABLE, DEFAULT, TODAY, until)
    assert (decision.outcome, decision.reason) == (Outcome.ACCEPTED, "accepted")
    option = decision.option
    assert (option.kind, option.deferred_until, option.frequency) == (
        "deferral",
        until,
        Frequency.MONTHLY,
    )
    assert option.schedule[0].due_date == until
    assert [str(i.amount) for i in option.schedule] == ["240.00"] * 5
    assert decision.message == (
        "We can pause payments until March 15, 2024. After that, 5 payments of $240.00 a month, "
        "from March 15, 2024 to July 15, 2024."
    )


def test_deferral_beyond_the_limit_is_countered_with_the_longest() -> None:
    decision = evaluate_deferral(BALANCE, COMFORTABLE, DEFAULT, TODAY, datetime.date(2024, 6, 1))
    assert (decision.outcome, decision.reason) == (Outcome.COUNTERED, "deferral_too_long")
    assert decision.option.deferred_until == datetime.date(2024, 3, 31)


def test_deferral_without_a_date_is_the_longest_allowed() -> None:
    decision = evaluate_deferral(BALANCE, COMFORTABLE, DEFAULT, TODAY, None)
    assert decision.outcome is Outcome.ACCEPTED
    assert decision.option.deferred_until == datetime.date(2024, 3, 31)


@pytest.mark.parametrize("finances", [TIGHT, None])
def test_deferral_with_nothing_affordable_leaves_payments_to_a_person(
    finances: Finances | None,
) -> None:
    decision = evaluate_deferral(BALANCE, finances, DEFAULT, TODAY, None)
    assert decision.outcome is Outcome.ACCEPTED
    assert decision.option.schedule == ()
    assert decision.option.requires_review
    assert "a person will agree a plan with you" in decision.message


def test_deferral_not_allowed_is_refused() -> None:
    policy = policy_from_dict({"deferral": {"max_days": 0}})
    decision = evaluate_deferral(BALANCE, COMFORTABLE, policy, TODAY, datetime.date(2024, 2, 20))
    assert (decision.outcome, decision.reason, decision.option) == (
        Outcome.REFUSED,
        "deferral_not_allowed",
        None,
    )


def test_deferral_must_end_after_today() -> None:
    with pytest.raises(NegotiationError, match="after today"):
        evaluate_deferral(BALANCE, COMFORTABLE, DEFAULT, TODAY, TODAY)
