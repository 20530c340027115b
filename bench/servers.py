"""The servers a benchmark drives: Parley (`parley serve`, production mode, a fake Twilio
API, a private SQLite file or PostgreSQL database) and a stock `rasa init` bot.

Everything listens on loopback ports chosen free; everything started here is stopped here.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.runtime.process import ServeProcess, start_serve
from bot.settings import PROJECT_ROOT

TWILIO_TOKEN = "bench-twilio-auth-token-0123456789"
TWILIO_SID = "AC" + "be0c" * 8
PRODUCTION_SETTINGS = {
    "PARLEY_ENV": "production",
    "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
    "TWILIO_ACCOUNT_SID": TWILIO_SID,
    "TWILIO_SMS_FROM": "+12025550100",
    "PARLEY_SUPPORT_PHONE": "+1 202 555 0111",
    "PARLEY_SUPPORT_URL": "https://northwind-clinic.test/verify",
    "PARLEY_CREDITOR_NAME": "Northwind Recovery",
}
DOB = "1985-03-14"
PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def log(message: str) -> None:
    print(f"[bench] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bench_phone(n: int) -> str:
    """The n-th benchmark debtor's number (+1 202 555 0000 to 9999)."""
    return f"+1202555{n:04d}"


def newest_model() -> Path:
    """PARLEY_BENCH_MODEL, or the newest model in models/ (a copy is safer on a machine
    where someone may retrain while the benchmark runs)."""
    chosen = os.environ.get("PARLEY_BENCH_MODEL")
    if chosen:
        return Path(chosen)
    models = sorted((PROJECT_ROOT / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not models:
        raise SystemExit("no trained model in models/: run `make model` first")
    return models[-1]


# --- memory ----------------------------------------------------------------------------


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces, so split after the last ')'.
        fields = stat.rsplit(")", 1)[-1].split()
        if len(fields) > 1 and int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def process_tree(pid: int) -> dict[str, int]:
    """A process and its descendants, by a short command label ("rasa", "actions#2"...)."""
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


def process_tree_rss(pid: int) -> dict[str, float]:
    """Resident memory (MB) of a process and every descendant, by a short command label."""
    return {
        label: value
        for label, process in process_tree(pid).items()
        if (value := rss_mb(process)) is not None
    }


def _label(words: list[str]) -> str:
    for marker, name in (
        ("bot.runtime.rasa_server", "rasa"),
        ("bot.runtime.action_server", "actions"),
        ("bot.console", "console"),
        ("serve", "parley serve"),
        ("run", "rasa run"),
    ):
        if marker in words:
            return name
    return Path(words[0]).name if words else "?"


# --- databases -------------------------------------------------------------------------


@contextlib.contextmanager
def postgres_database(name: str) -> Iterator[str]:
    """A private database on the shared PostgreSQL (created, then dropped)."""
    import sqlalchemy as sa

    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", future=True)
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        base = PG_ADMIN_URL.rsplit("/", 1)[0]
        yield f"{base}/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"
                ),
                {"n": name},
            )
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


# --- Parley ----------------------------------------------------------------------------


@dataclass
class Parley:
    """One or more `parley serve` processes sharing a database (and Redis, if given)."""

    rasa_urls: list[str]
    public_base_urls: list[str]
    env: dict[str, str]
    served: list[ServeProcess]
    secrets_dir: Path
    startup_s: list[float] = field(default_factory=list)
    rest_token: str = ""

    def memory(self) -> dict[str, float]:
        result: dict[str, float] = {}
        for n, served in enumerate(self.served, start=1):
            for key, value in process_tree_rss(served.process.pid).items():
                result[f"{key} (process {n})" if len(self.served) > 1 else key] = value
        return result

    def stop(self) -> None:
        for served in self.served:
            served.stop()


def accounts_csv(path: Path, start: int, count: int) -> None:
    rows = ["account_ref,name,phone,balance,currency,timezone,dob,creditor"]
    for n in range(start, start + count):
        rows.append(
            f"BENCH-{n:05d},Maria Lopez,{bench_phone(n)},1200.00,USD,America/New_York,{DOB},"
            "Northwind Clinic"
        )
    path.write_text("\n".join(rows) + "\n")


def parley_env(workdir: Path, database_url: str, twilio_base: str) -> dict[str, str]:
    env = {
        **os.environ,
        **PRODUCTION_SETTINGS,
        "DATABASE_URL": database_url,
        "PARLEY_SECRETS_DIR": str(workdir / "secrets"),
        "RASA_TELEMETRY_ENABLED": "false",
        "TWILIO_API_BASE": twilio_base,
        "PARLEY_INBOX_FILE": str(workdir / "inbox" / "reviewed.jsonl"),
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "LOG_LEVEL": "WARNING",
    }
    for name in (
        "PARLEY_DEBUG",
        "RASA_AUTH_TOKEN",
        "PARLEY_REST_TOKEN",
        "PARLEY_ACTIONS_SECRET",
        "PARLEY_CONSOLE_SECRET",
        "PARLEY_PROFILE_DIR",
        "REDIS_URL",
    ):
        env.pop(name, None)
    return env


