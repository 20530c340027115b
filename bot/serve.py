"""`parley serve`: the Rasa server and the action server as one command.

Each child's output is prefixed with its name; a readiness line with the URLs is
printed once both answer; Ctrl-C (or SIGTERM) stops everything cleanly.
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
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.settings import PROJECT_ROOT, get_settings

READY_TIMEOUT_S = 300


class ServeError(RuntimeError):
    """The servers cannot start; the message says why."""


@dataclass
class Child:
    name: str
    command: list[str]
    health_url: str
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


def _port_free(port: int) -> bool:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("0.0.0.0", port))
        except OSError:
            return False
    return True


def runtime_endpoints(action_port: int) -> Path:
    """endpoints.yml with the action server URL on the chosen port."""
    config = yaml.safe_load((PROJECT_ROOT / "endpoints.yml").read_text()) or {}
    config["action_endpoint"] = {"url": f"http://localhost:{action_port}/webhook"}
    run_dir = PROJECT_ROOT / "var" / "run"
    run_dir.mkdir(parents=True, exist_ok=True)
    # One file per action port, so two servers (a dev one and a test one) never clash.
    path = run_dir / f"endpoints-{action_port}.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def build_children(rasa_port: int, action_port: int, model: Path) -> list[Child]:
    python = sys.executable
    rasa_command = [
        python, "-m", "rasa", "run",
        "--model", str(model),
        "--endpoints", str(runtime_endpoints(action_port)),
        "--credentials", str(PROJECT_ROOT / "credentials.yml"),
        "--port", str(rasa_port),
        "--enable-api",
    ]  # fmt: skip
    token = os.environ.get("RASA_AUTH_TOKEN")
    if token:
        rasa_command += ["--auth-token", token]
    return [
        Child(
            "actions",
            [python, "-m", "rasa_sdk", "--actions", "actions", "--port", str(action_port)],
            f"http://localhost:{action_port}/health",
        ),
        Child("rasa", rasa_command, f"http://localhost:{rasa_port}/"),
    ]


def serve(rasa_port: int = 5005, action_port: int = 5055, model: str | None = None) -> int:
    """Run until interrupted; returns the exit status."""
    from bot.storage import get_database
    from bot.training import MODEL_PATH

    settings = get_settings()
    model_path = Path(model) if model else MODEL_PATH
    if not model_path.exists():
        raise ServeError(
            f"no trained model at {model_path}; run `make run` or `parley train` first"
        )
    for port in (rasa_port, action_port):
        if not _port_free(port):
            raise ServeError(
                f"port {port} is already in use; stop what runs there or choose another port"
            )
    get_database()  # apply migrations once, before the children race to do it
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "PYTHONUNBUFFERED": "1",
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "RASA_TELEMETRY_ENABLED": "false",
    }
    children = build_children(rasa_port, action_port, model_path)
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
    print(f"[parley] starting with the model {model_path.name} and {db_label}", flush=True)
    try:
        for child in children:
            child.process = subprocess.Popen(
                child.command,
                cwd=PROJECT_ROOT,
                env=env,
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
                    f"[parley] ready: Rasa http://localhost:{rasa_port} "
                    f"(POST /webhooks/rest/webhook, /webhooks/twilio/webhook), "
                    f"actions http://localhost:{action_port}. Press Ctrl-C to stop.",
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
