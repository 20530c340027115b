"""`parley serve`: the Rasa server, the action server and the operator console as one command.

Each child's output is prefixed with its name; a readiness line with the URLs (and
where the credentials come from) is printed once both answer; Ctrl-C (or SIGTERM) stops
everything cleanly. Production (the default) refuses placeholder settings and guards
every server with a credential; development (`make run`) is loopback-only.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.security import (
    ACTIONS_SECRET,
    ACTIONS_SECRET_HEADER,
    CONSOLE_SECRET,
    RASA_TOKEN,
    REST_TOKEN,
    Secret,
    ephemeral_secret,
    is_loopback,
    production_problems,
    resolve_secret,
)
from bot.settings import PROJECT_ROOT, Settings, get_settings

READY_TIMEOUT_S = 300


class ServeError(RuntimeError):
    """The servers cannot start; the message says why."""


@dataclass
class Child:
    name: str
    command: list[str]
    health_url: str
    # Environment only this child gets (the console's cookie-signing secret).
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    threads: list[threading.Thread] = field(default_factory=list)


def _pump(child: Child, stream: object) -> None:
    for raw in iter(stream.readline, b""):  # type: ignore[attr-defined]
        line = raw.decode("utf-8", "replace").rstrip()
        if line:
            print(f"[{child.name}] {line}", flush=True)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback
            return 200 <= response.status < 500
    except (urllib.error.URLError, OSError):
        return False


def _port_free(host: str, port: int) -> bool:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


LOCK_STORE_CLASS = "bot.storage.lock_store.AtomicRedisLockStore"


def runtime_endpoints(action_port: int, redis_url: str | None = None) -> Path:
    """endpoints.yml with the action server URL on the chosen port, and its secret; with
    `redis_url` (REDIS_URL), Parley's atomic Redis lock store, so several Rasa servers can
    share conversations (docs/scale-out.md). Without it Rasa keeps its in-memory lock,
    which serialises turns within one process only.

    The secret and the Redis URL are written as `${PARLEY_ACTIONS_SECRET}` and
    `${REDIS_URL}`: Rasa fills them in from the environment when it reads the file, so
    neither value (a Redis URL may carry a password) lands under var/.
    """
    config = yaml.safe_load((PROJECT_ROOT / "endpoints.yml").read_text()) or {}
    config["action_endpoint"] = {
        "url": f"http://127.0.0.1:{action_port}/webhook",
        "headers": {ACTIONS_SECRET_HEADER: "${PARLEY_ACTIONS_SECRET}"},
    }
    if redis_url:
        config["lock_store"] = {"type": LOCK_STORE_CLASS, "url": "${REDIS_URL}"}
    else:
        config.pop("lock_store", None)
    run_dir = PROJECT_ROOT / "var" / "run"
    run_dir.mkdir(parents=True, exist_ok=True)
    # One file per action port, so two servers (a dev one and a test one) never clash.
    path = run_dir / f"endpoints-{action_port}.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def build_children(
    host: str,
    rasa_port: int,
    action_port: int,
    model: Path,
    console_port: int | None = None,
    console_env: dict[str, str] | None = None,
    redis_url: str | None = None,
) -> list[Child]:
    python = sys.executable
    rasa_command = [
        python, "-m", "bot.runtime.rasa_server",
        "--model", str(model),
        "--endpoints", str(runtime_endpoints(action_port, redis_url)),
        "--credentials", str(PROJECT_ROOT / "credentials.yml"),
        "--interface", host,
        "--port", str(rasa_port),
        "--enable-api",
    ]  # fmt: skip
    action_command = [
        python, "-m", "bot.runtime.action_server",
        "--host", host, "--port", str(action_port),
    ]  # fmt: skip
    children = [
        Child("actions", action_command, f"http://127.0.0.1:{action_port}/health"),
        Child("rasa", rasa_command, f"http://127.0.0.1:{rasa_port}/"),
    ]
    if console_port is not None:
        console_command = [
            python, "-m", "bot.console", "--host", host, "--port", str(console_port),
        ]  # fmt: skip
        children.append(
            Child(
                "console",
                console_command,
                # The login page is the console's only open route: its health check.
                f"http://127.0.0.1:{console_port}/login",
                env={
                    # The console calls Rasa's API and REST channel on loopback.
                    "PARLEY_RASA_URL": f"http://127.0.0.1:{rasa_port}",
                    **(console_env or {}),
                },
            )
        )
    return children


@dataclass(frozen=True)
class Credentials:
    """What guards the servers in this run (None: open, development only)."""

    rasa_token: Secret | None
    actions_secret: Secret
    rest_token: Secret | None
    # Signs the console's session cookies; only the console gets it.
    console_secret: Secret | None = None

    def environment(self) -> dict[str, str]:
        env = {"PARLEY_ACTIONS_SECRET": self.actions_secret.value}
        if self.rasa_token:
            env["RASA_AUTH_TOKEN"] = self.rasa_token.value
        if self.rest_token:
            env["PARLEY_REST_TOKEN"] = self.rest_token.value
        return env

    def describe(self) -> str:
        def where(label: str, secret: Secret | None, open_text: str) -> str:
            return f"{label} {'from ' + secret.source if secret else open_text}"

        parts = [
            where("API token", self.rasa_token, "not required (development)"),
            where("REST bearer token", self.rest_token, "not required (development)"),
        ]
        if self.console_secret:
            source = self.console_secret.source
            parts.append(
                "console cookie secret "
                + (source if source.startswith("generated") else f"from {source}")
            )
        return "; ".join(parts)


def resolve_credentials(settings: Settings) -> Credentials:
    """Production: every credential, generated under PARLEY_SECRETS_DIR when not set.
    Development: only what is configured, plus a secret for the action server."""
    directory = settings.secrets_dir
    if settings.is_production:
        return Credentials(
            rasa_token=resolve_secret(settings.rasa_auth_token, directory, RASA_TOKEN[0]),
            actions_secret=resolve_secret(settings.actions_secret, directory, ACTIONS_SECRET[0]),
            rest_token=resolve_secret(settings.rest_token, directory, REST_TOKEN[0]),
            console_secret=_console_secret(directory),
        )
    return Credentials(
        rasa_token=Secret(settings.rasa_auth_token, "the environment")
        if settings.rasa_auth_token
        else None,
        actions_secret=Secret(settings.actions_secret, "the environment")
        if settings.actions_secret
        else ephemeral_secret(),
        rest_token=Secret(settings.rest_token, "the environment") if settings.rest_token else None,
        # Development writes no secret files: console logins last as long as the run.
        console_secret=_development_console_secret(),
    )


def _development_console_secret() -> Secret:
    configured = _configured_console_secret()
    return Secret(configured, "the environment") if configured else ephemeral_secret()


def _configured_console_secret() -> str | None:
    return os.environ.get(CONSOLE_SECRET[1], "").strip() or None


def _console_secret(directory: Path) -> Secret:
    """PARLEY_CONSOLE_SECRET, or the one kept (generated on first start) under
    PARLEY_SECRETS_DIR, so console logins survive a restart."""
    return resolve_secret(_configured_console_secret(), directory, CONSOLE_SECRET[0])


def check_mode(settings: Settings, host: str) -> list[str]:
    """Refuse what the mode does not allow; returns the warning lines to print."""
    if settings.is_production:
        problems = production_problems(settings)
        if problems:
            raise ServeError(
                "production settings missing or still placeholders: "
                + "; ".join(problems)
                + " (set them in the environment or .env; for local use, PARLEY_ENV=development)"
            )
        return []
    if not is_loopback(host):
        raise ServeError(
            f"development mode only listens on loopback (asked for {host}); "
            "use PARLEY_ENV=production, with its tokens, to listen on other interfaces"
        )
    return [
        "[parley] WARNING: development mode: Rasa's API and the REST channel answer without "
        "a token (loopback only), and placeholder settings may reach test conversations. "
        "Never expose this server; `parley serve` defaults to production."
    ]


def check_backing_services(settings: Settings, say: Callable[[str], None] = print) -> str:
    """Wait for the database (PARLEY_DB_WAIT_S) and check the Redis lock store; returns
    the lock's description for the start line. ServeError with the reason otherwise."""
    from bot.storage.db import DatabaseUnavailableError, wait_for_database

    try:
        wait_for_database(
            settings.database_url,
            settings.db_wait_s,
            progress=lambda line: say(f"[parley] {line}"),
        )
    except DatabaseUnavailableError as exc:
        raise ServeError(str(exc)) from exc
    if not settings.redis_url:
        return "the in-memory lock (one Rasa process; set REDIS_URL to share conversations)"
    from bot.storage.lock_store import AtomicRedisLockStore, LockStoreUnavailableError

    try:
        store = AtomicRedisLockStore(url=settings.redis_url)
    except LockStoreUnavailableError as exc:
        raise ServeError(str(exc)) from exc
    store.red.close()
    return f"the Redis lock store at {store.where}"