def import_accounts(env: dict[str, str], csv: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "accounts", "import", str(csv)],
        env=env,
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
    )
    if result.returncode != 0:
        raise RuntimeError(f"parley accounts import failed: {result.stderr.strip()}")


def start_parley(
    workdir: Path,
    database_url: str,
    twilio_base: str,
    *,
    model: Path,
    accounts: int,
    processes: int = 1,
    extra_env: dict[str, str] | None = None,
) -> Parley:
    """Import `accounts` debtors and start `processes` copies of `parley serve`."""
    workdir.mkdir(parents=True, exist_ok=True)
    env = {**parley_env(workdir, database_url, twilio_base), **(extra_env or {})}
    csv = workdir / "accounts.csv"
    accounts_csv(csv, 0, accounts)
    import_accounts(env, csv)
    if processes > 1:
        # Several processes need the same credentials, set (not generated per process).
        env.update({name: secrets.token_hex(32) for name in SHARED_SECRETS})
    ports = [(free_port(), free_port(), free_port()) for _ in range(processes)]
    urls = [f"http://127.0.0.1:{rasa_port}" for rasa_port, _, _ in ports]
    served: list[ServeProcess | None] = [None] * processes
    startup: list[float] = [0.0] * processes
    failures: list[BaseException] = []

    def start(n: int) -> None:
        rasa_port, action_port, console_port = ports[n]
        begin = time.perf_counter()
        try:
            served[n] = start_serve(
                [
                    "--rasa-port", str(rasa_port),
                    "--action-port", str(action_port),
                    "--console-port", str(console_port),
                    "--model", str(model),
                ],
                {**env, "PUBLIC_BASE_URL": urls[n]},
            )  # fmt: skip
        except BaseException as exc:  # noqa: BLE001 - re-raised below, after the others
            failures.append(exc)
        startup[n] = round(time.perf_counter() - begin, 1)

    # Started together (each waits for its own ready line), as a deployment would.
    threads = [threading.Thread(target=start, args=(n,)) for n in range(processes)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    running = [one for one in served if one is not None]
    if failures:
        for one in running:
            one.stop()
        raise failures[0]
    rest_token = (
        env.get("PARLEY_REST_TOKEN") or (workdir / "secrets" / "rest_token").read_text().strip()
    )
    return Parley(urls, list(urls), env, running, workdir / "secrets", startup, rest_token)


SHARED_SECRETS = (
    "RASA_AUTH_TOKEN",
    "PARLEY_REST_TOKEN",
    "PARLEY_ACTIONS_SECRET",
    "PARLEY_CONSOLE_SECRET",
)


# --- stock Rasa ------------------------------------------------------------------------


def rasa_executable() -> str:
    return str(Path(sys.executable).with_name("rasa"))


def train_stock_bot(directory: Path) -> float:
    """`rasa init --no-prompt` in `directory` (it trains the default bot); seconds taken."""
    directory.mkdir(parents=True, exist_ok=True)
    begin = time.perf_counter()
    result = subprocess.run(
        [
            "nice",
            "-n",
            "10",
            rasa_executable(),
            "init",
            "--no-prompt",
            "--init-dir",
            str(directory),
        ],
        cwd=directory,
        capture_output=True,
        text=True,
        env={**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"},
    )
    elapsed = time.perf_counter() - begin
    if result.returncode != 0 or not list((directory / "models").glob("*.tar.gz")):
        raise RuntimeError(f"rasa init failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    return round(elapsed, 1)


@dataclass
class StockRasa:
    url: str
    process: subprocess.Popen[bytes]
    startup_s: float

    def memory(self) -> dict[str, float]:
        return process_tree_rss(self.process.pid)

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def start_stock_rasa(directory: Path, timeout: float = 300) -> StockRasa:
    """`rasa run --enable-api` on the stock bot, returned once it answers."""
    port = free_port()
    log_file = (directory / "rasa-run.log").open("wb")
    begin = time.perf_counter()
    process = subprocess.Popen(
        [rasa_executable(), "run", "--enable-api", "--interface", "127.0.0.1", "--port", str(port)],
        cwd=directory,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env={**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"},
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        if _model_ready(url):
            return StockRasa(url, process, round(time.perf_counter() - begin, 1))
        time.sleep(0.5)
    stock = StockRasa(url, process, 0.0)
    stock.stop()
    tail = (directory / "rasa-run.log").read_text(errors="replace")[-2000:]
    raise RuntimeError(f"stock rasa run did not become ready:\n{tail}")


def _model_ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/status", timeout=2) as response:
            import json

            status: dict[str, Any] = json.load(response)
            return bool(status.get("model_file"))
    except (urllib.error.URLError, OSError, ValueError):
        return False


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
