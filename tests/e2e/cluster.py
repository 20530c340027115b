"""Several Rasa servers and action servers sharing one PostgreSQL database and one Redis.

Built from the pieces `parley serve` uses (bot.runtime.rasa_server, bot.runtime.action_server,
bot.serve.runtime_endpoints), so a test can choose the lock store: Parley's atomic one, or
Rasa's stock RedisLockStore as the control that must show the race.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.serve import runtime_endpoints
from bot.settings import PROJECT_ROOT
from tests.e2e.conftest import BALANCE, DOB, MODEL, PRODUCTION_SETTINGS, phone
from tests.services import PrivateRedis, free_port

TOKENS = {
    "RASA_AUTH_TOKEN": "cluster-rasa-token-0123456789abcdef",
    "PARLEY_REST_TOKEN": "cluster-rest-token-0123456789abcdef",
    "PARLEY_ACTIONS_SECRET": "cluster-actions-secret-0123456789ab",
    "PARLEY_CONSOLE_SECRET": "cluster-console-secret-0123456789ab",
}
READY_TIMEOUT_S = 600
PUBLIC_BASE_URL = "http://127.0.0.1:5005"


@dataclass
class Child:
    name: str
    process: subprocess.Popen[str]
    output: list[str] = field(default_factory=list)

    def pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line.rstrip())

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, 15)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait()


@dataclass
class Node:
    """One Rasa server and its action server."""

    rasa_url: str
    action_url: str
    children: list[Child]

    def chat(self, sender: str, text: str, timeout: float = 180) -> list[str]:
        request = urllib.request.Request(
            f"{self.rasa_url}/webhooks/rest/webhook",
            data=json.dumps({"sender": sender, "message": text}).encode(),
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {TOKENS['PARLEY_REST_TOKEN']}",
            },
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            assert response.status == 200
            return [m.get("text", "") for m in json.load(response)]

    def tracker(self, sender: str) -> dict[str, Any]:
        url = f"{self.rasa_url}/conversations/{sender}/tracker?token={TOKENS['RASA_AUTH_TOKEN']}"
        with urllib.request.urlopen(url, timeout=60) as response:
            return json.load(response)

    def output(self) -> str:
        return "\n".join(line for child in self.children for line in child.output[-60:])

    def twilio(self, form: dict[str, str]) -> tuple[int, str]:
        """A signed Twilio webhook (signed for PUBLIC_BASE_URL, as Twilio would)."""
        from twilio.request_validator import RequestValidator

        from tests.e2e.conftest import TWILIO_TOKEN

        path = "/webhooks/twilio/webhook"
        signature = RequestValidator(TWILIO_TOKEN).compute_signature(PUBLIC_BASE_URL + path, form)
        request = urllib.request.Request(
            self.rasa_url + path,
            data=urllib.parse.urlencode(form).encode(),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": signature,
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=180) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()


@dataclass
class Cluster:
    nodes: list[Node]
    env: dict[str, str]
    redis: PrivateRedis | None = None

    def parley(self, *args: str) -> Any:
        result = subprocess.run(
            [sys.executable, "-m", "bot.cli", *args],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout) if "--json" in args else result.stdout

    def agreements(self) -> list[dict[str, Any]]:
        return list(self.parley("agreements", "list", "--json"))


def cluster_env(workdir: Path, database_url: str, redis_url: str) -> dict[str, str]:
    env = {
        **os.environ,
        **PRODUCTION_SETTINGS,
        **TOKENS,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
        "PARLEY_SECRETS_DIR": str(workdir / "secrets"),
        "PYTHONUNBUFFERED": "1",
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "RASA_TELEMETRY_ENABLED": "false",
    }
    env.pop("PARLEY_DEBUG", None)
    return env


def import_accounts(env: dict[str, str], workdir: Path, count: int) -> None:
    rows = ["account_ref,name,phone,balance,currency,timezone,dob,creditor"]
    for n in range(count):
        rows.append(
            f"LOCK-{n:02d},Maria Lopez,{phone(n)},{BALANCE},USD,America/New_York,{DOB},"
            "Northwind Clinic"
        )
    csv = workdir / "accounts.csv"
    csv.write_text("\n".join(rows) + "\n")
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "accounts", "import", str(csv)],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr


def _endpoints(workdir: Path, action_port: int, lock: str, redis_port: int) -> Path:
    """Parley's endpoints for this action server, with the lock store the test asks for."""
    config = yaml.safe_load(runtime_endpoints(action_port, "redis").read_text())
    if lock == "stock":
        config["lock_store"] = {"type": "redis", "url": "127.0.0.1", "port": redis_port, "db": 0}
    path = workdir / f"endpoints-{action_port}.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def _start(name: str, command: list[str], env: dict[str, str]) -> Child:
    process = subprocess.Popen(
        command,
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    child = Child(name, process)
    threading.Thread(target=child.pump, daemon=True).start()
    return child


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return 200 <= response.status < 500
    except (urllib.error.URLError, OSError):
        return False


@contextlib.contextmanager
def running_cluster(
    workdir: Path,
    database_url: str,
    redis_url: str,
    redis_port: int,
    *,
    lock: str = "parley",
    size: int = 2,
) -> Iterator[Cluster]:
    """`size` pairs of a Rasa server and its action server on one database and one Redis;
    a conversation's messages go to any pair."""
    env = cluster_env(workdir, database_url, redis_url)
    model = workdir / "model.tar.gz"
    if not model.exists():
        shutil.copy(MODEL, model)  # read-only use of the shared model, safe from retraining
    nodes: list[Node] = []
    try:
        for index in range(size):
            rasa_port, action_port = free_port(), free_port()
            actions = _start(
                f"actions{index}",
                [sys.executable, "-m", "bot.runtime.action_server", "--port", str(action_port)],
                env,
            )
            rasa = _start(
                f"rasa{index}",
                [
                    sys.executable, "-m", "bot.runtime.rasa_server",
                    "--model", str(model),
                    "--endpoints", str(_endpoints(workdir, action_port, lock, redis_port)),
                    "--credentials", str(PROJECT_ROOT / "credentials.yml"),
                    "--interface", "127.0.0.1", "--port", str(rasa_port), "--enable-api",
                ],
                env,
            )  # fmt: skip
            nodes.append(
                Node(
                    f"http://127.0.0.1:{rasa_port}",
                    f"http://127.0.0.1:{action_port}",
                    [actions, rasa],
                )
            )
        deadline = time.monotonic() + READY_TIMEOUT_S
        for node in nodes:
            while not (_answers(node.rasa_url + "/") and _answers(node.action_url + "/health")):
                exited = [c for c in node.children if c.process.poll() is not None]
                if exited or time.monotonic() > deadline:
                    raise RuntimeError(f"the cluster did not start:\n{node.output()}")
                time.sleep(0.5)
        yield Cluster(nodes, env)
    finally:
        for node in nodes:
            for child in node.children:
                child.stop()


def user_and_bot_turns(tracker: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """(user text, bot texts that followed it) for each user message, in tracker order."""
    turns: list[tuple[str, list[str]]] = []
    for event in tracker["events"]:
        if event["event"] == "user":
            turns.append((event.get("text") or "", []))
        elif event["event"] == "bot" and turns:
            turns[-1][1].append(event.get("text") or "")
    return turns
