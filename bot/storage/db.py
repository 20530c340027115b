"""The one database session factory, and schema migrations applied on start."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Iterator
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


def safe_url(url: str) -> str:
    """The URL without its password, for messages and logs."""
    return sa.engine.make_url(url).render_as_string(hide_password=True)


def create_db_engine(url: str, *, future: bool = True) -> Engine:
    """An engine for `url`; SQLite gets WAL (synchronous=NORMAL), foreign keys, a busy
    timeout and a pool.

    Several processes (Rasa, the action server, the CLI) share one SQLite file, so
    writers wait for each other instead of failing with "database is locked".
    PostgreSQL gets a pool sized by the PARLEY_DB_POOL_* settings that tests each
    connection before use (pool_pre_ping), so a restarted server costs no failed turn
    once it answers again, and recycles connections before a proxy or firewall drops them.
    """
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///") :]
        pool: dict[str, Any] = {}
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            # SQLAlchemy 1.4 opens a new connection per session on a SQLite file (NullPool):
            # a file open and three pragmas each time, ~4 per turn in the Rasa server and
            # one per action call. Connections are kept instead (SQLAlchemy 2.0's default
            # for files); each is used by one thread at a time, between checkout and return.
            settings = get_settings()
            pool = {
                "poolclass": sa.pool.QueuePool,
                "pool_size": settings.db_pool_size,
                "max_overflow": settings.db_max_overflow,
                "pool_timeout": settings.db_pool_timeout_s,
            }
        engine = sa.create_engine(
            url,
            future=future,
            connect_args={"timeout": 30, "check_same_thread": False},
            **pool,
        )

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            # In WAL mode NORMAL syncs at checkpoints, not at every commit: a crash of any
            # process loses nothing and the file is never corrupted; only a power cut or
            # an OS crash may undo the last commits (docs/scale-out.md). FULL fsynced the
            # WAL on each of a turn's commits.
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    settings = get_settings()
    return sa.create_engine(
        url,
        future=future,
        pool_pre_ping=True,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_recycle=settings.db_pool_recycle_s,
        pool_timeout=settings.db_pool_timeout_s,
    )


def is_disconnect(exc: BaseException) -> bool:
    """Whether `exc` means the database could not be reached or dropped the connection
    (worth one retry), as opposed to an error in the statement itself."""
    if isinstance(exc, sa.exc.DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, sa.exc.OperationalError | sa.exc.InterfaceError)


async def await_database(url: str, timeout_s: float | None = None) -> bool:
    """Wait, without blocking the event loop, until `url` answers or `timeout_s` (default:
    PARLEY_DB_RETRY_WAIT_S) passes; returns whether it answers."""
    timeout_s = get_settings().db_retry_wait_s if timeout_s is None else timeout_s
    try:
        await asyncio.to_thread(
            wait_for_database, url, timeout_s, progress=logger.warning, interval_s=0.5
        )
    except DatabaseUnavailableError:
        return False
    return True


def wait_for_database(
    url: str,
    timeout_s: float | None = None,
    *,
    progress: Callable[[str], None] | None = None,
    interval_s: float = 1.0,
) -> None:
    """Return once `url` answers `SELECT 1`; DatabaseUnavailableError after `timeout_s`
    (default: PARLEY_DB_WAIT_S). `progress` gets a line about every five seconds."""
    if url.startswith("sqlite"):
        return
    timeout_s = get_settings().db_wait_s if timeout_s is None else timeout_s
    say = progress or logger.warning
    engine = sa.create_engine(url, future=True, poolclass=sa.pool.NullPool)
    started = time.monotonic()
    last_said = -1e9
    attempt = 0
    try:
        while True:
            attempt += 1
            try:
                with engine.connect() as connection:
                    connection.execute(sa.text("SELECT 1"))
                if attempt > 1:
                    say(f"database {safe_url(url)} answers after {attempt} attempts")
                return
            except sa.exc.DBAPIError as exc:
                waited = time.monotonic() - started
                reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
                if waited >= timeout_s:
                    raise DatabaseUnavailableError(
                        f"the database {safe_url(url)} did not answer within {timeout_s:g} s "
                        f"(PARLEY_DB_WAIT_S): {reason}"
                    ) from exc
                if time.monotonic() - last_said >= 5:
                    say(
                        f"waiting for the database {safe_url(url)} "
                        f"({waited:.0f} s of {timeout_s:g} s): {reason}"
                    )
                    last_said = time.monotonic()
                time.sleep(min(interval_s, max(0.0, timeout_s - waited)))
    finally:
        engine.dispose()


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
                f"cannot reach the database {safe_url(self.url)}: {exc.orig}"
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
                f"database error on {safe_url(self.url)}: {exc.orig}"
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
