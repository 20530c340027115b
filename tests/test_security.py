"""Secrets, tokens and the settings production insists on (no servers needed here)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from bot.security import (
    SecretFileError,
    bearer_token,
    file_secret,
    is_loopback,
    production_problems,
    resolve_secret,
    token_matches,
)
from bot.serve import ServeError, check_mode, resolve_credentials
from bot.settings import ConfigurationError, load_settings

GOOD = {
    "TWILIO_ACCOUNT_SID": "AC" + "0123456789abcdef" * 2,
    "TWILIO_AUTH_TOKEN": "f" * 32,
    "TWILIO_SMS_FROM": "+12025550100",
    "PUBLIC_BASE_URL": "https://parley.northwind-clinic.test",
    "PARLEY_SUPPORT_PHONE": "+1 202 555 0111",
    "PARLEY_SUPPORT_URL": "https://northwind-clinic.test/verify",
    "PARLEY_CREDITOR_NAME": "Northwind Clinic",
}


def test_production_is_the_default_and_development_is_opt_in() -> None:
    assert load_settings({}).is_production
    assert not load_settings({"PARLEY_ENV": "Development"}).is_production
    with pytest.raises(ConfigurationError, match="PARLEY_ENV must be development or production"):
        load_settings({"PARLEY_ENV": "staging"})


def test_complete_production_settings_pass() -> None:
    assert production_problems(load_settings(GOOD)) == []


def test_missing_and_placeholder_settings_are_all_named_at_once() -> None:
    problems = production_problems(load_settings({"TWILIO_AUTH_TOKEN": "changeme"}))
    text = "; ".join(problems)
    for name in (
        "TWILIO_ACCOUNT_SID (missing)",
        "TWILIO_AUTH_TOKEN (a placeholder)",
        "TWILIO_SMS_FROM or TWILIO_WHATSAPP_FROM",
        "PUBLIC_BASE_URL (missing)",
        "PARLEY_SUPPORT_PHONE (still the placeholder '+1 555 010 0000')",
        "PARLEY_SUPPORT_URL (still the placeholder",
        "PARLEY_CREDITOR_NAME (still the placeholder 'Parley Recovery')",
    ):
        assert name in text
    assert len(problems) == 7


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("TWILIO_ACCOUNT_SID", "ACxxxxxxxx"),
        ("PUBLIC_BASE_URL", "https://parley.example.com"),
        ("PARLEY_SUPPORT_URL", "https://example.org/parley/verify"),
        ("PARLEY_SUPPORT_PHONE", "+1 555 010 0000"),
        ("PARLEY_CREDITOR_NAME", "<creditor name>"),
        ("TWILIO_SMS_FROM", "your-number"),
    ],
)
def test_each_placeholder_is_refused(key: str, value: str) -> None:
    problems = production_problems(load_settings({**GOOD, key: value}))
    assert len(problems) == 1 and key in problems[0]


def test_serve_refuses_production_with_one_line() -> None:
    with pytest.raises(ServeError) as error:
        check_mode(load_settings({}), "127.0.0.1")
    message = str(error.value)
    assert (
        "\n" not in message
        and "TWILIO_ACCOUNT_SID" in message
        and "PARLEY_CREDITOR_NAME" in message
    )
    assert check_mode(load_settings(GOOD), "0.0.0.0") == []  # production may listen wider


def test_development_is_loopback_only_and_warns() -> None:
    dev = load_settings({"PARLEY_ENV": "development"})
    [warning] = check_mode(dev, "127.0.0.1")
    assert "development mode" in warning and "loopback" in warning
    with pytest.raises(ServeError, match="only listens on loopback"):
        check_mode(dev, "0.0.0.0")


def test_generated_secrets_are_private_and_stable(tmp_path: Path) -> None:
    directory = tmp_path / "secrets"
    first = file_secret(directory, "rasa_auth_token")
    assert stat.S_IMODE(os.stat(directory / "rasa_auth_token").st_mode) == 0o600
    assert stat.S_IMODE(os.stat(directory).st_mode) == 0o700
    assert len(first.value) >= 32 and first.source == str(directory / "rasa_auth_token")
    assert file_secret(directory, "rasa_auth_token").value == first.value
    assert resolve_secret("from-env", directory, "rasa_auth_token").value == "from-env"


def test_a_secret_file_others_can_read_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "rest_token"
    path.write_text("a" * 40)
    path.chmod(0o644)
    with pytest.raises(SecretFileError, match="chmod 600"):
        file_secret(tmp_path, "rest_token")


def test_production_credentials_are_generated_and_development_leaves_the_api_open(
    tmp_path: Path,
) -> None:
    prod = resolve_credentials(load_settings({**GOOD, "PARLEY_SECRETS_DIR": str(tmp_path)}))
    assert prod.rasa_token and prod.rest_token and prod.actions_secret
    assert len({prod.rasa_token.value, prod.rest_token.value, prod.actions_secret.value}) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "actions_secret",
        "console_secret",  # signs the console's session cookies
        "rasa_auth_token",
        "rest_token",
    ]
    assert prod.console_secret and prod.console_secret.value not in {
        prod.rasa_token.value,
        prod.rest_token.value,
    }
    dev = resolve_credentials(load_settings({"PARLEY_ENV": "development"}))
    assert dev.rasa_token is None and dev.rest_token is None
    assert dev.actions_secret.value  # the action server is never open
    # Development writes no secret files: the console's cookie secret lasts one run.
    assert dev.console_secret and dev.console_secret.path is None


def test_tokens_compare_exactly() -> None:
    assert token_matches("s3cret", "s3cret")
    assert not token_matches("s3cret", "s3cret ") and not token_matches("s3cret", None)
    assert not token_matches(None, "") and not token_matches("", "")
    assert bearer_token("Bearer abc") == "abc" and bearer_token("bearer  abc ") == "abc"
    assert bearer_token("Basic abc") is None and bearer_token("Bearer") is None
    assert bearer_token(None) is None


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("localhost", True),
        ("::1", True),
        ("0.0.0.0", False),
        ("10.0.0.5", False),
    ],
)
def test_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_generated_secrets_never_look_like_a_flag(tmp_path: Path) -> None:
    """A token starting with "-" broke `rasa run --auth-token TOKEN` (1 start in 64)."""
    from bot.security import ephemeral_secret, new_secret

    values = [new_secret() for _ in range(500)] + [ephemeral_secret().value for _ in range(100)]
    values.append(file_secret(tmp_path, "x").value)
    assert all(len(v) == 64 and set(v) <= set("0123456789abcdef") for v in values)


def test_the_rasa_launcher_passes_a_dash_token_as_one_argument(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import sys

    import rasa.__main__

    from bot.runtime import rasa_server

    seen: list[str] = []
    monkeypatch.setenv("RASA_AUTH_TOKEN", "-starts-with-a-dash")
    monkeypatch.setattr(sys, "argv", ["rasa_server", "--port", "5005"])
    monkeypatch.setattr(rasa.__main__, "main", lambda: seen.extend(sys.argv))
    rasa_server.main()
    assert seen == ["rasa", "run", "--port", "5005", "--auth-token=-starts-with-a-dash"]
