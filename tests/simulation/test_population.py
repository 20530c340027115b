"""The simulated population: reproducible, common random numbers, documented assumptions."""

from __future__ import annotations

import re
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from bot.settings import PROJECT_ROOT
from bot.simulation import AssumptionsError, assumptions_from_dict, load_assumptions
from bot.simulation.assumptions import DEFAULTS, LABELS, assumption_rows
from bot.simulation.population import generate_population

EXAMPLE = PROJECT_ROOT / "examples" / "population.yml"


def test_the_same_seed_gives_the_same_debtors() -> None:
    a = load_assumptions()
    assert generate_population(a, 50, 7) == generate_population(a, 50, 7)
    assert generate_population(a, 50, 7) != generate_population(a, 50, 8)


def test_a_debtor_depends_on_seed_and_index_only() -> None:
    a = load_assumptions()
    assert generate_population(a, 10, 3) == generate_population(a, 40, 3)[:10]


def test_changing_one_assumption_moves_only_what_depends_on_it() -> None:
    base = generate_population(load_assumptions(), 100, 5)
    richer = generate_population(assumptions_from_dict({"balance": {"median": "2000.00"}}), 100, 5)
    assert [d.usual_income for d in base] == [d.usual_income for d in richer]
    assert [d.hardship for d in base] == [d.hardship for d in richer]
    assert [d.willingness for d in base] == [d.willingness for d in richer]
    assert sum(d.balance for d in richer) > sum(d.balance for d in base)


def test_money_is_decimal_in_cents_and_within_the_assumed_ranges() -> None:
    a = load_assumptions()
    for d in generate_population(a, 300, 11):
        for amount in (d.balance, d.usual_income, d.income, d.stated_income, d.lump_sum):
            assert isinstance(amount, Decimal) and amount == amount.quantize(Decimal("0.01"))
        assert a.balance.low <= d.balance <= a.balance.high
        assert d.stated_income % a.stated_rounding == 0
        assert (d.recovery_days is not None) == (d.hardship == "temporary")


def test_population_mix_follows_the_assumptions_roughly() -> None:
    debtors = generate_population(load_assumptions(), 2000, 1)
    silent = sum(d.willingness == "silent" for d in debtors) / len(debtors)
    lasting = sum(d.hardship == "lasting" for d in debtors) / len(debtors)
    assert 0.17 < silent < 0.23 and 0.12 < lasting < 0.18


def test_the_example_file_is_the_built_in_defaults() -> None:
    assert replace(load_assumptions(EXAMPLE), source_file=None) == load_assumptions()


def test_every_section_is_labelled_and_has_a_source() -> None:
    rows = assumption_rows(load_assumptions())
    sections = {key for key, value in DEFAULTS.items() if isinstance(value, dict)}
    assert {row[0] for row in rows} == sections == set(LABELS)
    assert all(row[3] for row in rows)


def test_a_changed_section_says_it_no_longer_rests_on_the_default_source() -> None:
    a = assumptions_from_dict({"income": {"median": "3000.00"}}, "mine.yml")
    assert a.sources["income"] == "mine.yml (changed from the default)"
    assert a.sources["balance"] == DEFAULTS["balance"]["source"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"balanse": {}}, "unknown setting 'balanse' (did you mean balance?)"),
        ({"hardship": {"none": "0.9"}}, "must add up to 1"),
        ({"willingness": {"silent": "2"}}, "willingness.silent must be a number from 0 to 1"),
        ({"balance": {"min": "500", "max": "100"}}, "the minimum is above the maximum"),
        ({"start_date": "soon"}, "start_date must be a date"),
    ],
)
def test_bad_assumptions_name_the_field(data: dict, message: str) -> None:
    with pytest.raises(AssumptionsError, match=re.escape(message)):
        assumptions_from_dict(data, "pop.yml")


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(AssumptionsError, match="population file not found"):
        load_assumptions(tmp_path / "nope.yml")
