"""Micro-benchmarks: speed and memory of the parts that run per message or per batch,
in this process (no servers). `bench/run_all.py` runs them into reports/bench/micro.json:

* quote       - `bot.negotiation.build_quote` over random balances and finances
* csv_import  - parsing and importing a generated CSV of accounts into a fresh SQLite file,
                then importing it again (the idempotent path)
* nlu_parse   - parsing texting-style messages with the trained model (skipped with a
                printed reason when models/ holds no current model: run `make model`)

Timings on a shared 2-core machine are noisy: compare runs on the same machine only.
"""

from __future__ import annotations

import asyncio
import os
import random
import resource
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

from bench.stats import latency_summary as _latency_summary  # noqa: E402


def latency_summary(seconds: Sequence[float]) -> dict[str, float]:
    return _latency_summary(seconds, digits=3)


def peak_rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


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


def run_micro(
    chosen: Sequence[str] = ("quote", "csv_import", "nlu_parse"),
    *,
    quotes: int = 2000,
    rows: int = 5000,
    rounds: int = 20,
    seed: int = 7,
) -> dict[str, Any]:
    jobs: dict[str, Callable[[], dict[str, Any]]] = {
        "quote": lambda: bench_quote(quotes, seed),
        "csv_import": lambda: bench_csv_import(rows, seed),
        "nlu_parse": lambda: bench_nlu_parse(rounds),
    }
    return {name: jobs[name]() for name in chosen}
