"""Settings for several processes: pools, the wait for the database, the Redis lock store."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot import serve
from bot.settings import ConfigurationError, Settings, load_settings
from bot.storage import db
from tests.services import PrivateRedis, free_port, private_redis


def test_pool_settings_have_defaults_and_are_read() -> None:
    defaults = load_settings({})
    assert (defaults.db_pool_size, defaults.db_max_overflow) == (5, 10)
    assert (defaults.db_pool_recycle_s, defaults.db_pool_timeout_s, defaults.db_wait_s) == (
        1800,
        30,
        60,
    )
    settings = load_settings(
        {
            "PARLEY_DB_POOL_SIZE": "8",
            "PARLEY_DB_MAX_OVERFLOW": "0",
            "PARLEY_DB_POOL_RECYCLE_S": "300",
            "PARLEY_DB_POOL_TIMEOUT_S": "7",
            "PARLEY_DB_WAIT_S": "0",
        }
    )
    assert (settings.db_pool_size, settings.db_max_overflow, settings.db_wait_s) == (8, 0, 0)
    assert (settings.db_pool_recycle_s, settings.db_pool_timeout_s) == (300, 7)


@pytest.mark.parametrize(
    ("key", "raw", "message"),
    [
        ("PARLEY_DB_POOL_SIZE", "ten", "PARLEY_DB_POOL_SIZE must be a whole number (got 'ten')"),
        ("PARLEY_DB_POOL_SIZE", "0", "PARLEY_DB_POOL_SIZE must be at least 1 (got 0)"),
        ("PARLEY_DB_WAIT_S", "-1", "PARLEY_DB_WAIT_S must be at least 0 (got -1)"),
        ("REDIS_URL", "http://cache:6379", "REDIS_URL must start with redis://, rediss://"),
    ],
)
def test_bad_values_are_refused_with_the_setting_named(key: str, raw: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_settings({key: raw})


def test_postgres_engines_use_the_pool_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings({"PARLEY_DB_POOL_SIZE": "3", "PARLEY_DB_MAX_OVERFLOW": "2"})
    monkeypatch.setattr(db, "get_settings", lambda: settings)
    engine = db.create_db_engine("postgresql://postgres@127.0.0.1:1/none")
    pool = engine.pool
    assert pool.size() == 3 and pool._max_overflow == 2  # type: ignore[attr-defined]
    assert pool._pre_ping and pool._recycle == 1800  # type: ignore[attr-defined]
    engine.dispose()


def test_waiting_for_an_absent_database_ends_with_a_clear_error() -> None:
    port = free_port()
    lines: list[str] = []
    url = f"postgresql://postgres:hunter2@127.0.0.1:{port}/parley"
    with pytest.raises(db.DatabaseUnavailableError) as error:
        db.wait_for_database(url, 1.5, progress=lines.append, interval_s=0.2)
    message = str(error.value)
    assert (
        f"the database postgresql://postgres:***@127.0.0.1:{port}/parley did not answer" in message
    )
    assert "within 1.5 s (PARLEY_DB_WAIT_S)" in message and "hunter2" not in message
    assert lines and lines[0].startswith("waiting for the database postgresql://postgres:***@")


def _endpoints(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def test_serve_adds_the_lock_store_only_with_redis_url() -> None:
    port = free_port()
    with_redis = _endpoints(serve.runtime_endpoints(port, "redis://:pw@cache:6379/1"))
    assert with_redis["lock_store"] == {
        "type": "bot.storage.lock_store.AtomicRedisLockStore",
        "url": "${REDIS_URL}",  # Rasa reads it from the environment: no password on disk
    }
    assert with_redis["tracker_store"]["type"] == "bot.storage.tracker_store.ParleyTrackerStore"
    assert "lock_store" not in _endpoints(serve.runtime_endpoints(port))


def test_serve_checks_redis_before_starting(redis_server_for_serve: PrivateRedis) -> None:
    lines: list[str] = []
    ok = Settings(redis_url=redis_server_for_serve.url)
    label = serve.check_backing_services(ok, lines.append)
    assert label == f"the Redis lock store at redis://127.0.0.1:{redis_server_for_serve.port}/0"
    assert "in-memory lock" in serve.check_backing_services(Settings(), lines.append)
    down = Settings(redis_url=f"redis://127.0.0.1:{free_port()}/0")
    with pytest.raises(serve.ServeError, match="cannot reach the Redis lock store at redis://"):
        serve.check_backing_services(down, lines.append)


def test_serve_gives_up_on_an_absent_database() -> None:
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/parley"
    lines: list[str] = []
    with pytest.raises(serve.ServeError, match="did not answer within 0 s"):
        serve.check_backing_services(Settings(database_url=url, db_wait_s=0), lines.append)


@pytest.fixture
def redis_server_for_serve():  # type: ignore[no-untyped-def]
    with private_redis() as server:
        yield server


def test_parley_serve_refuses_an_unreachable_redis_in_one_line(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    model = tmp_path / "model.tar.gz"
    model.write_bytes(b"")  # serve stops before loading it
    port = free_port()
    env = {
        **os.environ,
        "PARLEY_ENV": "development",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'parley.db'}",
        "REDIS_URL": f"redis://:pw@127.0.0.1:{port}/0",
        "PARLEY_SECRETS_DIR": str(tmp_path / "secrets"),
    }
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "serve", "--model", str(model),
         "--rasa-port", str(free_port()), "--action-port", str(free_port()),
         "--console-port", str(free_port())],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(
        f"parley: error: cannot reach the Redis lock store at redis://127.0.0.1:{port}/0"
    )
    assert ":pw@" not in lines[0]
