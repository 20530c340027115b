"""CPU per message of each server process, and an A/B/stock run at N concurrent, in one run.

Throughput on a shared 2-core machine follows the CPU a server spends per message (one
Rasa process is one core at most). CPU time is far less disturbed by the other jobs on
the machine than wall-clock latency, but not free of them (a busy sibling hyperthread
slows every instruction), so the servers are measured side by side:

1. every server is started and kept running: `parley serve` for each code tree given
   (`--tree`, e.g. a clean checkout of main and a branch; production mode, a private
   SQLite file, that tree's code: PYTHONPATH and the working directory set to it), and
   a stock `rasa init` bot (`--stock-dir`);
2. one warm-up conversation each, not counted;
3. `--rounds` rounds: in each, `--block` conversations of the five benchmark messages,
   one at a time, on every server in turn (the order rotating), and the CPU per message
   of its Rasa server and action server (utime + stime from /proc); the median and the
   minimum over the rounds are reported;
4. with `--concurrent N`, each server alone in turn: N clients of `--per-client`
   conversations over REST (bench/load.py): p50/p95 latency, messages per second, and CPU
   per message of every process of the server.

    python -m bench.cpu_per_message --tree /tmp/base --tree . --stock-dir /tmp/stock \\
        [--rounds 6] [--block 2] [--concurrent 10] [--out reports/bench/cpu.json]

A tree needs build/spacy (the spaCy pipeline the model loads by path); the model is the
same for every tree (`--model`, else the newest in models/).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.load import MESSAGES, Target, run_level
from bench.servers import (
    bench_phone,
    log,
    newest_model,
    process_tree,
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


def cpu_by_process(pids: dict[str, int]) -> dict[str, float]:
    return {label: cpu_ms(pid) for label, pid in pids.items()}


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


async def _one_at_a_time(target: Target, first: int, count: int) -> None:
    for n in range(count):
        phone = bench_phone(first + n)
        await run_level(target, 1, lambda _k, p=phone: p, conversations=1)


@dataclass
class Server:
    """One running server under measurement: where to talk, which processes to read."""

    label: str
    target: Target
    pids: dict[str, int]
    stop: Any
    blocks: list[dict[str, float]] = field(default_factory=list)


def sequential_block(server: Server, first_phone: int, conversations: int) -> None:
    """`conversations` one at a time; the CPU per message of each process, kept."""
    before = cpu_by_process(server.pids)
    asyncio.run(_one_at_a_time(server.target, first_phone, conversations))
    after = cpu_by_process(server.pids)
    messages = conversations * len(MESSAGES)
    server.blocks.append(
        {label: (after[label] - before[label]) / messages for label in server.pids}
    )


def sequential_summary(server: Server) -> dict[str, Any]:
    """Median and minimum over the blocks (interference from other jobs only adds CPU
    time, so the minimum is the least disturbed figure)."""
    result: dict[str, Any] = {"blocks": len(server.blocks)}
    for label in server.pids:
        values = [block[label] for block in server.blocks]
        result[label] = {
            "median": round(statistics.median(values), 1),
            "min": round(min(values), 1),
            "all": [round(v, 1) for v in values],
        }
    return result


def concurrent_level(server: Server, concurrent: int, per_client: int) -> dict[str, Any]:
    before = cpu_by_process(server.pids)
    level = asyncio.run(
        run_level(
            server.target,
            concurrent,
            lambda k: bench_phone(CONCURRENT_FIRST_PHONE + k),
            conversations=per_client,
        )
    )
    after = cpu_by_process(server.pids)
    answered = level.get("count") or 1
    level["cpu_ms_per_message"] = round(
        sum(after[label] - before[label] for label in server.pids) / answered, 1
    )
    level["load_average_after"] = load_average()
    return level


@contextlib.contextmanager
def inside(tree: Path) -> Iterator[dict[str, str]]:
    """The working directory and PYTHONPATH that make `parley serve` run `tree`'s code."""
    here = Path.cwd()
    os.chdir(tree)
    try:
        yield {"PYTHONPATH": str(tree)}
    finally:
        os.chdir(here)


