"""`make bench`: Parley against a stock `rasa init` bot, in one run, into reports/bench/.

1. the stock bot: `rasa init --no-prompt` in a temp dir (its training time), `rasa run
   --enable-api` (start-up time, memory), REST load at each concurrency;
2. Parley (`parley serve`, production mode, fake Twilio API) on a private SQLite file and
   on a private PostgreSQL database (created on 127.0.0.1:5432, dropped after): start-up
   time, memory of each child, REST and signed Twilio load at each concurrency; two
   processes sharing the database and a private Redis when the Redis lock store exists;
3. the turn profile (bench/profile_turn.py: where a turn's time goes, before and after
   the fixes), the micro-benchmarks (bench/micro.py) and the last training time;
4. reports/bench/{load,startup_memory,training,micro,results}.json, summary.md and
   latency.png.

Each client holds 4 conversations of 5 messages (bench/load.py). Timings on a shared
2-core machine are noisy: the load average is recorded with each figure; compare figures
of one run only.

    python -m bench.run_all [--levels 1 10 50] [--skip-postgres] [--skip-profile] ...
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")

from bench.load import CONVERSATIONS, Target, run_level  # noqa: E402
from bench.servers import (  # noqa: E402
    TWILIO_TOKEN,
    bench_phone,
    free_port,
    log,
    newest_model,
    postgres_database,
    start_parley,
    start_stock_rasa,
    train_stock_bot,
)
from bench.stats import markdown_table, ratio, write_json  # noqa: E402
from bot.settings import PROJECT_ROOT  # noqa: E402

REPORT_DIR = PROJECT_ROOT / "reports" / "bench"
DEFAULT_LEVELS = (1, 10, 50)
# Twilio conversations use other debtors than REST ones on the same server.
TWILIO_OFFSET = 5000
# The warm-up conversation's debtor, after every level's (at most 4 x 1000 conversations).
WARMUP_INDEX = 4999
# The target at 10 concurrent conversations against stock Rasa in the same run.
TARGET_LEVEL = 10
TARGET_P95_RATIO = 2.0
TARGET_THROUGHPUT_RATIO = 0.5
_TRAINED = re.compile(r"Trained (\S+) in (\d+) s")
_COMPONENT = re.compile(
    r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) .*(Starting to train|Finished training) component '(\w+)'"
)


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def accounts_needed(levels: Sequence[int]) -> int:
    if sum(level * conversations_at(level) for level in levels) > WARMUP_INDEX:
        raise SystemExit(f"at most {WARMUP_INDEX // CONVERSATIONS} conversations in all levels")
    return 2 * TWILIO_OFFSET


def lock_store_available() -> str | None:
    """The Redis lock store's module, when it has landed and `parley serve` uses it."""
    serve = (PROJECT_ROOT / "bot" / "serve.py").read_text(encoding="utf-8")
    for candidate in (
        "bot/runtime/lock_store.py",
        "bot/storage/lock_store.py",
        "bot/lock_store.py",
    ):
        if (PROJECT_ROOT / candidate).exists() and "REDIS_URL" in serve.upper():
            return candidate
    return None


