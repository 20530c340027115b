"""`parley simulate`: the command's logic, kept out of bot/cli.py."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bot.negotiation import load_policy
from bot.settings import PROJECT_ROOT, get_settings
from bot.simulation.assumptions import load_assumptions
from bot.simulation.errors import SimulationError
from bot.simulation.report import SUMMARY, format_money_or_dash, write_report
from bot.simulation.runner import PolicyRun, Simulation, simulate

DEFAULT_DEBTORS = 1000
DEFAULT_BOT_DEBTORS = 50
DEFAULT_OUT = PROJECT_ROOT / "reports" / "simulate"


def simulate_command(args: argparse.Namespace) -> int:
    """Run the simulation the arguments ask for and print it (text or JSON)."""
    count = args.debtors
    if count is None:
        count = DEFAULT_BOT_DEBTORS if args.through_bot else DEFAULT_DEBTORS
    if count < 1:
        raise SimulationError(f"--debtors must be at least 1 (got {count})")
    if args.through_bot and args.compare:
        raise SimulationError(
            "--compare is for the engine-only run; run --through-bot once per policy instead"
        )
    if args.seed < 0:
        raise SimulationError(f"--seed must be 0 or more (got {args.seed})")
    policy_path = Path(args.policy) if args.policy else get_settings().policy_file
    policy = load_policy(policy_path)
    compare = load_policy(args.compare) if args.compare else None
    assumptions = load_assumptions(args.population)
    out_dir = Path(args.out) if args.out else DEFAULT_OUT

    if args.through_bot:
        from bot.simulation.through_bot import run_through_bot

        return run_through_bot(
            assumptions,
            policy,
            policy_path,
            count,
            args.seed,
            out_dir,
            as_json=args.json,
        )

    simulation = simulate(
        assumptions,
        policy,
        count,
        args.seed,
        policy_file=_shown(policy_path),
        compare=compare,
        compare_file=_shown(Path(args.compare)) if args.compare else "",
    )
    write_report(simulation, out_dir)
    report = _shown(out_dir / SUMMARY)
    if args.json:
        print(json.dumps(simulation.to_dict(), indent=2))
        print(f"parley: report written to {report}", file=sys.stderr)
    else:
        print(text_summary(simulation))
        print(f"\nReport: {report} (plots and summary.json beside it)")
    return 0


def text_summary(simulation: Simulation) -> str:
    """The outcomes as a few aligned lines for a terminal."""
    sim = simulation
    able = sum(1 for d in sim.debtors if d.able_to_pay)
    lines = [
        f"Simulated {len(sim.debtors)} debtors (seed {sim.seed}, population "
        f"{sim.assumptions.name}, plans agreed on {sim.today.isoformat()}); {able} able to pay."
    ]
    for run in [sim.main] + ([sim.compare] if sim.compare else []):
        lines += ["", *_policy_lines(run)]
    return "\n".join(lines)


def _policy_lines(run: PolicyRun) -> list[str]:
    header = (
        f"{'policy ' + run.policy.name:<42} {'agreed':>7} {'review':>7} {'escal.':>6} "
        f"{'recovery sched/exp':>19} {'days':>5} {'left median / p10':>20} {'violations':>10}"
    )
    lines = [header]
    for strategy in run.strategies:
        o = strategy.overall
        name = strategy.label if strategy.key == "parley" else f"  {strategy.label}"
        review = o.deferred_for_review / o.debtors
        recovery = f"{o.recovery_scheduled:.1%} / {o.recovery_expected:.1%}"
        days = (
            "-" if o.median_days_to_last_payment is None else f"{o.median_days_to_last_payment:g}"
        )
        left = f"{format_money_or_dash(o.disposable_left_median)} / {format_money_or_dash(o.disposable_left_p10)}"
        lines.append(
            f"{name:<42} {o.agreement_rate:>7.1%} {review:>7.1%} {o.escalations:>6} "
            f"{recovery:>19} {days:>5} {left:>20} {o.affordability_violations:>10}"
        )
    return lines


def _shown(path: Path) -> str:
    """A path as a reader would type it: relative to the project when inside it."""
    try:
        return str(path.resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)