def start_tree(tree: Path, workdir: Path, model: Path, twilio_base: str) -> Server:
    label = tree.name
    with inside(tree) as env:
        log(f"{label}: starting parley serve ({tree})")
        bot = start_parley(
            workdir / label,
            f"sqlite:///{workdir / label / 'parley.db'}",
            twilio_base,
            model=model,
            accounts=ACCOUNTS,
            extra_env=env,
        )
    pids = process_tree(bot.served[0].process.pid)
    servers = {k: v for k, v in pids.items() if k in ("rasa", "actions")}
    target = Target(bot.rasa_urls, "rest", rest_token=bot.rest_token)
    return Server(label, target, servers, bot.stop)


def start_stock(directory: Path) -> Server:
    if not list((directory / "models").glob("*.tar.gz")):
        log(f"stock: rasa init --no-prompt in {directory}")
        train_stock_bot(directory)
    stock = start_stock_rasa(directory)
    pids = process_tree(stock.process.pid)
    return Server("stock", Target([stock.url], "rest"), pids, stock.stop)


def measure_all(
    servers: list[Server], *, rounds: int, block: int, concurrent: int, per_client: int
) -> dict[str, dict[str, Any]]:
    """Every server warmed up, then `rounds` rounds of a `block` of conversations on each
    in turn (the order rotating), so all of them see the same machine; then each
    concurrent run alone, one server after the other."""
    for server in servers:
        warm = bench_phone(WARM_UP_PHONE)
        asyncio.run(run_level(server.target, 1, lambda _k, w=warm: w, conversations=1))
    results: dict[str, dict[str, Any]] = {s.label: {} for s in servers}
    begin = load_average()
    for r in range(rounds):
        order = servers[r % len(servers) :] + servers[: r % len(servers)]
        for server in order:
            sequential_block(server, SEQUENTIAL_FIRST_PHONE + r * block, block)
        log(f"round {r + 1}/{rounds} (load {load_average()})")
    for server in servers:
        results[server.label]["sequential"] = sequential_summary(server)
        results[server.label]["sequential"]["load_average"] = f"{begin} -> {load_average()}"
    if concurrent:
        for server in servers:
            results[server.label]["concurrent"] = concurrent_level(server, concurrent, per_client)
            log(f"{server.label} c={concurrent}: {results[server.label]['concurrent']}")
    return results


def _cpu(sequential: dict[str, Any], *labels: str) -> str:
    for label in labels:
        if label in sequential:
            found = sequential[label]
            return f"{found['median']} (min {found['min']})"
    return "-"


def tables(results: dict[str, dict[str, Any]]) -> str:
    text = markdown_table(
        ["server", "Rasa server CPU ms/msg", "action server CPU ms/msg", "blocks"],
        [
            [
                label,
                _cpu(result["sequential"], "rasa", "rasa run"),
                _cpu(result["sequential"], "actions"),
                result["sequential"]["blocks"],
            ]
            for label, result in results.items()
        ],
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
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--block", type=int, default=2, help="conversations per block")
    parser.add_argument("--concurrent", type=int, default=0)
    parser.add_argument("--per-client", type=int, default=4)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/parley-cpu-bench"))
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    if args.rounds * args.block > CONCURRENT_FIRST_PHONE:
        parser.error(f"at most {CONCURRENT_FIRST_PHONE} conversations one at a time")
    from tests.fakes.twilio_api import FakeTwilioApi

    model = (args.model or newest_model()).resolve()
    servers: list[Server] = []
    with FakeTwilioApi() as twilio:
        try:
            for tree in args.tree:
                servers.append(start_tree(tree.resolve(), args.workdir, model, twilio.base_url))
            if args.stock_dir:
                servers.append(start_stock(args.stock_dir.resolve()))
            results = measure_all(
                servers,
                rounds=args.rounds,
                block=args.block,
                concurrent=args.concurrent,
                per_client=args.per_client,
            )
        finally:
            for server in servers:
                server.stop()
    print(tables(results), flush=True)
    if args.out:
        write_json(args.out, {"model": str(model), "results": results})
    return 0


if __name__ == "__main__":
    sys.exit(main())
