"""CPU per message of each server process, and an A/B/stock run at N concurrent, in one run.

Throughput on a shared 2-core machine follows the CPU a server spends per message (one
Rasa process is one core at most), and CPU time is robust to the other jobs on the
machine where wall-clock latency is not. For each code tree given (`--tree`, e.g. a
clean checkout of main and a branch) and for a stock `rasa init` bot:

1. start the server (Parley: `parley serve` in production mode on a private SQLite file,
   with that tree's code: PYTHONPATH and the working directory set to the tree);
2. one warm-up conversation, not counted;
3. `--conversations` conversations of the five benchmark messages, one at a time: CPU
   per message of the Rasa server and of the action server (utime + stime from /proc);
4. with `--concurrent N`, N clients of `--per-client` conversations each over REST
   (bench/load.py): p50/p95 latency, messages per second, and CPU per message of every
   process of the server.

    python -m bench.cpu_per_message --tree /tmp/base --tree . --stock-dir /tmp/stock \\
        [--conversations 6] [--concurrent 10] [--out reports/bench/cpu.json]

A tree needs build/spacy (the spaCy pipeline the model loads by path); the model is the
same for every tree (`--model`, else the newest in models/).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import os
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from bench.load import MESSAGES, Target, run_level
from bench.servers import (
    _children,
    _label,
    bench_phone,
    log,
    newest_model,
    start_parley,
    start_stock_rasa,
    train_stock_bot,
)
from bench.stats import markdown_table, ratio, write_json

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
WARM_UP_PHONE = 199
SEQUENTIAL_FIRST_PHONE = 0
CONCURRENT_FIRST_PHONE = 100
ACCOUNTS = 200


def cpu_ms(pid: int) -> float:
    """utime + stime of one process, in milliseconds (0 once it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[-1].split()
    # After the command: state(0) ppid(1) ... utime(11) stime(12), per proc(5).
    return (int(fields[11]) + int(fields[12])) * 1000 / CLOCK_TICKS


def process_tree(pid: int) -> dict[str, int]:
    """A process and its descendants, by the short labels of bench/servers.py."""
    found: dict[str, int] = {}
    pending = [pid]
    while pending:
        current = pending.pop()
        pending.extend(_children(current))
        try:
            argv = Path(f"/proc/{current}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        label = _label([w.decode("utf-8", "replace") for w in argv if w])
        key, n = label, 2
        while key in found:
            key, n = f"{label}#{n}", n + 1
        found[key] = current
    return found


def cpu_by_process(pids: dict[str, int]) -> dict[str, float]:
    return {label: cpu_ms(pid) for label, pid in pids.items()}


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


async def _one_at_a_time(target: Target, first: int, count: int) -> None:
    for n in range(count):
        phone = bench_phone(first + n)
        await run_level(target, 1, lambda _k, p=phone: p, conversations=1)


def measure(
    target: Target, pids: dict[str, int], *, conversations: int, concurrent: int, per_client: int
) -> dict[str, Any]:
    """Warm up, then CPU per message one conversation at a time, then the concurrent run."""
    warm = bench_phone(WARM_UP_PHONE)
    asyncio.run(run_level(target, 1, lambda _k: warm, conversations=1))
    result: dict[str, Any] = {"load_average_before": load_average()}
    before = cpu_by_process(pids)
    begin = time.perf_counter()
    asyncio.run(_one_at_a_time(target, SEQUENTIAL_FIRST_PHONE, conversations))
    wall = time.perf_counter() - begin
    after = cpu_by_process(pids)
    messages = conversations * len(MESSAGES)
    result["sequential"] = {
        "messages": messages,
        "wall_ms_per_message": round(wall * 1000 / messages, 1),
        "cpu_ms_per_message": {
            label: round((after[label] - before[label]) / messages, 1) for label in pids
        },
        "load_average_after": load_average(),
    }
    if concurrent:
        before = cpu_by_process(pids)
        level = asyncio.run(
            run_level(
                target,
                concurrent,
                lambda k: bench_phone(CONCURRENT_FIRST_PHONE + k),
                conversations=per_client,
            )
        )
        after = cpu_by_process(pids)
        answered = level.get("count") or 1
        level["cpu_ms_per_message"] = round(
            sum(after[label] - before[label] for label in pids) / answered, 1
        )
        level["load_average_after"] = load_average()
        result["concurrent"] = level
    return result


@contextlib.contextmanager
def inside(tree: Path) -> Iterator[dict[str, str]]:
    """The working directory and PYTHONPATH that make `parley serve` run `tree`'s code."""
    here = Path.cwd()
    os.chdir(tree)
    try:
        yield {"PYTHONPATH": str(tree)}
    finally:
        os.chdir(here)


def bench_tree(tree: Path, workdir: Path, model: Path, **options: Any) -> dict[str, Any]:
    from tests.fakes.twilio_api import FakeTwilioApi

    label = tree.name
    db = workdir / label / "parley.db"
    with FakeTwilioApi() as twilio, inside(tree) as env:
        log(f"{label}: starting parley serve ({tree})")
        bot = start_parley(
            workdir / label,
            f"sqlite:///{db}",
            twilio.base_url,
            model=model,
            accounts=ACCOUNTS,
            extra_env=env,
        )
        try:
            pids = process_tree(bot.served[0].process.pid)
            servers = {k: v for k, v in pids.items() if k in ("rasa", "actions")}
            target = Target(bot.rasa_urls, "rest", rest_token=bot.rest_token)
            result = measure(target, servers, **options)
        finally:
            bot.stop()
    result["tree"] = str(tree)
    return result


def bench_stock(directory: Path, **options: Any) -> dict[str, Any]:
    if not list((directory / "models").glob("*.tar.gz")):
        log(f"stock: rasa init --no-prompt in {directory}")
        train_stock_bot(directory)
    stock = start_stock_rasa(directory)
    try:
        pids = process_tree(stock.process.pid)
        return measure(Target([stock.url], "rest"), pids, **options)
    finally:
        stock.stop()


def tables(results: dict[str, dict[str, Any]]) -> str:
    sequential = [
        [
            label,
            result["sequential"]["cpu_ms_per_message"].get("rasa")
            or result["sequential"]["cpu_ms_per_message"].get("rasa run"),
            result["sequential"]["cpu_ms_per_message"].get("actions", "-"),
            result["sequential"]["wall_ms_per_message"],
            result["sequential"]["load_average_after"],
        ]
        for label, result in results.items()
    ]
    text = markdown_table(
        ["server", "Rasa server CPU ms/msg", "action server CPU ms/msg", "wall ms/msg", "load"],
        sequential,
    )
    stock = results.get("stock", {}).get("concurrent")
    rows = []
    for label, result in results.items():
        level = result.get("concurrent")
        if not level:
            continue
        rows.append(
            [
                label,
                level.get("p50_ms"),
                level.get("p95_ms"),
                level.get("throughput_msg_s"),
                level.get("cpu_ms_per_message"),
                ratio(level.get("p95_ms"), stock and stock.get("p95_ms")),
                ratio(level.get("throughput_msg_s"), stock and stock.get("throughput_msg_s")),
                level.get("errors"),
                level.get("load_average_after"),
            ]
        )
    if rows:
        text += "\n\n" + markdown_table(
            [
                "server",
                "p50 ms",
                "p95 ms",
                "msg/s",
                "CPU ms/msg",
                "p95 vs stock",
                "msg/s vs stock",
                "errors",
                "load",
            ],
            rows,
        )
    return text


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", type=Path, action="append", default=[], help="a code tree")
    parser.add_argument("--stock-dir", type=Path, help="a `rasa init` directory (trained if empty)")
    parser.add_argument("--model", type=Path, help="the Parley model (default: newest)")
    parser.add_argument("--conversations", type=int, default=6)
    parser.add_argument("--concurrent", type=int, default=0)
    parser.add_argument("--per-client", type=int, default=4)
    parser.add_argument("--stock-first", action="store_true", help="stock before the trees")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/parley-cpu-bench"))
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    options = {
        "conversations": args.conversations,
        "concurrent": args.concurrent,
        "per_client": args.per_client,
    }
    model = (args.model or newest_model()).resolve()
    trees = [tree.resolve() for tree in args.tree]
    jobs: list[tuple[str, Any]] = [
        (tree.name, functools.partial(bench_tree, tree, args.workdir, model, **options))
        for tree in trees
    ]
    if args.stock_dir:
        stock = ("stock", lambda: bench_stock(args.stock_dir.resolve(), **options))
        jobs = [stock, *jobs] if args.stock_first else [*jobs, stock]
    results: dict[str, dict[str, Any]] = {}
    for label, job in jobs:
        results[label] = job()
        log(f"{label}: {results[label]}")
    print(tables(results), flush=True)
    if args.out:
        write_json(args.out, {"model": str(model), "results": results})
    return 0


if __name__ == "__main__":
    sys.exit(main())
