"""Run Parley's engine and the baselines over one population, for one or two policies."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.negotiation import Policy
from bot.simulation.assumptions import Assumptions, assumption_rows
from bot.simulation.baselines import BASELINES
from bot.simulation.outcomes import Outcomes, agreement_rate_by_band, measure
from bot.simulation.parley import negotiate_with_parley
from bot.simulation.population import Debtor, generate_population
from bot.simulation.results import Negotiated, Strategy

PARLEY = "parley"


@dataclass(frozen=True)
class StrategyRun:
    """One strategy's results over the population, overall and for those able to pay."""

    key: str
    label: str
    results: tuple[Negotiated, ...]
    overall: Outcomes
    able_to_pay: Outcomes
    by_income_band: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            **self.overall.to_dict(),
            "able_to_pay": self.able_to_pay.to_dict(),
            "by_income_band": self.by_income_band,
        }


@dataclass(frozen=True)
class PolicyRun:
    """Parley and the baselines under one policy."""

    policy: Policy
    policy_file: str
    parley: StrategyRun
    baselines: tuple[StrategyRun, ...]

    @property
    def strategies(self) -> tuple[StrategyRun, ...]:
        return (self.parley, *self.baselines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "policy": self.policy.name,
            "policy_file": self.policy_file,
            **self.parley.overall.to_dict(),
            "able_to_pay": self.parley.able_to_pay.to_dict(),
            "by_income_band": self.parley.by_income_band,
            "baselines": {b.key: b.to_dict() for b in self.baselines},
        }


@dataclass(frozen=True)
class Simulation:
    """A whole run: the population, the main policy and optionally a second one."""

    assumptions: Assumptions
    seed: int
    today: datetime.date
    debtors: tuple[Debtor, ...]
    main: PolicyRun
    compare: PolicyRun | None = None

    def to_dict(self) -> dict[str, Any]:
        """The `parley simulate --json` document."""
        data: dict[str, Any] = {
            "population": {
                "name": self.assumptions.name,
                "source_file": self.assumptions.source_file,
                "debtors": len(self.debtors),
                "able_to_pay": sum(1 for d in self.debtors if d.able_to_pay),
                "seed": self.seed,
                "today": self.today.isoformat(),
            },
            **self.main.to_dict(),
        }
        if self.compare is not None:
            data["compare"] = self.compare.to_dict()
        data["assumptions"] = [
            {"section": s, "values": v, "meaning": m, "source": src}
            for s, v, m, src in assumption_rows(self.assumptions)
        ]
        return data


def run_strategy(
    key: str,
    label: str,
    strategy: Strategy,
    debtors: Sequence[Debtor],
    policy: Policy,
    today: datetime.date,
    assumptions: Assumptions,
) -> StrategyRun:
    """``strategy`` with every debtor, and what it adds up to."""
    results = tuple(strategy(d, policy, today) for d in debtors)
    able = [(d, r) for d, r in zip(debtors, results, strict=True) if d.able_to_pay]
    return StrategyRun(
        key=key,
        label=label,
        results=results,
        overall=measure(debtors, results, policy, today, assumptions),
        able_to_pay=measure([d for d, _ in able], [r for _, r in able], policy, today, assumptions),
        by_income_band=agreement_rate_by_band(debtors, results),
    )


def run_policy(
    policy: Policy,
    policy_file: str,
    debtors: Sequence[Debtor],
    today: datetime.date,
    assumptions: Assumptions,
) -> PolicyRun:
    """Parley's engine and every baseline under ``policy``."""
    return PolicyRun(
        policy=policy,
        policy_file=policy_file,
        parley=run_strategy(
            PARLEY,
            f"Parley ({policy.name})",
            negotiate_with_parley,
            debtors,
            policy,
            today,
            assumptions,
        ),
        baselines=tuple(
            run_strategy(b.key, b.label, b.negotiate, debtors, policy, today, assumptions)
            for b in BASELINES
        ),
    )


def simulate(
    assumptions: Assumptions,
    policy: Policy,
    count: int,
    seed: int,
    *,
    policy_file: str = "",
    compare: Policy | None = None,
    compare_file: str = "",
    today: datetime.date | None = None,
) -> Simulation:
    """Generate ``count`` debtors for ``seed`` and negotiate with each under the policies."""
    debtors = tuple(generate_population(assumptions, count, seed))
    day = today or assumptions.start_date
    return Simulation(
        assumptions=assumptions,
        seed=seed,
        today=day,
        debtors=debtors,
        main=run_policy(policy, policy_file, debtors, day, assumptions),
        compare=(
            run_policy(compare, compare_file, debtors, day, assumptions)
            if compare is not None
            else None
        ),
    )
