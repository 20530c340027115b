"""Several processes refuse secrets generated per host (issue 15, item 4)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bot.security import require_shared_secrets, shared_secret_problems
from bot.settings import ConfigurationError, load_settings

SHARED = {
    "RASA_AUTH_TOKEN": "a" * 64,
    "PARLEY_ACTIONS_SECRET": "b" * 64,
    "PARLEY_REST_TOKEN": "c" * 64,
    "PARLEY_CONSOLE_SECRET": "d" * 64,
}


def test_one_process_may_generate_its_secrets() -> None:
    settings = load_settings({})
    assert shared_secret_problems(settings, 1, {}) == []
    require_shared_secrets(settings, None, {})  # no REDIS_URL: one process


def test_several_processes_need_every_secret_set() -> None:
    env = {"RASA_AUTH_TOKEN": "a" * 64, "PARLEY_REST_TOKEN": "changeme-changeme"}
    with pytest.raises(ConfigurationError) as caught:
        require_shared_secrets(load_settings(env), 3, env)
    message = str(caught.value)
    assert message.startswith("3 processes share this deployment")
    assert "PARLEY_ACTIONS_SECRET (not set)" in message
    assert "PARLEY_CONSOLE_SECRET (not set)" in message
    assert "PARLEY_REST_TOKEN (too short or a placeholder" in message
    assert "RASA_AUTH_TOKEN" not in message


def test_redis_means_several_processes() -> None:
    env = {"REDIS_URL": "redis://127.0.0.1:6379/1"}
    problems = shared_secret_problems(load_settings(env), None, env)
    assert len(problems) == 4
    env |= SHARED
    assert shared_secret_problems(load_settings(env), None, env) == []
    require_shared_secrets(load_settings(env), 4, env)


def parley(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PARLEY_", "RASA_", "REDIS"))}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "check", *args],
        capture_output=True,
        text=True,
        env={**base, "PARLEY_ENV": "development", **env},
        timeout=120,
    )


def test_parley_check_refuses_several_processes_without_shared_secrets() -> None:
    refused = parley({}, "--processes", "3")
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert "3 processes share this deployment" in refused.stderr
    assert "PARLEY_CONSOLE_SECRET (not set)" in refused.stderr
    assert parley({}).returncode == 0  # one process may generate its own
    accepted = parley(SHARED, "--processes", "3")
    assert accepted.returncode == 0, accepted.stderr
    assert "several processes (shared secrets set)" in accepted.stdout
