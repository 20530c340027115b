"""Shared fixtures: real databases (SQLite file and PostgreSQL), never mocks."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.storage import Database, reset_databases
from tests.services import missing_service

POSTGRES_ADMIN_URL = os.environ.get(
    "PARLEY_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)

_postgres_reason: str | None = None


def _postgres_available() -> str | None:
    """None when the server answers, else the reason (printed in the skip message)."""
    global _postgres_reason
    if _postgres_reason is None:
        try:
            engine = sa.create_engine(
                POSTGRES_ADMIN_URL, future=True, connect_args={"connect_timeout": 3}
            )
            with engine.connect() as conn:
                conn.execute(sa.text("select 1"))
            engine.dispose()
            _postgres_reason = ""
        except Exception as exc:  # noqa: BLE001
            _postgres_reason = (
                f"PostgreSQL at {POSTGRES_ADMIN_URL} does not answer ({type(exc).__name__}): "
                "the PostgreSQL variants of the database tests are skipped, the SQLite ones "
                "still run; start a server or point PARLEY_TEST_POSTGRES_URL at one"
            )
    return _postgres_reason or None


@pytest.fixture(scope="session")
def postgres_server() -> str:
    reason = _postgres_available()
    if reason:
        missing_service(reason)
    return POSTGRES_ADMIN_URL


def create_postgres_database(admin_url: str) -> str:
    name = f"parley_test_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(admin_url, future=True, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return str(sa.engine.make_url(admin_url).set(database=name))


def drop_postgres_database(admin_url: str, url: str) -> None:
    name = sa.engine.make_url(url).database
    engine = sa.create_engine(admin_url, future=True, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(
            sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = :name AND pid <> pg_backend_pid()"
            ),
            {"name": name},
        )
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
    engine.dispose()


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test."""
    url = create_postgres_database(postgres_server)
    try:
        yield url
    finally:
        reset_databases()
        drop_postgres_database(postgres_server, url)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> Iterator[str]:
    yield f"sqlite:///{tmp_path / 'parley.db'}"
    reset_databases()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each storage test runs on SQLite and on the real PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'parley.db'}"
        reset_databases()
    else:
        yield request.getfixturevalue("postgres_url")


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    """A migrated database (SQLite or PostgreSQL)."""
    database = Database(database_url)
    database.migrate()
    yield database
    database.dispose()


@pytest.fixture
def env_database(monkeypatch: pytest.MonkeyPatch, database_url: str) -> Iterator[str]:
    """Point the process settings (DATABASE_URL) at the test database."""
    from bot.settings import get_settings

    monkeypatch.setenv("DATABASE_URL", database_url)
    get_settings.cache_clear()
    reset_databases()
    yield database_url
    get_settings.cache_clear()
    reset_databases()
