"""The one database session factory, and schema migrations applied on start."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.settings import get_settings

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


class DatabaseUnavailableError(RuntimeError):
    """The database cannot be reached; the message says which one (without the password)."""


def _safe_url(url: str) -> str:
    return repr(sa.engine.make_url(url))  # repr masks the password


def create_db_engine(url: str, *, future: bool = True) -> Engine:
    """An engine for `url`; SQLite gets WAL, foreign keys and a busy timeout.

    Several processes (Rasa, the action server, the CLI) share one SQLite file, so
    writers wait for each other instead of failing with "database is locked".
    """
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///") :]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(
            url, future=future, connect_args={"timeout": 30, "check_same_thread": False}
        )

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    return sa.create_engine(url, future=future, pool_pre_ping=True)


def alembic_config(url: str) -> Config:
    """An Alembic config pointing at the packaged migrations (no alembic.ini needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser interpolation: a literal % in a password must be doubled.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


class Database:
    """An engine plus its session factory; one per database URL in a process."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_db_engine(url)
        self._sessions = sessionmaker(bind=self.engine, future=True, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def migrate(self) -> None:
        """Bring the schema to the newest migration (idempotent)."""
        try:
            with self.engine.begin() as connection:
                config = alembic_config(self.url)
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
        except sa.exc.OperationalError as exc:
            raise DatabaseUnavailableError(
                f"cannot reach the database {_safe_url(self.url)}: {exc.orig}"
            ) from exc

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction: commits on success, rolls back on any error."""
        session = self._sessions()
        try:
            yield session
            session.commit()
        except sa.exc.OperationalError as exc:
            session.rollback()
            raise DatabaseUnavailableError(
                f"database error on {_safe_url(self.url)}: {exc.orig}"
            ) from exc
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()


_databases: dict[str, Database] = {}
_migrated: set[str] = set()
_lock = threading.Lock()


def get_database(url: str | None = None, *, migrate: bool = True) -> Database:
    """The process-wide Database for `url` (default: settings), migrated on first use."""
    url = url or get_settings().database_url
    with _lock:
        database = _databases.get(url)
        if database is None:
            database = Database(url)
            _databases[url] = database
        if migrate and url not in _migrated:
            database.migrate()
            _migrated.add(url)
    return database


def reset_databases() -> None:
    """Forget cached engines (tests switch databases between runs)."""
    with _lock:
        for database in _databases.values():
            database.dispose()
        _databases.clear()
        _migrated.clear()
