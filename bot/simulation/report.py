"""The simulation report: a markdown summary, the JSON, and two plots."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bot.simulation.runner import PolicyRun, Simulation

SUMMARY = "summary.md"
SUMMARY_JSON = "summary.json"
RECOVERY_PLOT = "recovery_vs_disposable_left.png"
BAND_PLOT = "agreement_by_income_band.png"

_COLUMNS = (
    "strategy",
    "agreed",
    "review pause",
    "escalated",
    "refused",
    "silent",
    "recovery scheduled",
    "recovery expected",
    "median days to last payment",
    "disposable left: median / 10th pct",
    "left short",
    "over real budget",
    "affordability violations",
)


def write_report(simulation: Simulation, out_dir: Path) -> list[Path]:
    """Write the summary, the JSON and the plots into ``out_dir``; returns the files."""
    out_dir.mkdir(parents=True, exist_ok=True)
    data = simulation.to_dict()
    summary = out_dir / SUMMARY
    summary.write_text(summary_markdown(simulation), encoding="utf-8")
    as_json = out_dir / SUMMARY_JSON
    as_json.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    plots = write_plots(simulation, out_dir)
    return [summary, as_json, *plots]


def summary_markdown(simulation: Simulation) -> str:
    """The markdown summary (no timestamps: the same seed gives the same text)."""
    sim = simulation
    runs = [sim.main] + ([sim.compare] if sim.compare else [])
    able = sum(1 for d in sim.debtors if d.able_to_pay)
    lines = [
        f"# Outcome simulation: policy {_policy_names(runs)}",
        "",
        f"{len(sim.debtors)} simulated debtors (seed {sim.seed}, population "
        f"`{sim.assumptions.name}`{_from(sim.assumptions.source_file)}), every plan agreed on "
        f"{sim.today.isoformat()}. Engine only: each negotiation calls `bot.negotiation` as the "
        "bot's actions do; the debtors' answers come from the debtor model. "
        f"{able} of them ({_pct(able, len(sim.debtors))}) are able to pay. How to read this: "
        "docs/simulation.md.",
        "",
    ]
    for run in runs:
        lines += [f"## Outcomes under `{run.policy.name}` ({run.policy_file or 'built in'})", ""]
        lines += _table([_row(s.label, s.overall.to_dict()) for s in run.strategies])
        lines += ["", f"Those able to pay ({able}):", ""]
        lines += _table([_row(s.label, s.able_to_pay.to_dict()) for s in run.strategies])
        lines.append("")
    if sim.compare is not None:
        lines += _difference(sim.main, sim.compare)
    lines += ["## Agreement rate by income band (usual monthly take-home pay)", ""]
    strategies = [s for run in runs for s in (run.strategies if run is sim.main else [run.parley])]
    header = ["band", "debtors", *[s.label for s in strategies]]
    rows = []
    for n, band in enumerate(sim.main.parley.by_income_band):
        rows.append(
            [
                band["band"],
                str(band["debtors"]),
                *[f"{s.by_income_band[n]['agreement_rate']:.1%}" for s in strategies],
            ]
        )
    lines += _markdown_table(header, rows)
    lines += [
        "",
        "## Plots",
        "",
        f"![Recovery vs. disposable income left]({RECOVERY_PLOT})",
        "",
        f"![Agreement rate by income band]({BAND_PLOT})",
        "",
        "## Assumptions",
        "",
    ]
    assumptions = sim.to_dict()["assumptions"]
    lines += _markdown_table(
        ["section", "values", "meaning", "source"],
        [[a["section"], a["values"], a["meaning"], a["source"]] for a in assumptions],
    )
    lines.append("")
    return "\n".join(lines)


def write_plots(simulation: Simulation, out_dir: Path) -> list[Path]:
    """Recovery vs. disposable income left, and agreement rate by income band (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sim = simulation
    runs = [sim.main] + ([sim.compare] if sim.compare else [])
    main_outcomes = {s.key: s.overall for s in sim.main.strategies}
    # A baseline the second policy does not change would only hide behind the first.
    strategies = [
        (run, s)
        for run in runs
        for s in run.strategies
        if run is sim.main or s.key == "parley" or s.overall != main_outcomes[s.key]
    ]

    fig, ax = plt.subplots(figsize=(9, 5.5))
    for run, strategy in strategies:
        o = strategy.overall
        if o.disposable_left_median is None or o.disposable_left_p10 is None:
            continue
        parley = strategy.key == "parley"
        x = float(o.disposable_left_median)
        y = float(o.recovery_expected) * 100
        ax.errorbar(
            [x],
            [y],
            xerr=[[x - float(o.disposable_left_p10)], [0]],
            fmt="o" if parley else "s",
            markersize=9 if parley else 7,
            color="tab:blue" if parley else "tab:gray",
            alpha=0.9 if run is sim.main else 0.5,
            capsize=3,
        )
        label = strategy.label
        if run is not sim.main and not parley:
            label = f"{label} [{run.policy.name}]"
        ax.annotate(
            f"{label}\n{o.affordability_violations} violations",
            (x, y),
            textcoords="offset points",
            xytext=(6, 4),
            fontsize=8,
        )
    ax.axvline(0, color="tab:red", linewidth=0.8, alpha=0.6)
    ax.margins(x=0.35, y=0.15)
    ax.set_xlabel(
        "Real disposable income left after the payment ($ a month)\n"
        "marker: median; line: down to the worst-off 10%"
    )
    ax.set_ylabel("Expected recovery (% of all balances)")
    ax.set_title(f"Recovery vs. what debtors have left ({len(sim.debtors)} debtors)")
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    recovery = out_dir / RECOVERY_PLOT
    fig.savefig(recovery, dpi=110)
    plt.close(fig)

    shown = [s for run in runs for s in (run.strategies if run is sim.main else [run.parley])]
    labels = [s.label for s in shown]
    bands = [b["band"] for b in sim.main.parley.by_income_band]
    fig, ax = plt.subplots(figsize=(9, 5))
    width = 0.8 / len(shown)
    for n, strategy in enumerate(shown):
        xs = [i + (n - (len(shown) - 1) / 2) * width for i in range(len(bands))]
        ys = [b["agreement_rate"] * 100 for b in strategy.by_income_band]
        ax.bar(xs, ys, width=width, label=labels[n])
    ax.set_xticks(range(len(bands)))
    ax.set_xticklabels(bands)
    ax.set_xlabel("Usual monthly take-home pay")
    ax.set_ylabel("Agreement rate (%)")
    ax.set_title("Agreement rate by income band")
    ax.set_ylim(0, 100)
    ax.legend(fontsize=8, loc="upper left", ncol=2)
    ax.grid(True, axis="y", alpha=0.3)
    fig.tight_layout()
    band_plot = out_dir / BAND_PLOT
    fig.savefig(band_plot, dpi=110)
    plt.close(fig)
    return [recovery, band_plot]


def _difference(main: PolicyRun, compare: PolicyRun) -> list[str]:
    a, b = main.parley.overall, compare.parley.overall
    rows = [
        ["agreement rate", f"{a.agreement_rate:.1%}", f"{b.agreement_rate:.1%}"],
        ["review pauses", str(a.deferred_for_review), str(b.deferred_for_review)],
        ["escalations", str(a.escalations), str(b.escalations)],
        ["recovery scheduled", f"{a.recovery_scheduled:.1%}", f"{b.recovery_scheduled:.1%}"],
        ["recovery expected", f"{a.recovery_expected:.1%}", f"{b.recovery_expected:.1%}"],
        [
            "median days to last payment",
            _days(a.median_days_to_last_payment),
            _days(b.median_days_to_last_payment),
        ],
        [
            "disposable left (median)",
            format_money_or_dash(a.disposable_left_median),
            format_money_or_dash(b.disposable_left_median),
        ],
        [
            "affordability violations",
            str(a.affordability_violations),
            str(b.affordability_violations),
        ],
    ]
    return [
        f"## Side by side: `{main.policy.name}` and `{compare.policy.name}` (Parley)",
        "",
        *_markdown_table(["", main.policy.name, compare.policy.name], rows),
        "",
    ]


def _row(label: str, o: dict[str, Any]) -> list[str]:
    n = o["debtors"]
    return [
        label,
        f"{o['agreement_rate']:.1%}",
        _pct(o["deferred_for_review"], n),
        str(o["escalations"]),
        str(o["refused"]),
        str(o["silent"]),
        f"{o['recovery_scheduled']:.1%}",
        f"{o['recovery_expected']:.1%}",
        _days(o["median_days_to_last_payment"]),
        f"{format_money_or_dash(o['disposable_left_median'])} / {format_money_or_dash(o['disposable_left_p10'])}",
        str(o["left_short"]),
        str(o["over_real_budget"]),
        str(o["affordability_violations"]),
    ]


def _table(rows: list[list[str]]) -> list[str]:
    return _markdown_table(list(_COLUMNS), rows)


def _markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell.replace("|", "/") for cell in row) + " |" for row in rows]
    return lines


def _policy_names(runs: list[PolicyRun]) -> str:
    return " vs. ".join(f"`{run.policy.name}`" for run in runs)


def _from(source_file: str | None) -> str:
    return f" from {source_file}" if source_file else ""


def _pct(part: int, whole: int) -> str:
    return f"{part / whole:.1%}" if whole else "-"


def _days(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def format_money_or_dash(value: object) -> str:
    """``$12.30``, ``-$4.00``, or ``-`` for no value."""
    if value is None:
        return "-"
    text = str(value)
    return f"-${text[1:]}" if text.startswith("-") else f"${text}"