def serve(
    rasa_port: int = 5005,
    action_port: int = 5055,
    model: str | None = None,
    host: str | None = None,
    console_port: int | None = 8000,
) -> int:
    """Run until interrupted; returns the exit status."""
    from bot.storage import get_database
    from bot.training import MODEL_PATH

    settings = get_settings()
    host = host or settings.host
    warnings = check_mode(settings, host)
    model_path = Path(model) if model else MODEL_PATH
    if not model_path.exists():
        raise ServeError(
            f"no trained model at {model_path}; run `make run` or `parley train` first"
        )
    for port in (rasa_port, action_port, *([console_port] if console_port is not None else [])):
        if not _port_free(host, port):
            raise ServeError(
                f"port {port} is already in use; stop what runs there or choose another port"
            )
    credentials = resolve_credentials(settings)
    lock_label = check_backing_services(settings)
    get_database()  # apply migrations once, before the children race to do it
    env = {
        **os.environ,
        **credentials.environment(),
        "PARLEY_ENV": settings.env,
        "DATABASE_URL": settings.database_url,
        "PYTHONUNBUFFERED": "1",
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "RASA_TELEMETRY_ENABLED": "false",
        # Rasa reads the lock store's URL from here (endpoints.yml says ${REDIS_URL}).
        **({"REDIS_URL": settings.redis_url} if settings.redis_url else {}),
    }
    console_env = (
        {CONSOLE_SECRET[1]: credentials.console_secret.value} if credentials.console_secret else {}
    )
    children = build_children(
        host,
        rasa_port,
        action_port,
        model_path,
        console_port,
        console_env=console_env,
        redis_url=settings.redis_url,
    )
    stopping = threading.Event()

    def stop(*_: object) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    db_label = (
        "SQLite " + settings.database_url.split("///", 1)[-1]
        if settings.is_sqlite
        else "PostgreSQL"
    )
    print(
        f"[parley] starting in {settings.env} mode with the model {model_path.name}, "
        f"{db_label} and {lock_label}",
        flush=True,
    )
    for line in warnings:
        print(line, flush=True)
    try:
        for child in children:
            child.process = subprocess.Popen(
                child.command,
                cwd=PROJECT_ROOT,
                env={**env, **child.env},
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            thread = threading.Thread(target=_pump, args=(child, child.process.stdout), daemon=True)
            thread.start()
            child.threads.append(thread)
        deadline = time.monotonic() + READY_TIMEOUT_S
        ready = False
        while not stopping.is_set():
            for child in children:
                assert child.process is not None
                if child.process.poll() is not None:
                    print(
                        f"[parley] {child.name} exited with status {child.process.returncode}; stopping",
                        flush=True,
                    )
                    return 1
            if not ready and all(_answers(c.health_url) for c in children):
                ready = True
                print(
                    f"[parley] ready ({settings.env}): Rasa http://{host}:{rasa_port} "
                    f"(POST /webhooks/rest/webhook, /webhooks/twilio/webhook), "
                    f"actions http://{host}:{action_port}"
                    + (
                        f", console http://{host}:{console_port}"
                        if console_port is not None
                        else ""
                    )
                    + f"; {credentials.describe()}. "
                    "Press Ctrl-C to stop.",
                    flush=True,
                )
            if not ready and time.monotonic() > deadline:
                print(
                    f"[parley] servers did not answer within {READY_TIMEOUT_S} s; stopping",
                    flush=True,
                )
                return 1
            stopping.wait(0.5)
        print("[parley] stopping...", flush=True)
        return 0
    finally:
        _stop_all(children)


def _stop_all(children: list[Child]) -> None:
    for child in children:
        if child.process and child.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.process.pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    for child in children:
        if child.process is None:
            continue
        try:
            child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.process.pid, signal.SIGKILL)
            child.process.wait()
        for thread in child.threads:
            thread.join(timeout=2)
    print("[parley] stopped.", flush=True)
