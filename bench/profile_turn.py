"""Where a turn's time goes: `parley serve` in profiling mode, one conversation at a time.

Starts Parley (production mode, a private SQLite file, the fake Twilio API) with
PARLEY_PROFILE_DIR set (bot/runtime/profiling.py), talks to it over the REST channel
and the signed Twilio webhook, and writes reports/bench/turn_profile.{json,md}: per turn,
the channel (inbound gate, egress guard), the lock wait, tracker load and save, each NLU
component and policy (Rasa's graph nodes), the actions and the action server round trip
(with the action server's own time and queries), and the SQL statements by phase and table.

`--baseline` runs the same conversations first against the code as it was before the
fixes of issue 15 (bench/legacy.py swaps the old functions in), so both sides of each
fix are measured in the same run.

    python -m bench.profile_turn [--conversations 6] [--long 30] [--baseline]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.load import MESSAGES, Target, run_level
from bench.servers import TWILIO_TOKEN, bench_phone, log, newest_model, start_parley
from bench.stats import markdown_table, percentile, write_json
from bot.settings import PROJECT_ROOT

REPORT_DIR = PROJECT_ROOT / "reports" / "bench"
# After the five opening messages, a long conversation keeps talking, so the cost of
# anything that grows with the history shows.
LONG_TALK = (
    "ok",
    "what are my options",
    "can i pay 50 a month",
    "i get paid on fridays",
    "not sure",
    "what happens if i dont pay",
)
# Rasa's graph nodes that are policies (the rest of a turn's nodes are NLU).
POLICY_MARKERS = ("Policy", "select_prediction", "rule_only_data_provider")


def _mean(values: Sequence[float]) -> float:
    return round(statistics.fmean(values), 2) if values else 0.0


def _read(directory: Path, role: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for path in sorted(directory.glob(f"{role}-*.jsonl")):
        rows += [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return sorted(rows, key=lambda r: r.get("end", 0))


async def _talk(target: Target, senders: list[str], long_sender: str | None) -> None:
    for sender in senders:
        await run_level(target, 1, lambda _k, s=sender: s, conversations=1)
    if long_sender is not None:
        await run_level(target, 1, lambda _k: long_sender, conversations=1)


def profile_once(
    label: str, workdir: Path, *, conversations: int, long_turns: int, baseline: bool
) -> dict[str, Any]:
    """Start Parley in profiling mode, talk, stop; the raw per-request records."""
    from tests.fakes.twilio_api import FakeTwilioApi

    profile_dir = workdir / f"profile-{label}"
    extra = {"PARLEY_PROFILE_DIR": str(profile_dir)}
    if baseline:
        extra["PARLEY_PROFILE_PATCH"] = "bench.legacy:install"
    with FakeTwilioApi() as twilio:
        bot = start_parley(
            workdir / label,
            f"sqlite:///{workdir / label / 'parley.db'}",
            twilio.base_url,
            model=newest_model(),
            accounts=100,
            extra_env=extra,
        )
        try:
            rest = Target(bot.rasa_urls, "rest", rest_token=bot.rest_token)
            sms = Target(bot.rasa_urls, "twilio", twilio_token=TWILIO_TOKEN)
            # Warm up (first calls load lazily), not counted.
            asyncio.run(_talk(rest, [bench_phone(99)], None))
            warm_end = time.time()
            rest_senders = [bench_phone(n) for n in range(conversations)]
            asyncio.run(_talk(rest, rest_senders, None))
            sms_senders = [bench_phone(50 + n) for n in range(max(1, conversations // 2))]
            asyncio.run(_talk(sms, sms_senders, None))
            long_sender = bench_phone(90)
            messages = list(MESSAGES) + [LONG_TALK[n % len(LONG_TALK)] for n in range(long_turns)]
            asyncio.run(
                run_level(rest, 1, lambda _k: long_sender, messages=messages, conversations=1)
            )
        finally:
            bot.stop()
    rasa = [r for r in _read(profile_dir, "rasa") if r.get("end", 0) > warm_end]
    actions = [r for r in _read(profile_dir, "actions") if r.get("end", 0) > warm_end]
    return {
        "rasa": rasa,
        "actions": actions,
        "rest_senders": rest_senders,
        "sms_senders": sms_senders,
        "long_sender": long_sender,
    }


def summarize(raw: dict[str, Any]) -> dict[str, Any]:
    """Mean milliseconds per phase, per graph node, SQL per turn; by channel."""
    by_sender_actions: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in raw["actions"]:
        by_sender_actions[str(row.get("sender"))].append(row)

    def channel_summary(turns: list[dict[str, Any]]) -> dict[str, Any]:
        if not turns:
            return {"turns": 0}
        totals = [t["total_ms"] for t in turns]
        span_names = sorted({name for t in turns for name in t["spans"]})
        spans = {name: _mean([t["spans"].get(name, 0.0) for t in turns]) for name in span_names}
        derived = {
            "lock_wait": _mean(
                [
                    t["spans"].get("rasa_handle_message", 0) - t["spans"].get("processor", 0)
                    for t in turns
                ]
            ),
            "channel_and_http": _mean(
                [t["total_ms"] - t["spans"].get("rasa_handle_message", 0) for t in turns]
            ),
        }
        node_names = sorted({name for t in turns for name in t["nodes"]})
        nodes = {name: _mean([t["nodes"].get(name, 0.0) for t in turns]) for name in node_names}
        nlu_nodes = {k: v for k, v in nodes.items() if not any(m in k for m in POLICY_MARKERS)}
        policy_nodes = {k: v for k, v in nodes.items() if any(m in k for m in POLICY_MARKERS)}
        phases = sorted({p for t in turns for p in t["db"]["by_phase"]})
        tables = sorted({p for t in turns for p in t["db"]["by_table"]})
        remote = [a for t in turns for a in t["actions"]]
        action_calls = [
            a for s in {t.get("sender") for t in turns} for a in by_sender_actions.get(str(s), [])
        ]
        return {
            "turns": len(turns),
            "total_ms": {
                "mean": _mean(totals),
                "p50": round(percentile(totals, 0.5), 1),
                "p95": round(percentile(totals, 0.95), 1),
            },
            "spans_ms": spans,
            "derived_ms": derived,
            "nlu_nodes_ms": dict(sorted(nlu_nodes.items(), key=lambda kv: -kv[1])),
            "nlu_nodes_sum_ms": round(sum(nlu_nodes.values()), 2),
            "policy_nodes_ms": dict(sorted(policy_nodes.items(), key=lambda kv: -kv[1])),
            "actions_per_turn": _mean([len(t["actions"]) for t in turns]),
            "slowest_actions_ms": _top_actions(remote),
            "db_per_turn": {
                "queries": _mean([t["db"]["count"] for t in turns]),
                "ms": _mean([t["db"]["ms"] for t in turns]),
                "new_connections": _mean([t["db"].get("connects", 0) for t in turns]),
                "by_phase": {
                    p: _mean([t["db"]["by_phase"].get(p, 0) for t in turns]) for p in phases
                },
                "by_table": {
                    p: _mean([t["db"]["by_table"].get(p, 0) for t in turns]) for p in tables
                },
            },
            "action_server": {
                "calls_per_turn": round(len(action_calls) / len(turns), 2),
                "ms_per_call": _mean([a["total_ms"] for a in action_calls]),
                "queries_per_call": _mean([a["db"]["count"] for a in action_calls]),
                "queries_per_turn": round(
                    sum(a["db"]["count"] for a in action_calls) / len(turns), 2
                ),
                "by_action": _by_action(action_calls),
            },
        }

    rasa = raw["rasa"]
    rest = [t for t in rasa if t.get("sender") in raw["rest_senders"]]
    sms = [t for t in rasa if t.get("sender") in raw["sms_senders"]]
    long = [t for t in rasa if t.get("sender") == raw["long_sender"]]
    growth = {}
    if len(long) >= 10:
        early, late = long[2:7], long[-5:]
        growth = {
            "turns": len(long),
            "egress_guard_ms_turns_3_7": _mean([t["spans"].get("egress_guard", 0) for t in early]),
            "egress_guard_ms_last_5": _mean([t["spans"].get("egress_guard", 0) for t in late]),
            "tracker_load_ms_turns_3_7": _mean([t["spans"].get("tracker_load", 0) for t in early]),
            "tracker_load_ms_last_5": _mean([t["spans"].get("tracker_load", 0) for t in late]),
            "total_ms_turns_3_7": _mean([t["total_ms"] for t in early]),
            "total_ms_last_5": _mean([t["total_ms"] for t in late]),
        }
    return {"rest": channel_summary(rest), "twilio": channel_summary(sms), "history_growth": growth}


def _top_actions(actions: list[list[Any]]) -> dict[str, float]:
    grouped: dict[str, list[float]] = defaultdict(list)
    for name, ms in actions:
        grouped[name].append(ms)
    means = {name: _mean(values) for name, values in grouped.items()}
    return dict(sorted(means.items(), key=lambda kv: -kv[1])[:8])


def _by_action(calls: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for call in calls:
        grouped[str(call.get("action"))].append(call)
    return {
        name: {
            "calls": len(rows),
            "ms": _mean([r["total_ms"] for r in rows]),
            "queries": _mean([r["db"]["count"] for r in rows]),
        }
        for name, rows in sorted(grouped.items(), key=lambda kv: -len(kv[1]))
    }


PHASES = (
    ("total (in the server)", None),
    ("channel and HTTP (outside Rasa's handler)", "derived:channel_and_http"),
    ("  inbound gate (bot.inbound.admit)", "inbound_gate"),
    ("  egress guard (bot.channels.egress)", "egress_guard"),
    ("  Twilio signature check", "twilio_signature"),
    ("  MessageSid answer stored (Twilio)", "inbound_complete"),
    ("lock wait", "derived:lock_wait"),
    ("tracker load (tracker store)", "tracker_load"),
    ("NLU (parse_message)", "nlu"),
    ("slot extraction (action_extract_slots)", "extract_slots"),
    ("policies (prediction)", "policies"),
    ("actions (all, incl. responses)", "actions"),
    ("  action server round trip", "action_server_round_trip"),
    ("tracker save", "tracker_save"),
)


def _phase_value(summary: dict[str, Any], key: str | None) -> float | None:
    if not summary.get("turns"):
        return None
    if key is None:
        return float(summary["total_ms"]["mean"])
    if key.startswith("derived:"):
        return summary["derived_ms"].get(key.split(":", 1)[1])
    return summary["spans_ms"].get(key)


def write_markdown(result: dict[str, Any], path: Path) -> Path:
    runs: dict[str, Any] = result["runs"]
    labels = list(runs)
    lines = [
        "# Where a turn's time goes",
        "",
        f"Run {result['run_at']}, load average {result['load_average']} (2 shared cores: "
        "compare figures within this run only). One conversation at a time against "
        "`parley serve` in production mode on SQLite, profiling mode "
        "(bot/runtime/profiling.py); the action server is a separate process. Mean "
        "milliseconds per turn, after a warm-up conversation.",
        "",
    ]
    for channel in ("rest", "twilio"):
        headers = ["phase", *[f"{label} ({channel})" for label in labels]]
        rows = []
        for name, key in PHASES:
            values = [_phase_value(runs[label][channel], key) for label in labels]
            if all(v is None or v == 0 for v in values[1:] + values[:1]) and key not in (
                None,
                "nlu",
            ):
                continue
            rows.append([name, *values])
        turns = [runs[label][channel].get("turns") for label in labels]
        lines += [
            f"## {'REST channel' if channel == 'rest' else 'Signed Twilio webhook'} "
            f"({', '.join(str(t) for t in turns)} turns)",
            "",
            markdown_table(headers, rows),
            "",
        ]
    current = runs[labels[-1]]["rest"]
    if current.get("turns"):
        lines += [
            "## NLU components and policies (REST, current code)",
            "",
            markdown_table(
                ["graph node", "ms per turn"],
                [
                    [k, v]
                    for k, v in {**current["nlu_nodes_ms"], **current["policy_nodes_ms"]}.items()
                ],
            ),
            "",
            "## Database per turn (REST)",
            "",
        ]
        db_rows = []
        for label in labels:
            db = runs[label]["rest"]["db_per_turn"]
            act = runs[label]["rest"]["action_server"]
            db_rows.append(
                [
                    label,
                    db["queries"],
                    db["ms"],
                    db["new_connections"],
                    ", ".join(f"{k} {v}" for k, v in db["by_phase"].items()),
                    act["calls_per_turn"],
                    act["queries_per_turn"],
                ]
            )
        lines += [
            markdown_table(
                [
                    "code",
                    "Rasa process: queries",
                    "query ms",
                    "new connections",
                    "queries by phase",
                    "action calls",
                    "action server queries",
                ],
                db_rows,
            ),
            "",
        ]
    growth_rows = [
        [label, *runs[label]["history_growth"].values()]
        for label in labels
        if runs[label]["history_growth"]
    ]
    if growth_rows:
        keys = list(runs[labels[-1]]["history_growth"])
        lines += [
            "## As the conversation grows (one REST conversation)",
            "",
            markdown_table(["code", *keys], growth_rows),
            "",
        ]
    lines += [result.get("notes", ""), ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def run(conversations: int, long_turns: int, baseline: bool) -> dict[str, Any]:
    import os

    runs: dict[str, Any] = {}
    raw_counts: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="parley-profile-") as tmp:
        labels = ["before", "after"] if baseline else ["current"]
        for label in labels:
            log(f"profile ({label}): starting parley serve in profiling mode...")
            raw = profile_once(
                label,
                Path(tmp),
                conversations=conversations,
                long_turns=long_turns,
                baseline=label == "before",
            )
            runs[label] = summarize(raw)
            raw_counts[label] = {
                "rasa_requests": len(raw["rasa"]),
                "action_calls": len(raw["actions"]),
            }
            log(f"profile ({label}): REST turn mean {runs[label]['rest'].get('total_ms')}")
    return {
        "run_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "load_average": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "runs": runs,
        "requests": raw_counts,
        "notes": NOTES,
    }


NOTES = """\
Reading the table: *channel and HTTP* is the server's time outside Rasa's message handler
(Sanic, the inbound gate, the egress guard, JSON or TwiML); *lock wait* is Rasa's
per-conversation lock; *actions* includes every action of the turn (responses and
custom actions), and *action server round trip* only the custom ones (HTTP, the action
server's work, the tracker sent both ways). Rasa runs NLU and policies on its event loop,
so at concurrency every millisecond here is a millisecond other conversations wait."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--conversations", type=int, default=6, help="REST conversations (5 messages)"
    )
    parser.add_argument("--long", type=int, default=30, help="extra turns in the long conversation")
    parser.add_argument(
        "--baseline", action="store_true", help="also profile the code before the fixes"
    )
    args = parser.parse_args(argv)
    result = run(args.conversations, args.long, args.baseline)
    write_json(REPORT_DIR / "turn_profile.json", result)
    path = write_markdown(result, REPORT_DIR / "turn_profile.md")
    log(f"turn profile written to {path.relative_to(PROJECT_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
