"""Who may reach what: the secrets the servers share, and the settings production needs.

Three credentials guard everything that can read or change a conversation:
- `RASA_AUTH_TOKEN`: Rasa's HTTP API (trackers, events, parse, pausing), as `?token=`;
- `PARLEY_ACTIONS_SECRET`: the action server, sent by Rasa as a header;
- `PARLEY_REST_TOKEN`: the REST channel, as `Authorization: Bearer ...`.
Twilio's webhook carries its own proof, `X-Twilio-Signature`. See docs/security.md.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bot.settings import (
    DEFAULT_CREDITOR_NAME,
    DEFAULT_SUPPORT_PHONE,
    DEFAULT_SUPPORT_URL,
    ConfigurationError,
    Settings,
)

ACTIONS_SECRET_HEADER = "X-Parley-Actions-Secret"
# (file name under PARLEY_SECRETS_DIR, environment variable) of each generated secret.
RASA_TOKEN = ("rasa_auth_token", "RASA_AUTH_TOKEN")
ACTIONS_SECRET = ("actions_secret", "PARLEY_ACTIONS_SECRET")
REST_TOKEN = ("rest_token", "PARLEY_REST_TOKEN")
CONSOLE_SECRET = ("console_secret", "PARLEY_CONSOLE_SECRET")

_PLACEHOLDER = re.compile(
    r"example\.(com|org|net)|changeme|change-me|change_me|placeholder|your[_-]|\bxxx|[<>]|\btodo\b",
    re.IGNORECASE,
)
_TWILIO_SID = re.compile(r"^AC[0-9a-fA-F]{32}$")


class SecretFileError(ConfigurationError):
    """A secret file exists but cannot be trusted (other users can read it) or read."""


@dataclass(frozen=True)
class Secret:
    """A credential and where it came from ("the environment" or a file path)."""

    value: str
    source: str
    path: Path | None = None


def new_secret() -> str:
    """256 random bits as 64 hex digits: safe in a header, a URL and a command line
    (a URL-safe token may start with "-", which argument parsers read as a flag)."""
    return secrets.token_hex(32)


def token_matches(expected: str | None, provided: str | None) -> bool:
    """Constant-time comparison; nothing matches an unset expectation."""
    if not expected or provided is None:
        return False
    return hmac.compare_digest(expected.encode(), provided.encode())


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, if that is what it is."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def file_secret(directory: Path, name: str) -> Secret:
    """The secret kept in `directory/name`, generated (mode 0600) on first use."""
    path = directory / name
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _existing_secret(path)
    value = new_secret()
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return Secret(value, str(path), path)


def _existing_secret(path: Path) -> Secret:
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise SecretFileError(
            f"{path} can be read by other users (mode {mode:o}); "
            f"run `chmod 600 {path}` or delete it to have a new one generated"
        )
    value = path.read_text().strip()
    if len(value) < 16:
        raise SecretFileError(f"{path} holds no usable secret; delete it to regenerate it")
    return Secret(value, str(path), path)


def resolve_secret(configured: str | None, directory: Path, name: str) -> Secret:
    """The configured secret if set, else the one kept (or generated) under `directory`."""
    if configured:
        return Secret(configured, "the environment")
    return file_secret(directory, name)


def ephemeral_secret() -> Secret:
    """A secret for this run only (development: internal links nobody types)."""
    return Secret(new_secret(), "generated for this run")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _placeholder(value: str | None, default: str | None = None) -> bool:
    return not value or value == default or bool(_PLACEHOLDER.search(value))


def production_problems(settings: Settings) -> list[str]:
    """Every setting production needs that is missing or still a placeholder."""
    problems: list[str] = []
    sid = settings.twilio_account_sid
    if not sid:
        problems.append("TWILIO_ACCOUNT_SID (missing)")
    elif not _TWILIO_SID.match(sid):
        problems.append("TWILIO_ACCOUNT_SID (not an account SID: AC followed by 32 hex digits)")
    token = settings.twilio_auth_token
    if not token:
        problems.append("TWILIO_AUTH_TOKEN (missing)")
    elif _placeholder(token) or len(token) < 16:
        problems.append("TWILIO_AUTH_TOKEN (a placeholder)")
    senders = [s for s in (settings.twilio_sms_from, settings.twilio_whatsapp_from) if s]
    if not senders:
        problems.append("TWILIO_SMS_FROM or TWILIO_WHATSAPP_FROM (neither is set)")
    elif any(_placeholder(s, DEFAULT_SUPPORT_PHONE) for s in senders):
        problems.append("TWILIO_SMS_FROM/TWILIO_WHATSAPP_FROM (a placeholder)")
    url = settings.public_base_url
    if not url:
        problems.append("PUBLIC_BASE_URL (missing)")
    elif not re.match(r"^https?://[^/\s]+", url) or _placeholder(url):
        problems.append("PUBLIC_BASE_URL (not the public http(s) URL Twilio calls)")
    for name, value, default in (
        ("PARLEY_SUPPORT_PHONE", settings.support_phone, DEFAULT_SUPPORT_PHONE),
        ("PARLEY_SUPPORT_URL", settings.support_url, DEFAULT_SUPPORT_URL),
        ("PARLEY_CREDITOR_NAME", settings.creditor_name, DEFAULT_CREDITOR_NAME),
    ):
        if not value:
            problems.append(f"{name} (missing)")
        elif _placeholder(value, default):
            problems.append(f"{name} (still the placeholder {value!r})")
    return problems


# Secrets every process of a deployment must share. One `parley serve` generates what is
# missing under PARLEY_SECRETS_DIR, which is fine for one host; a second host (or a second
# pod) would generate different ones, and its Rasa server, action server and console would
# then refuse each other's requests. With more than one process they must be set.
SHARED_SECRETS = (RASA_TOKEN, ACTIONS_SECRET, REST_TOKEN, CONSOLE_SECRET)


def shared_secret_problems(
    settings: Settings, processes: int | None = None, environ: Mapping[str, str] | None = None
) -> list[str]:
    """What is wrong with the shared secrets for a deployment of `processes` processes
    (default: several when REDIS_URL is set, since the lock store exists for them)."""
    if processes is None:
        processes = 2 if settings.redis_url else 1
    if processes <= 1:
        return []
    env = os.environ if environ is None else environ
    values = {
        RASA_TOKEN[1]: settings.rasa_auth_token,
        ACTIONS_SECRET[1]: settings.actions_secret,
        REST_TOKEN[1]: settings.rest_token,
        CONSOLE_SECRET[1]: (env.get(CONSOLE_SECRET[1]) or "").strip() or None,
    }
    problems = []
    for name, value in values.items():
        if not value:
            problems.append(f"{name} (not set)")
        elif len(value) < 16 or _PLACEHOLDER.search(value):
            problems.append(f"{name} (too short or a placeholder: use `openssl rand -hex 32`)")
    return problems


def require_shared_secrets(
    settings: Settings, processes: int | None = None, environ: Mapping[str, str] | None = None
) -> None:
    """Refuse to run several processes on secrets generated per host (one clear line)."""
    problems = shared_secret_problems(settings, processes, environ)
    if problems:
        count = processes if processes is not None else "several"
        raise ConfigurationError(
            f"{count} processes share this deployment, so each secret must be set to the "
            "same value everywhere, not generated per host: "
            + "; ".join(problems)
            + " (see docs/deploy.md, Several processes)"
        )