@contextlib.contextmanager
def private_redis() -> Iterator[str]:
    """A redis-server of our own on a free port (never the shared 6379)."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(0.5)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


# Conversations per client by level (default CONVERSATIONS); --conversations-at changes it.
CONVERSATIONS_AT: dict[int, int] = {}


def conversations_at(level: int) -> int:
    return CONVERSATIONS_AT.get(level, CONVERSATIONS)


def drive(target: Target, levels: Sequence[int], offset: int, label: str) -> list[dict[str, Any]]:
    """Each load level in turn, after one warm-up conversation (not counted: the first
    calls of a fresh server load things lazily)."""
    warm = bench_phone(offset + WARMUP_INDEX)
    asyncio.run(run_level(target, 1, lambda _k: warm, conversations=1))
    results = []
    start = offset
    for level in levels:

        def senders(k: int, first: int = start) -> str:
            return bench_phone(first + k)

        begin_load = load_average()
        per_client = conversations_at(level)
        result = asyncio.run(run_level(target, level, senders, conversations=per_client))
        result["conversations_per_client"] = per_client
        result["load_average_before"] = begin_load
        result["load_average_after"] = load_average()
        log(
            f"{label} c={level}: p50 {result.get('p50_ms')} ms, p95 {result.get('p95_ms')} ms, "
            f"{result['throughput_msg_s']} msg/s, errors {result['errors']}, "
            f"unanswered {result['unanswered']} (load {result['load_average_after']})"
        )
        results.append(result)
        start += level * per_client
    return results


def bench_stock(workdir: Path, levels: Sequence[int], reuse: Path | None) -> dict[str, Any]:
    directory = reuse or workdir / "stock-rasa"
    trained_s = None
    if reuse is None or not list((directory / "models").glob("*.tar.gz")):
        log(f"stock rasa: rasa init --no-prompt in {directory} (trains the default bot)...")
        trained_s = train_stock_bot(directory)
        log(f"stock rasa: trained in {trained_s} s")
    stock = start_stock_rasa(directory)
    log(f"stock rasa: ready in {stock.startup_s} s on {stock.url}")
    try:
        idle = stock.memory()
        rest = drive(Target([stock.url], "rest"), levels, 0, "stock rasa REST")
        loaded = stock.memory()
    finally:
        stock.stop()
    return {
        "training_s": trained_s,
        "startup_s": stock.startup_s,
        "rss_mb_idle": idle,
        "rss_mb_after_load": loaded,
        "rest": rest,
    }


def bench_parley(
    label: str,
    workdir: Path,
    database_url: str,
    levels: Sequence[int],
    *,
    processes: int = 1,
    redis_url: str | None = None,
    twilio_levels: Sequence[int] = (),
    extra_env: dict[str, str] | None = None,
) -> dict[str, Any]:
    from tests.fakes.twilio_api import FakeTwilioApi

    env = dict(extra_env or {})
    if redis_url:
        env["REDIS_URL"] = redis_url
    with FakeTwilioApi() as fake:
        log(f"{label}: importing accounts and starting {processes} parley serve...")
        bot = start_parley(
            workdir / label,
            database_url,
            fake.base_url,
            model=newest_model(),
            accounts=accounts_needed(sorted({*levels, *twilio_levels})),
            processes=processes,
            extra_env=env,
        )
        log(f"{label}: ready in {bot.startup_s} s")
        try:
            idle = bot.memory()
            rest = drive(
                Target(bot.rasa_urls, "rest", rest_token=bot.rest_token), levels, 0, f"{label} REST"
            )
            sms = (
                drive(
                    Target(
                        bot.rasa_urls,
                        "twilio",
                        twilio_token=TWILIO_TOKEN,
                        public_urls=bot.public_base_urls,
                    ),
                    twilio_levels,
                    TWILIO_OFFSET,
                    f"{label} Twilio",
                )
                if twilio_levels
                else []
            )
            loaded = bot.memory()
        finally:
            bot.stop()
    return {
        "processes": processes,
        "database": "PostgreSQL" if database_url.startswith("postgresql") else "SQLite",
        "startup_s": bot.startup_s,
        "rss_mb_idle": idle,
        "rss_mb_after_load": loaded,
        "rest": rest,
        "twilio": sms,
    }


def training_times(log_path: Path | None, stock_s: float | None) -> dict[str, Any]:
    """Parley's last training (from its log: `parley train` prints 'Trained ... in N s')
    and per-component times from Rasa's hook lines; the stock bot's from this run."""
    result: dict[str, Any] = {"stock_rasa_init_s": stock_s}
    if log_path is None or not log_path.exists():
        result["parley"] = "no training log given (--training-log PATH of a `parley train` run)"
        return result
    text = log_path.read_text(encoding="utf-8", errors="replace")
    trained = _TRAINED.findall(text)
    result["parley_total_s"] = int(trained[-1][1]) if trained else None
    result["parley_log"] = str(log_path)
    started: dict[str, datetime] = {}
    components: dict[str, float] = {}
    for line in text.replace("\r", "\n").splitlines():
        match = _COMPONENT.match(line)
        if not match:
            continue
        when = datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S")
        if match.group(2).startswith("Starting"):
            started[match.group(3)] = when
        elif match.group(3) in started:
            components[match.group(3)] = (when - started.pop(match.group(3))).total_seconds()
    result["parley_components_s"] = dict(sorted(components.items(), key=lambda kv: -kv[1]))
    return result


def time_core_retrain(workdir: Path) -> dict[str, Any]:
    """A dialogue-only retrain (`rasa train core`: the policies, not NLU) into a temp dir,
    timed; models/ is left alone."""
    out = workdir / "core-model"
    begin = time.perf_counter()
    result = subprocess.run(
        [
            "nice", "-n", "10", str(Path(sys.executable).with_name("rasa")), "train", "core",
            "--config", "config.yml", "--domain", "domain.yml", "--stories", "data",
            "--out", str(out),
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"},
    )  # fmt: skip
    elapsed = round(time.perf_counter() - begin, 1)
    if result.returncode != 0:
        return {"error": (result.stderr or result.stdout)[-500:]}
    return {"parley_core_retrain_s": elapsed, "load_average_after": load_average()}


# --- report ----------------------------------------------------------------------------


def _level(results: Sequence[dict[str, Any]], level: int) -> dict[str, Any]:
    return next((r for r in results if r.get("concurrency") == level), {})


def comparison_rows(report: dict[str, Any], levels: Sequence[int]) -> list[list[Any]]:
    stock = report.get("stock_rasa", {}).get("rest", [])
    rows: list[list[Any]] = []
    for name, run in report.get("parley", {}).items():
        for channel in ("rest", "twilio"):
            for level in levels:
                figures = _level(run.get(channel, []), level)
                if not figures:
                    continue
                base = _level(stock, level)
                rows.append(
                    [
                        name,
                        "REST" if channel == "rest" else "Twilio",
                        level,
                        figures.get("p50_ms"),
                        figures.get("p95_ms"),
                        figures.get("p99_ms"),
                        figures.get("throughput_msg_s"),
                        figures.get("errors"),
                        ratio(figures.get("p95_ms"), base.get("p95_ms"))
                        if channel == "rest"
                        else None,
                        ratio(figures.get("throughput_msg_s"), base.get("throughput_msg_s"))
                        if channel == "rest"
                        else None,
                        figures.get("load_average_after"),
                    ]
                )
    for level in levels:
        base = _level(stock, level)
        if base:
            rows.append(
                [
                    "stock rasa init",
                    "REST",
                    level,
                    base.get("p50_ms"),
                    base.get("p95_ms"),
                    base.get("p99_ms"),
                    base.get("throughput_msg_s"),
                    base.get("errors"),
                    1.0,
                    1.0,
                    base.get("load_average_after"),
                ]
            )
    return rows


def verdict(report: dict[str, Any]) -> list[str]:
    stock = _level(report.get("stock_rasa", {}).get("rest", []), TARGET_LEVEL)
    lines = []
    for name, run in report.get("parley", {}).items():
        mine = _level(run.get("rest", []), TARGET_LEVEL)
        if not mine or not stock:
            continue
        p95 = ratio(mine.get("p95_ms"), stock.get("p95_ms"))
        tput = ratio(mine.get("throughput_msg_s"), stock.get("throughput_msg_s"))
        ok = p95 is not None and tput is not None
        met = ok and p95 <= TARGET_P95_RATIO and tput >= TARGET_THROUGHPUT_RATIO  # type: ignore[operator]
        lines.append(
            f"- **{name}**, {TARGET_LEVEL} concurrent conversations over REST: p95 "
            f"{mine.get('p95_ms')} ms against {stock.get('p95_ms')} ms (**{p95}x**, target "
            f"<= {TARGET_P95_RATIO}x), throughput {mine.get('throughput_msg_s')} against "
            f"{stock.get('throughput_msg_s')} msg/s (**{tput}x**, target >= "
            f"{TARGET_THROUGHPUT_RATIO}x): {'met' if met else 'NOT met'}."
        )
    return lines


def plot(report: dict[str, Any], levels: Sequence[int], path: Path) -> Path | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    series: list[tuple[str, list[dict[str, Any]]]] = []
    stock = report.get("stock_rasa", {}).get("rest", [])
    if stock:
        series.append(("stock rasa init (REST)", stock))
    for name, run in report.get("parley", {}).items():
        series.append((f"{name} (REST)", run.get("rest", [])))
        if run.get("twilio"):
            series.append((f"{name} (Twilio)", run["twilio"]))
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.8))
    for label, results in series:
        xs = [r["concurrency"] for r in results if "p95_ms" in r]
        left.plot(xs, [r["p95_ms"] for r in results if "p95_ms" in r], marker="o", label=label)
        right.plot(
            xs, [r["throughput_msg_s"] for r in results if "p95_ms" in r], marker="o", label=label
        )
    for axis, title, unit in (
        (left, "Turn latency p95", "ms"),
        (right, "Throughput", "messages / s"),
    ):
        axis.set_xscale("log")
        axis.set_xticks(list(levels))
        axis.set_xticklabels([str(x) for x in levels])
        axis.set_xlabel("concurrent conversations")
        axis.set_ylabel(unit)
        axis.set_title(title)
        axis.grid(True, alpha=0.3)
    left.legend(fontsize=7)
    fig.suptitle(
        f"Parley vs stock Rasa, {report['run_at']} (load average {report['load_average_start']})"
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def memory_rows(report: dict[str, Any]) -> list[list[Any]]:
    rows = []
    stock = report.get("stock_rasa")
    if stock:
        rows += [
            ["stock rasa init", k, v, stock["rss_mb_after_load"].get(k)]
            for k, v in stock["rss_mb_idle"].items()
        ]
    for name, run in report.get("parley", {}).items():
        rows += [
            [name, k, v, run["rss_mb_after_load"].get(k)] for k, v in run["rss_mb_idle"].items()
        ]
    return rows


def profile_headline(directory: Path) -> list[str]:
    """The turn profile's before/after (turn_profile.json) and the egress A/B, briefly."""
    import json

    lines: list[str] = []
    profile = directory / "turn_profile.json"
    if profile.exists():
        data = json.loads(profile.read_text(encoding="utf-8"))
        runs = data.get("runs", {})
        lines += [
            "## Where a turn's time goes",
            "",
            f"[turn_profile.md](turn_profile.md): one conversation at a time, profiling mode, "
            f"{data.get('run_at')} (load average {data.get('load_average')}).",
            "",
        ]
        if {"before", "after"} <= set(runs):
            rows = []
            for label, key in (
                ("turn in the server", None),
                ("action server round trips", "action_server_round_trip"),
                ("slot extraction", "extract_slots"),
                ("NLU", "nlu"),
                ("policies", "policies"),
                ("egress guard", "egress_guard"),
            ):
                values = []
                for run in ("before", "after"):
                    rest = runs[run]["rest"]
                    values.append(
                        rest["total_ms"]["mean"] if key is None else rest["spans_ms"].get(key)
                    )
                rows.append([label, *values])
            lines += [
                "Mean ms per REST turn, the code before issue 15's fixes and after, same run:",
                "",
                markdown_table(["phase", "before", "after"], rows),
                "",
            ]
    ab = directory / "egress_ab.json"
    if ab.exists():
        data = json.loads(ab.read_text(encoding="utf-8"))
        rows = [
            [name, v["before"]["p50_ms"], v["after"]["p50_ms"]]
            for name, v in data.get("conversations", {}).items()
        ]
        lines += [
            f"Egress guard's turn reader, p50 ms, before and after (bench/egress_ab.py, "
            f"{data.get('run_at')}, load average {data.get('load_average')}):",
            "",
            markdown_table(["conversation", "before", "after"], rows),
            "",
        ]
    return lines


