"""The one settings object: configuration from the environment (or `.env`)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from dotenv import dotenv_values

# The repository root: the package is installed in editable mode, so paths such as
# `var/`, `models/` and `policies/` resolve here whatever the caller's working directory.
PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SQLITE_PATH = PROJECT_ROOT / "var" / "parley.db"


class ConfigurationError(RuntimeError):
    """A setting is missing or malformed; the message says which and how to fix it."""


PRODUCTION = "production"
DEVELOPMENT = "development"
ENVIRONMENTS = (DEVELOPMENT, PRODUCTION)
DEFAULT_HOST = "127.0.0.1"
DEFAULT_SECRETS_DIR = PROJECT_ROOT / "var" / "secrets"
# Stand-ins that let a development bot talk; production refuses to send them to debtors.
DEFAULT_CREDITOR_NAME = "Parley Recovery"
DEFAULT_SUPPORT_PHONE = "+1 555 010 0000"
DEFAULT_SUPPORT_URL = "https://example.org/parley/verify"
# PostgreSQL connection pools, per process (docs/scale-out.md): a Rasa server, an action
# server and the console each hold up to pool_size + max_overflow connections.
DEFAULT_DB_POOL_SIZE = 5
DEFAULT_DB_MAX_OVERFLOW = 10
DEFAULT_DB_POOL_RECYCLE_S = 1800
DEFAULT_DB_POOL_TIMEOUT_S = 30
# How long a server waits for the database to answer at start before giving up.
DEFAULT_DB_WAIT_S = 60
# A turn whose database connection dropped waits this long for it, then retries once.
DEFAULT_DB_RETRY_WAIT_S = 10


def _default_database_url() -> str:
    return f"sqlite:///{DEFAULT_SQLITE_PATH}"


@dataclass(frozen=True)
class Settings:
    """Runtime configuration. Build with :func:`load_settings`, never by hand in app code."""

    database_url: str = field(default_factory=_default_database_url)
    policy_file: Path = PROJECT_ROOT / "policies" / "default.yml"
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_sms_from: str | None = None
    twilio_whatsapp_from: str | None = None
    twilio_whatsapp_template_sid: str | None = None
    twilio_api_base: str | None = None
    public_base_url: str | None = None
    redis_url: str | None = None
    creditor_name: str = DEFAULT_CREDITOR_NAME
    support_phone: str = DEFAULT_SUPPORT_PHONE
    support_url: str = DEFAULT_SUPPORT_URL
    # Secure by default: production unless PARLEY_ENV=development says otherwise
    # (`make run` does); see docs/security.md.
    env: str = PRODUCTION
    host: str = DEFAULT_HOST
    rasa_auth_token: str | None = None
    actions_secret: str | None = None
    rest_token: str | None = None
    secrets_dir: Path = DEFAULT_SECRETS_DIR
    db_pool_size: int = DEFAULT_DB_POOL_SIZE
    db_max_overflow: int = DEFAULT_DB_MAX_OVERFLOW
    db_pool_recycle_s: int = DEFAULT_DB_POOL_RECYCLE_S
    db_pool_timeout_s: int = DEFAULT_DB_POOL_TIMEOUT_S
    db_wait_s: int = DEFAULT_DB_WAIT_S
    db_retry_wait_s: int = DEFAULT_DB_RETRY_WAIT_S
    project_root: Path = PROJECT_ROOT
    # Outbound messages per second from one sending number, shared by every worker, and how
    # many may go at once after a quiet spell (docs/deploy.md, "Outbound workers").
    send_rate_per_second: float = 1.0
    send_burst: int = 1

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def is_production(self) -> bool:
        return self.env == PRODUCTION


_ENV_KEYS = {
    "DATABASE_URL": "database_url",
    "POLICY_FILE": "policy_file",
    "TWILIO_ACCOUNT_SID": "twilio_account_sid",
    "TWILIO_AUTH_TOKEN": "twilio_auth_token",
    "TWILIO_SMS_FROM": "twilio_sms_from",
    "TWILIO_WHATSAPP_FROM": "twilio_whatsapp_from",
    "TWILIO_WHATSAPP_TEMPLATE_SID": "twilio_whatsapp_template_sid",
    "TWILIO_API_BASE": "twilio_api_base",
    "PUBLIC_BASE_URL": "public_base_url",
    "REDIS_URL": "redis_url",
    "PARLEY_CREDITOR_NAME": "creditor_name",
    "PARLEY_SUPPORT_PHONE": "support_phone",
    "PARLEY_SUPPORT_URL": "support_url",
    "PARLEY_ENV": "env",
    "PARLEY_HOST": "host",
    "RASA_AUTH_TOKEN": "rasa_auth_token",
    "PARLEY_ACTIONS_SECRET": "actions_secret",
    "PARLEY_REST_TOKEN": "rest_token",
    "PARLEY_SECRETS_DIR": "secrets_dir",
    "PARLEY_SEND_RATE": "send_rate_per_second",
    "PARLEY_SEND_BURST": "send_burst",
    "PARLEY_DB_POOL_SIZE": "db_pool_size",
    "PARLEY_DB_MAX_OVERFLOW": "db_max_overflow",
    "PARLEY_DB_POOL_RECYCLE_S": "db_pool_recycle_s",
    "PARLEY_DB_POOL_TIMEOUT_S": "db_pool_timeout_s",
    "PARLEY_DB_WAIT_S": "db_wait_s",
    "PARLEY_DB_RETRY_WAIT_S": "db_retry_wait_s",
}
# Whole-number settings and the smallest value each accepts.
_INT_SETTINGS = {
    "db_pool_size": ("PARLEY_DB_POOL_SIZE", 1),
    "db_max_overflow": ("PARLEY_DB_MAX_OVERFLOW", 0),
    "db_pool_recycle_s": ("PARLEY_DB_POOL_RECYCLE_S", 1),
    "db_pool_timeout_s": ("PARLEY_DB_POOL_TIMEOUT_S", 1),
    "db_wait_s": ("PARLEY_DB_WAIT_S", 0),
    "db_retry_wait_s": ("PARLEY_DB_RETRY_WAIT_S", 0),
}
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


def normalise_database_url(url: str) -> str:
    """Accept the common `postgres://` spelling and make relative SQLite paths absolute."""
    url = url.strip()
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        path = url[len("sqlite:///") :]
        if path and path != ":memory:" and not Path(path).is_absolute():
            url = f"sqlite:///{(PROJECT_ROOT / path).resolve()}"
    if not (url.startswith("sqlite") or url.startswith("postgresql")):
        raise ConfigurationError(
            f"DATABASE_URL must start with sqlite:/// or postgresql:// (got {url.split(':')[0]}:...)"
        )
    return url


def _number(name: str, raw: str, kind: type[float] | type[int], unit: str) -> float | int:
    try:
        value = kind(raw)
    except ValueError:
        value = 0
    if not value > 0:
        raise ConfigurationError(f"{name} must be a number of {unit} above 0 (got {raw!r})")
    return value


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Read settings from `environ` (default: the process environment over `.env`)."""
    if environ is None:
        file_values = {
            k: v for k, v in dotenv_values(PROJECT_ROOT / ".env").items() if v is not None
        }
        environ = {**file_values, **os.environ}
    values: dict[str, object] = {}
    for env_key, attr in _ENV_KEYS.items():
        raw = environ.get(env_key)
        if raw is None or raw.strip() == "":
            continue
        values[attr] = raw.strip()
    if "database_url" in values:
        values["database_url"] = normalise_database_url(str(values["database_url"]))
    if "policy_file" in values:
        path = Path(str(values["policy_file"]))
        values["policy_file"] = path if path.is_absolute() else PROJECT_ROOT / path
    if "env" in values:
        env = str(values["env"]).lower()
        if env not in ENVIRONMENTS:
            raise ConfigurationError(
                f"PARLEY_ENV must be development or production (got {values['env']!r})"
            )
        values["env"] = env
    if "secrets_dir" in values:
        path = Path(str(values["secrets_dir"]))
        values["secrets_dir"] = path if path.is_absolute() else PROJECT_ROOT / path
    if "send_rate_per_second" in values:
        values["send_rate_per_second"] = _number(
            "PARLEY_SEND_RATE", str(values["send_rate_per_second"]), float, "messages per second"
        )
    if "send_burst" in values:
        values["send_burst"] = _number(
            "PARLEY_SEND_BURST", str(values["send_burst"]), int, "messages"
        )
    for attr, (env_key, minimum) in _INT_SETTINGS.items():
        if attr in values:
            values[attr] = _whole_number(env_key, str(values[attr]), minimum)
    if "redis_url" in values and not str(values["redis_url"]).startswith(REDIS_SCHEMES):
        raise ConfigurationError(
            "REDIS_URL must start with redis://, rediss:// or unix:// "
            f"(got {str(values['redis_url']).split(':')[0]}:...)"
        )
    if "public_base_url" in values:
        values["public_base_url"] = str(values["public_base_url"]).rstrip("/")
    return Settings(**values)  # type: ignore[arg-type]


def _whole_number(env_key: str, raw: str, minimum: int) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise ConfigurationError(f"{env_key} must be a whole number (got {raw!r})") from None
    if value < minimum:
        raise ConfigurationError(f"{env_key} must be at least {minimum} (got {value})")
    return value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return load_settings()
