"""Benchmarks: speed and memory of the parts that run per message or per batch.

`make bench` writes reports/bench/summary.md and reports/bench/results.json:

* quote       - `bot.negotiation.build_quote` over random balances and finances
* csv_import  - parsing and importing a generated CSV of accounts into a fresh SQLite file,
                then importing it again (the idempotent path)
* nlu_parse   - parsing texting-style messages with the trained model (skipped with a
                printed reason when models/ holds no current model: run `make model`)

Timings on a shared 2-core machine are noisy: compare runs on the same machine only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")

from bot.settings import PROJECT_ROOT  # noqa: E402

REPORT_DIR = PROJECT_ROOT / "reports" / "bench"


def log(message: str) -> None:
    print(f"[bench] {message}", flush=True)


def peak_rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def latency_summary(seconds: Sequence[float]) -> dict[str, float]:
    ms = [s * 1000 for s in seconds]
    return {
        "count": len(ms),
        "mean_ms": round(statistics.fmean(ms), 3),
        "p50_ms": round(percentile(ms, 0.50), 3),
        "p95_ms": round(percentile(ms, 0.95), 3),
        "max_ms": round(max(ms), 3),
    }


def timed(calls: Sequence[Callable[[], Any]]) -> list[float]:
    durations = []
    for call in calls:
        start = time.perf_counter()
        call()
        durations.append(time.perf_counter() - start)
    return durations


# --- quote ---------------------------------------------------------------------------


def bench_quote(count: int, seed: int) -> dict[str, Any]:
    from bot.negotiation.affordability import Finances
    from bot.negotiation.offers import build_quote
    from bot.negotiation.policy import load_policy

    policy = load_policy()
    rng = random.Random(seed)
    today = date(2026, 11, 28)
    cases = []
    for _ in range(count):
        balance = Decimal(rng.randint(5_000, 1_500_000)) / 100
        income = Decimal(rng.randint(500, 6_000))
        expenses = Decimal(rng.randint(300, int(income)))
        cases.append((balance, Finances(income, expenses), rng.random() < 0.2))
    offered = 0

    def one(case: tuple[Decimal, Any, bool]) -> Callable[[], Any]:
        def call() -> None:
            nonlocal offered
            quote = build_quote(case[0], case[1], policy, today, temporary_hardship=case[2])
            offered += len(quote.options)

        return call

    durations = timed([one(case) for case in cases])
    return {**latency_summary(durations), "options_offered": offered}


# --- csv import ----------------------------------------------------------------------

ZONES = ("America/New_York", "America/Chicago", "America/Los_Angeles", "Europe/London")


def write_csv(path: Path, rows: int, seed: int) -> None:
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as out:
        out.write(
            "account_ref,name,phone,balance,currency,timezone,dob,channel,creditor,due_date\n"
        )
        for n in range(rows):
            phone = f"+1202555{n % 10000:04d}" if n < 10000 else f"+1415555{n % 10000:04d}"
            out.write(
                f"BENCH-{n:06d},Debtor {n},{phone},{rng.randint(1000, 900000) / 100:.2f},USD,"
                f"{rng.choice(ZONES)},19{rng.randint(50, 99)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)},"
                f"{rng.choice(('sms', 'whatsapp'))},Northwind Clinic,2026-10-01\n"
            )


def bench_csv_import(rows: int, seed: int) -> dict[str, Any]:
    from bot.accounts.csv_import import read_accounts_file
    from bot.storage import AccountRepository
    from bot.storage.db import Database

    with tempfile.TemporaryDirectory(prefix="parley-bench-") as tmp:
        csv_path = Path(tmp) / "accounts.csv"
        write_csv(csv_path, rows, seed)
        database = Database(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}")
        database.migrate()
        today = datetime.now(timezone.utc).date()

        start = time.perf_counter()
        parsed = read_accounts_file(csv_path, today)
        parse_s = time.perf_counter() - start

        start = time.perf_counter()
        with database.session() as session:
            first = AccountRepository(session).upsert_many(parsed, actor="bench")
        first_s = time.perf_counter() - start

        start = time.perf_counter()
        with database.session() as session:
            again = AccountRepository(session).upsert_many(parsed, actor="bench")
        again_s = time.perf_counter() - start
        database.dispose()
    return {
        "rows": rows,
        "parse_s": round(parse_s, 3),
        "first_import_s": round(first_s, 3),
        "reimport_s": round(again_s, 3),
        "rows_per_s_first_import": round(rows / (parse_s + first_s)),
        "created": first.created,
        "unchanged_on_reimport": again.unchanged,
    }


# --- nlu parse -----------------------------------------------------------------------

MESSAGES = [
    "hi who is this",
    "i lost my job last month and i'm really scared",
    "can i pay 50 a month starting after payday",
    "YES",
    "no way im not paying that 😡",
    "my dob is 03/04/1985",
    "can u do fifty every 2 weeks pls",
    "i already paid this in march",
    "stop texting me",
    "is this a scam?",
    "what happens if i dont pay",
    "1.2k is all i make",
    "ok",
    "🙂",
    "",
]


def bench_nlu_parse(rounds: int) -> dict[str, Any]:
    from bot.training import MODEL_PATH, model_is_current

    if not MODEL_PATH.exists() or not model_is_current():
        return {"skipped": f"no current model at {MODEL_PATH} (run `make model` first)"}
    from rasa.core.agent import Agent

    rss_before = peak_rss_mb()
    start = time.perf_counter()
    agent = Agent.load(str(MODEL_PATH))
    load_s = time.perf_counter() - start
    rss_loaded = peak_rss_mb()
    long_text = ("i lost my job and the rent went up and " * 130)[:5000]
    texts = MESSAGES * rounds + [long_text] * max(1, rounds // 2)

    async def run() -> list[float]:
        await agent.parse_message("warm up")
        durations = []
        for text in texts:
            begin = time.perf_counter()
            await agent.parse_message(text)
            durations.append(time.perf_counter() - begin)
        return durations

    durations = asyncio.run(run())
    return {
        **latency_summary(durations),
        "model_load_s": round(load_s, 2),
        "rss_before_load_mb": round(rss_before),
        "rss_after_load_mb": round(rss_loaded),
        "peak_rss_mb": round(peak_rss_mb()),
    }


# --- report --------------------------------------------------------------------------


def write_report(results: dict[str, Any]) -> Path:
    REPORT_DIR.mkdir(parents=True, exist_ok=True)
    (REPORT_DIR / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    lines = [
        "# Parley benchmarks",
        "",
        f"Run {results['run_at']} on {results['machine']} (Python {results['python']}, "
        f"{results['cpus']} CPUs). Timings are noisy on a shared machine.",
        "",
    ]
    for name, data in results["benchmarks"].items():
        lines += [f"## {name}", "", "| measure | value |", "|---|---|"]
        lines += [f"| {key} | {value} |" for key, value in data.items()]
        lines.append("")
    path = REPORT_DIR / "summary.md"
    path.write_text("\n".join(lines))
    return path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Parley benchmarks into reports/bench/")
    parser.add_argument("--quotes", type=int, default=2000, help="random quotes to build")
    parser.add_argument("--rows", type=int, default=5000, help="accounts in the generated CSV")
    parser.add_argument("--rounds", type=int, default=20, help="passes over the NLU messages")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--only", choices=("quote", "csv_import", "nlu_parse"), action="append", default=None
    )
    args = parser.parse_args(argv)
    os.chdir(PROJECT_ROOT)
    chosen = args.only or ["quote", "csv_import", "nlu_parse"]
    jobs: dict[str, Callable[[], dict[str, Any]]] = {
        "quote": lambda: bench_quote(args.quotes, args.seed),
        "csv_import": lambda: bench_csv_import(args.rows, args.seed),
        "nlu_parse": lambda: bench_nlu_parse(args.rounds),
    }
    results: dict[str, Any] = {
        "run_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "benchmarks": {},
    }
    for name in chosen:
        log(f"{name}: running...")
        start = time.perf_counter()
        results["benchmarks"][name] = jobs[name]()
        log(f"{name}: {results['benchmarks'][name]} ({time.perf_counter() - start:.1f} s)")
    path = write_report(results)
    log(f"report written to {path.relative_to(PROJECT_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