def _seconds(value: Any, otherwise: str) -> str:
    return f"{value} s" if value is not None else otherwise


def _protocol_notes(report: dict[str, Any]) -> list[str]:
    per_level = report.get("conversations_per_client") or {}
    changed = {k: v for k, v in per_level.items() if v != CONVERSATIONS}
    if not changed:
        return []
    return [
        "Conversations per client changed for this run (the machine was too busy for the "
        "full count at every level): "
        + ", ".join(f"{v} at {k} concurrent" for k, v in changed.items())
        + ".",
        "",
    ]


def write_summary(
    report: dict[str, Any], levels: Sequence[int], png: Path | None, directory: Path = REPORT_DIR
) -> Path:
    lines = [
        "# Parley benchmarks",
        "",
        f"Run {report['run_at']} on {report['machine']} ({report['cpus']} CPUs, shared with "
        f"other engineers). Load average at the start {report['load_average_start']}, at the "
        f"end {report['load_average_end']}; each row gives the load average after it. Compare "
        "figures of this run only. Each client holds 4 conversations of 5 messages "
        "(`bench/load.py`) unless said below; the stock bot is `rasa init --no-prompt`.",
        "",
        *_protocol_notes(report),
        "## Target (issue 15)",
        "",
        *(verdict(report) or ["- not measured in this run"]),
        "",
        "## Turn latency and throughput",
        "",
        markdown_table(
            [
                "server",
                "channel",
                "concurrent",
                "p50 ms",
                "p95 ms",
                "p99 ms",
                "msg/s",
                "errors",
                "p95 vs Rasa",
                "msg/s vs Rasa",
                "load avg",
            ],
            comparison_rows(report, levels),
        ),
        "",
    ]
    if png is not None:
        lines += [f"![p95 latency and throughput]({png.name})", ""]
    for note in report.get("notes", []):
        lines.append(f"- {note}")
    if report.get("notes"):
        lines.append("")
    startup = [["stock rasa init", report.get("stock_rasa", {}).get("startup_s")]]
    startup += [
        [name, ", ".join(str(x) for x in run["startup_s"])]
        for name, run in report.get("parley", {}).items()
    ]
    lines += [
        "## Start-up time to ready (s)",
        "",
        markdown_table(["server", "seconds (per process)"], startup),
        "",
        "## Resident memory (MB, each process)",
        "",
        markdown_table(["server", "process", "idle", "after the load"], memory_rows(report)),
        "",
    ]
    training = report.get("training", {})
    lines += [
        "## Training",
        "",
        "- stock `rasa init` (trains the default bot): "
        + _seconds(training.get("stock_rasa_init_s"), "not trained in this run (--stock-dir)"),
        "- Parley, last full `parley train`: "
        + _seconds(training.get("parley_total_s"), "no training log (--training-log)")
        + (f" ({training['parley_log']})" if training.get("parley_log") else ""),
        "- Parley, dialogue-only retrain (`rasa train core`) in this run: "
        + _seconds(training.get("parley_core_retrain_s"), training.get("error", "not timed")),
    ]
    comps = training.get("parley_components_s") or {}
    if comps:
        lines.append(
            "- slowest components: "
            + ", ".join(f"{k} {v:.0f} s" for k, v in list(comps.items())[:6])
        )
    lines.append("")
    lines += profile_headline(directory)
    micro = report.get("micro") or {}
    if micro:
        lines += ["## Micro-benchmarks (in process)", ""]
        for name, data in micro.items():
            lines += [
                f"### {name}",
                "",
                markdown_table(["measure", "value"], list(data.items())),
                "",
            ]
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "summary.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _store(report: dict[str, Any], name: str, result: dict[str, Any] | None) -> None:
    if result is not None:
        report["parley"][name] = result


