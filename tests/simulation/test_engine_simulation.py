"""Parley's engine and the baselines over simulated debtors."""

from __future__ import annotations

import functools
from decimal import Decimal
from typing import Any

import pytest

from bot.negotiation import Policy, load_policy, policy_from_dict
from bot.simulation import Status, load_assumptions, simulate
from bot.simulation.debtor import expected_paid, monthly_break_chance
from bot.simulation.outcomes import Outcomes
from bot.simulation.parley import negotiate_with_parley
from bot.simulation.population import Debtor, generate_population
from bot.simulation.report import summary_markdown
from bot.simulation.runner import PARLEY, run_strategy

ASSUMPTIONS = load_assumptions()
TODAY = ASSUMPTIONS.start_date


@functools.cache
def population(seed: int, count: int) -> tuple[Debtor, ...]:
    return tuple(generate_population(ASSUMPTIONS, count, seed))


def parley_outcomes(policy: Policy, seed: int, count: int) -> Outcomes:
    run = run_strategy(
        PARLEY, "Parley", negotiate_with_parley, population(seed, count), policy, TODAY, ASSUMPTIONS
    )
    return run.overall


POLICIES: list[dict[str, Any]] = [
    {},
    {"installments": {"max_share_of_disposable": "0.20"}},
    {"installments": {"max_count": 36, "min_amount": "10.00"}},
    {"installments": {"frequencies": ["weekly"], "max_count": 4}},
    {"deferral": {"max_days": 0}, "settlement": {"allowed": False}},
    {"settlement": {"floor": "1"}, "first_payment_window_days": 3},
]


def test_the_same_seed_gives_the_same_report() -> None:
    policy = load_policy()
    compare = policy_from_dict({"name": "three", "installments": {"max_count": 3}})
    first = simulate(ASSUMPTIONS, policy, 200, 42, compare=compare)
    again = simulate(ASSUMPTIONS, policy, 200, 42, compare=compare)
    assert first.to_dict() == again.to_dict()
    assert summary_markdown(first) == summary_markdown(again)
    assert simulate(ASSUMPTIONS, policy, 200, 43).to_dict() != first.to_dict()


@pytest.mark.parametrize("overrides", POLICIES)
def test_parley_never_breaks_the_affordability_rule(overrides: dict[str, Any]) -> None:
    policy = policy_from_dict(overrides)
    for seed in range(10):
        assert parley_outcomes(policy, seed, 150).affordability_violations == 0


def test_the_violation_count_catches_plans_that_ignore_the_budget() -> None:
    run = simulate(ASSUMPTIONS, load_policy(), 400, 1)
    baselines = {b.key: b.overall for b in run.main.baselines}
    assert all(o.affordability_violations > 0 for o in baselines.values())


@pytest.mark.parametrize("seed", range(5))
def test_allowing_more_installments_never_lowers_the_agreement_rate(seed: int) -> None:
    rates = []
    for count in (2, 3, 6, 12, 24, 48):
        policy = policy_from_dict({"installments": {"max_count": count}})
        rates.append(parley_outcomes(policy, seed, 300).agreement_rate)
    assert rates == sorted(rates)


def test_three_installments_agree_with_fewer_debtors_than_the_default() -> None:
    three = policy_from_dict({"name": "three", "installments": {"max_count": 3}})
    run = simulate(ASSUMPTIONS, load_policy(), 500, 1, compare=three)
    assert run.compare is not None
    assert run.compare.parley.overall.agreement_rate < run.main.parley.overall.agreement_rate


def test_outcomes_add_up() -> None:
    run = simulate(ASSUMPTIONS, load_policy(), 400, 2)
    for strategy in run.main.strategies:
        o = strategy.overall
        assert o.agreements + o.deferred_for_review + o.escalations + o.refused + o.silent == 400
        assert sum(o.kinds.values()) == o.agreements
        assert Decimal(0) <= o.recovery_expected <= o.recovery_scheduled <= Decimal(1)
        assert strategy.able_to_pay.debtors == sum(d.able_to_pay for d in run.debtors)
        assert sum(b["debtors"] for b in strategy.by_income_band) == 400
    data = run.to_dict()
    assert {"agreement_rate", "affordability_violations", "baselines"} <= set(data)
    assert set(data["baselines"]) == {
        "pay_in_full_or_nothing",
        "fixed_6_month_plan",
        "most_installments",
    }


def test_silent_debtors_never_agree_and_review_pauses_are_counted_apart() -> None:
    policy = load_policy()
    for debtor in generate_population(ASSUMPTIONS, 300, 4):
        result = negotiate_with_parley(debtor, policy, TODAY)
        if debtor.willingness == "silent":
            assert result.status is Status.SILENT
        if result.status is Status.DEFERRED_FOR_REVIEW:
            assert result.option is not None and result.option.requires_review
        if result.status is Status.AGREED:
            assert result.option is not None and result.option.schedule


def test_plans_break_more_often_the_more_of_the_budget_they_take() -> None:
    policy = policy_from_dict({"deferral": {"max_days": 0}})
    seen = 0
    for debtor in generate_population(ASSUMPTIONS, 300, 6):
        result = negotiate_with_parley(debtor, policy, TODAY)
        option = result.option
        if result.status is not Status.AGREED or option is None or debtor.disposable <= 0:
            continue
        chance = monthly_break_chance(debtor, option, TODAY, ASSUMPTIONS)
        poorer = type(debtor)(
            **{**debtor.__dict__, "income": debtor.income - debtor.disposable / 2}
        )
        assert monthly_break_chance(poorer, option, TODAY, ASSUMPTIONS) >= chance
        assert Decimal(0) < expected_paid(debtor, option, TODAY, ASSUMPTIONS) <= option.total
        seen += 1
    assert seen > 50
