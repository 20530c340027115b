"""`parley serve`'s two modes, as a user meets them on the command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from bot.runtime.process import serving
from tests.e2e.conftest import MODEL, free_port

pytestmark = pytest.mark.e2e

SETTINGS = (
    "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_SMS_FROM", "TWILIO_WHATSAPP_FROM",
    "PUBLIC_BASE_URL", "PARLEY_SUPPORT_PHONE", "PARLEY_SUPPORT_URL", "PARLEY_CREDITOR_NAME",
    "RASA_AUTH_TOKEN", "PARLEY_REST_TOKEN", "PARLEY_ACTIONS_SECRET", "PARLEY_ENV", "PARLEY_HOST",
)  # fmt: skip


def bare_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of someone who has configured nothing (no .env either)."""
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS and k != "PARLEY_DEBUG"}
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'parley.db'}",
        PARLEY_SECRETS_DIR=str(tmp_path / "secrets"),
        **extra,
    )
    return env


def serve(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "serve", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_with_placeholders_refuses_in_one_line(tmp_path: Path) -> None:
    env = bare_env(
        tmp_path, TWILIO_AUTH_TOKEN="changeme", PARLEY_SUPPORT_URL="https://example.org/x"
    )
    result = serve(env, "--rasa-port", str(free_port()), "--action-port", str(free_port()))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("parley: error: production settings")
    for name in (
        "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN (a placeholder)", "TWILIO_SMS_FROM",
        "PUBLIC_BASE_URL", "PARLEY_SUPPORT_PHONE", "PARLEY_SUPPORT_URL", "PARLEY_CREDITOR_NAME",
    ):  # fmt: skip
        assert name in lines[0]
    assert not (tmp_path / "secrets").exists()  # nothing generated for a refused start


def test_development_refuses_to_listen_beyond_loopback(tmp_path: Path) -> None:
    env = bare_env(tmp_path, PARLEY_ENV="development")
    result = serve(env, "--host", "0.0.0.0", "--rasa-port", str(free_port()))
    assert result.returncode == 1
    assert "development mode only listens on loopback" in result.stderr


def test_development_mode_keeps_the_quick_start_open_on_loopback(tmp_path: Path) -> None:
    """What `make run` gives: no tokens for the API or the REST channel, one warning."""
    if not MODEL.exists():
        pytest.fail(f"no trained model at {MODEL}: run `make test` (it trains first)")
    rasa_port = free_port()
    env = bare_env(tmp_path, PARLEY_ENV="development")
    args = ["--rasa-port", str(rasa_port), "--action-port", str(free_port()),
            "--console-port", str(free_port())]  # fmt: skip
    with serving(args, env) as served:
        assert any("WARNING: development mode" in line for line in served.output)
        assert "ready (development)" in served.ready_line
        base = f"http://127.0.0.1:{rasa_port}"
        message = json.dumps({"sender": "+14155550123", "message": "hi"}).encode()
        request = urllib.request.Request(
            f"{base}/webhooks/rest/webhook",
            data=message,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=120) as response:
            assert response.status == 200 and json.load(response)
        with urllib.request.urlopen(f"{base}/conversations/+14155550123/tracker", timeout=60) as r:
            assert json.load(r)["sender_id"] == "+14155550123"
        assert not (tmp_path / "secrets").exists()  # development writes no secret files