# --- main ------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", type=int, nargs="+", default=list(DEFAULT_LEVELS))
    parser.add_argument(
        "--conversations-at",
        action="append",
        default=[],
        metavar="LEVEL=N",
        help=f"conversations per client at one level (default {CONVERSATIONS}; "
        "e.g. 50=1 when the machine is too busy for 1,000 messages per server)",
    )
    parser.add_argument(
        "--twilio-levels",
        type=int,
        nargs="+",
        help="levels for the Twilio webhook (default: --levels)",
    )
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="rewrite summary.md and latency.png from reports/bench/results.json, measure nothing",
    )
    parser.add_argument("--skip-stock", action="store_true")
    parser.add_argument("--stock-dir", type=Path, help="reuse a trained `rasa init` directory")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--skip-twilio", action="store_true")
    parser.add_argument("--skip-two-processes", action="store_true")
    parser.add_argument("--skip-profile", action="store_true")
    parser.add_argument("--skip-micro", action="store_true")
    parser.add_argument(
        "--skip-retrain", action="store_true", help="do not time a dialogue-only retrain"
    )
    parser.add_argument(
        "--training-log",
        type=Path,
        default=Path(os.environ["PARLEY_TRAINING_LOG"])
        if os.environ.get("PARLEY_TRAINING_LOG")
        else None,
        help="output of the last `parley train` (default: PARLEY_TRAINING_LOG)",
    )
    args = parser.parse_args(argv)
    # SIGTERM (kill, a CI timeout) unwinds like Ctrl-C: every server started is stopped and
    # every database created is dropped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    os.chdir(PROJECT_ROOT)
    if args.report_only:
        import json

        saved = json.loads((REPORT_DIR / "results.json").read_text(encoding="utf-8"))
        png = plot(saved, saved["levels"], REPORT_DIR / "latency.png")
        log(f"rewrote {write_summary(saved, saved['levels'], png).relative_to(PROJECT_ROOT)}")
        return 0
    levels = sorted(set(args.levels))
    for item in args.conversations_at:
        level, _, count = item.partition("=")
        if not (level.isdigit() and count.isdigit() and int(count) > 0):
            parser.error(f"--conversations-at wants LEVEL=N (positive integers), got {item!r}")
        CONVERSATIONS_AT[int(level)] = int(count)
    sms_levels = [] if args.skip_twilio else sorted(set(args.twilio_levels or levels))
    report: dict[str, Any] = {
        "run_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_average_start": load_average(),
        "levels": levels,
        "conversations_per_client": {str(n): conversations_at(n) for n in levels},
        "model": newest_model().name,
        "parley": {},
        "notes": [],
    }

    def save() -> None:
        """Reports so far (a run cut short still leaves its figures)."""
        report["load_average_end"] = load_average()
        write_json(
            REPORT_DIR / "load.json",
            {k: report.get(k) for k in ("run_at", "levels", "stock_rasa", "parley")},
        )
        write_json(REPORT_DIR / "results.json", report)
        png = plot(report, levels, REPORT_DIR / "latency.png")
        write_summary(report, levels, png)

    def attempt(label: str, job: Any) -> Any:
        try:
            result = job()
        except Exception as exc:  # noqa: BLE001 - one server failing must not lose the rest
            log(f"{label} failed: {type(exc).__name__}: {exc}")
            report["notes"].append(f"{label} failed: {type(exc).__name__}: {str(exc)[-300:]}")
            result = None
        save()
        return result

    with tempfile.TemporaryDirectory(prefix="parley-bench-") as tmp:
        workdir = Path(tmp)
        if not args.skip_stock:
            stock = attempt("stock rasa", lambda: bench_stock(workdir, levels, args.stock_dir))
            if stock is not None:
                report["stock_rasa"] = stock
                save()
        if not args.skip_sqlite:

            def sqlite_one() -> dict[str, Any]:
                return bench_parley(
                    "sqlite-1", workdir, f"sqlite:///{workdir / 'sqlite-1.db'}", levels,
                    twilio_levels=sms_levels,
                )  # fmt: skip

            _store(report, "Parley SQLite, 1 process", attempt("Parley SQLite", sqlite_one))
            save()
        if not args.skip_postgres:

            def postgres_one() -> dict[str, Any]:
                with postgres_database(f"parley_bench_{os.getpid()}") as url:
                    return bench_parley(
                        "postgres-1", workdir, url, levels, twilio_levels=sms_levels
                    )

            _store(
                report, "Parley PostgreSQL, 1 process", attempt("Parley PostgreSQL", postgres_one)
            )
            save()
        lock_store = lock_store_available()
        if args.skip_two_processes:
            pass
        elif lock_store is None:
            report["notes"].append(
                "Two processes not measured: the Redis lock store (issue 15, item 2) has not "
                "landed in bot/serve.py yet, and two Rasa servers without it can answer one "
                "conversation's messages out of order."
            )
        elif not args.skip_postgres:

            def postgres_two() -> dict[str, Any]:
                with (
                    private_redis() as redis_url,
                    postgres_database(f"parley_bench2_{os.getpid()}") as url,
                ):
                    return bench_parley(
                        "postgres-2", workdir, url, levels, processes=2, redis_url=redis_url
                    )

            report["notes"].append(
                "Two processes: two `parley serve` (each a Rasa server and an action server) on "
                "one PostgreSQL database and a private Redis (Parley's atomic lock store, "
                f"{lock_store}), started together with the same credentials set; messages "
                "sent round robin to the two Rasa servers; REST only."
            )
            _store(
                report,
                "Parley PostgreSQL, 2 processes",
                attempt("Parley PostgreSQL, 2 processes", postgres_two),
            )
            save()
        stock_s = report.get("stock_rasa", {}).get("training_s")
        report["training"] = training_times(args.training_log, stock_s)
        if not args.skip_retrain:
            log("timing a dialogue-only retrain (rasa train core, into a temp dir)...")
            report["training"].update(time_core_retrain(workdir))
            log(f"training: {report['training']}")
        save()
    if not args.skip_profile:
        from bench import profile_turn

        result = profile_turn.run(conversations=6, long_turns=30, baseline=True)
        write_json(REPORT_DIR / "turn_profile.json", result)
        profile_turn.write_markdown(result, REPORT_DIR / "turn_profile.md")
    if not args.skip_micro:
        from bench.micro import run_micro

        log("micro-benchmarks...")
        report["micro"] = run_micro()
    save()
    log(f"summary written to {(REPORT_DIR / 'summary.md').relative_to(PROJECT_ROOT)}")
    for line in verdict(report):
        log(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
