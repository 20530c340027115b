"""A real Parley (Rasa server + action server, trained model) on a throwaway database.

Started once per test session with `parley serve` on free ports, in production mode (the
default) with complete settings: the API token and the REST bearer token are generated
into a private secrets folder, and the tests read them from there as an operator would.
Conversations go over real HTTP to the REST and Twilio webhooks; outcomes are read back
with the `parley` CLI.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.runtime.process import ServeNotReadyError, start_serve
from bot.settings import PROJECT_ROOT
from tests.fakes.twilio_api import FakeTwilioApi

MODEL = PROJECT_ROOT / "models" / "parley.tar.gz"
TWILIO_TOKEN = "e2e-twilio-auth-token-0123456789"
TWILIO_SID = "AC" + "e2e0" * 8
# Production refuses placeholders, so the test bot gets real-looking values of its own.
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
BALANCE = "1200.00"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def phone(n: int) -> str:
    """A valid US number per test conversation (+1 202 555 0100-0199)."""
    return f"+1202555{100 + n:04d}"


@dataclass
class RunningBot:
    rasa_url: str
    env: dict[str, str]
    database_url: str
    output: list[str]
    secrets_dir: Path
    action_url: str = ""
    console_url: str = ""
    twilio: FakeTwilioApi | None = None

    def secret(self, name: str) -> str:
        """A credential `parley serve` generated (rasa_auth_token, rest_token, ...)."""
        return (self.secrets_dir / name).read_text().strip()

    def chat(self, sender: str, text: str, metadata: dict[str, Any] | None = None) -> list[str]:
        """One debtor message over POST /webhooks/rest/webhook; the bot's texts back."""
        body: dict[str, Any] = {"sender": sender, "message": text}
        if metadata:
            body["metadata"] = metadata
        request = urllib.request.Request(
            f"{self.rasa_url}/webhooks/rest/webhook",
            data=json.dumps(body).encode(),
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {self.secret('rest_token')}",
            },
        )
        with urllib.request.urlopen(request, timeout=120) as response:
            assert response.status == 200
            return [m.get("text", "") for m in json.load(response)]

    def api(self, path: str) -> str:
        """A Rasa HTTP API URL with the API token."""
        separator = "&" if "?" in path else "?"
        return f"{self.rasa_url}{path}{separator}token={self.secret('rasa_auth_token')}"

    def parse(self, text: str) -> dict[str, Any]:
        """The NLU result for one message over POST /model/parse (no conversation state)."""
        request = urllib.request.Request(
            self.api("/model/parse"),
            data=json.dumps({"text": text}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=120) as response:
            assert response.status == 200
            result: dict[str, Any] = json.load(response)
            return result

    def talk(self, sender: str, *texts: str) -> list[list[str]]:
        return [self.chat(sender, t) for t in texts]

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

    def account(self, ref: str) -> dict[str, Any]:
        return self.parley("accounts", "show", ref, "--json")

    def agreements(self, ref: str) -> list[dict[str, Any]]:
        return [a for a in self.parley("agreements", "list", "--json") if a["account_ref"] == ref]

    def tracker(self, sender: str) -> dict[str, Any]:
        with urllib.request.urlopen(self.api(f"/conversations/{sender}/tracker"), timeout=60) as r:
            return json.load(r)


def _accounts_csv(path: Path, count: int) -> None:
    rows = ["account_ref,name,phone,balance,currency,timezone,dob,creditor"]
    for n in range(count):
        rows.append(
            f"E2E-{n:02d},Maria Lopez,{phone(n)},{BALANCE},USD,America/New_York,{DOB},Northwind Clinic"
        )
    path.write_text("\n".join(rows) + "\n")


@pytest.fixture(scope="session")
def bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningBot]:
    if not MODEL.exists():
        pytest.fail(
            f"no trained model at {MODEL}: run `make test` (it trains first) or `parley train`"
        )
    workdir = tmp_path_factory.mktemp("e2e")
    rasa_port, action_port, console_port = free_port(), free_port(), free_port()
    # Messages people send from the console go to a fake of Twilio's API, never the cloud.
    twilio = FakeTwilioApi().__enter__()
    database_url = f"sqlite:///{workdir / 'parley.db'}"
    secrets_dir = workdir / "secrets"
    env = {
        **os.environ,
        **PRODUCTION_SETTINGS,
        "DATABASE_URL": database_url,
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{rasa_port}",
        "PARLEY_SECRETS_DIR": str(secrets_dir),
        "RASA_TELEMETRY_ENABLED": "false",
        "TWILIO_API_BASE": twilio.base_url,
        "PARLEY_INBOX_FILE": str(workdir / "inbox" / "reviewed.jsonl"),
    }
    for name in (
        "PARLEY_DEBUG",
        "RASA_AUTH_TOKEN",
        "PARLEY_REST_TOKEN",
        "PARLEY_ACTIONS_SECRET",
        "PARLEY_CONSOLE_SECRET",
    ):
        env.pop(name, None)  # generated by `parley serve`, as on a first production start
    csv = workdir / "accounts.csv"
    _accounts_csv(csv, 60)
    imported = subprocess.run(
        [sys.executable, "-m", "bot.cli", "accounts", "import", str(csv)],
        env=env,
        capture_output=True,
        text=True,
    )
    assert imported.returncode == 0, imported.stderr
    try:
        served = start_serve(
            [
                "--rasa-port", str(rasa_port),
                "--action-port", str(action_port),
                "--console-port", str(console_port),
            ],
            env,
        )  # fmt: skip
    except ServeNotReadyError as exc:
        twilio.__exit__(None, None, None)
        pytest.fail(str(exc))
    try:
        yield RunningBot(
            f"http://127.0.0.1:{rasa_port}",
            env,
            database_url,
            served.output,
            secrets_dir,
            action_url=f"http://127.0.0.1:{action_port}",
            console_url=f"http://127.0.0.1:{console_port}",
            twilio=twilio,
        )
    finally:
        served.stop()  # what Ctrl-C does
        twilio.__exit__(None, None, None)
