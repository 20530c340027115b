"""`parley worker`: sends due outbox messages continuously.

Any number of workers share a PostgreSQL outbox: each claims a small batch (see
bot.messaging.outbox.claim_due), sends it at its numbers' rate, and claims again. On
SQLite one worker at a time may run: a second one is refused (a lock file beside the
database names the first one's PID). `parley outbox send` (cron) and the console's replies
take the same claims, so they run safely beside workers.

SIGTERM or SIGINT stops a worker gracefully: the message in flight is finished and
recorded, everything else it claimed is released at once for the other workers.
"""

from __future__ import annotations

import asyncio
import errno
import fcntl
import logging
import os
import signal
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import IO, TypeVar

import sqlalchemy as sa

from bot.messaging.outbox import (
    DEFAULT_LEASE,
    OutboxSender,
    claim_due,
    due_condition,
    new_worker_id,
    release_claims,
)
from bot.negotiation import Policy
from bot.storage import get_database
from bot.storage.models import OutboxMessage

logger = logging.getLogger("parley.worker")
T = TypeVar("T")

DEFAULT_BATCH = 10
DEFAULT_POLL_SECONDS = 2.0
SUMMARY_EVERY = timedelta(minutes=1)


class WorkerError(RuntimeError):
    """The worker cannot start (another one holds the SQLite outbox, Twilio unset...)."""


class SqliteWorkerLock:
    """One worker per SQLite database: an exclusive lock on `<database>.worker.lock`.

    The operating system drops the lock when the process ends, however it ends, so a crash
    never leaves a stale lock behind; the file keeps the holder's PID for the message.
    """

    def __init__(self, database_path: Path) -> None:
        self.database_path = database_path
        self.path = database_path.with_name(database_path.name + ".worker.lock")
        self._handle: IO[str] | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+")  # noqa: SIM115 - held for the worker's life
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                handle.close()
                raise
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            raise WorkerError(
                f"another parley worker (PID {holder}) is already sending from this SQLite "
                f"database ({self.database_path}); SQLite allows one "
                "worker: stop that one first, or move the outbox to PostgreSQL "
                "(DATABASE_URL=postgresql://...) to run several"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle.fileno(), fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None

    def __enter__(self) -> SqliteWorkerLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL (None for PostgreSQL and in-memory SQLite)."""
    if not url.startswith("sqlite:///"):
        return None
    path = url[len("sqlite:///") :]
    return Path(path) if path and path != ":memory:" else None


@dataclass
class WorkerStats:
    """What a worker did, for its progress lines and its exit summary."""

    counts: Counter[str] = field(default_factory=Counter)
    total: Counter[str] = field(default_factory=Counter)

    def add(self, status: str) -> None:
        self.counts[status] += 1
        self.total[status] += 1

    @staticmethod
    def describe(counts: Counter[str]) -> str:
        return ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "nothing"


class OutboxWorker:
    """The loop: claim a batch, send it, claim again; wait `poll_seconds` when idle."""

    def __init__(
        self,
        sender: OutboxSender,
        policy: Policy,
        *,
        batch: int = DEFAULT_BATCH,
        poll_seconds: float = DEFAULT_POLL_SECONDS,
        exit_when_idle: bool = False,
    ) -> None:
        if batch < 1:
            raise WorkerError("--batch must be at least 1")
        if poll_seconds <= 0:
            raise WorkerError("--poll must be more than 0 seconds")
        self.sender = sender
        self.policy = policy
        self.batch = batch
        self.poll_seconds = poll_seconds
        self.exit_when_idle = exit_when_idle
        self.stats = WorkerStats()

    @property
    def worker_id(self) -> str:
        return self.sender.worker_id

    def request_stop(self) -> None:
        """Stop after the message in flight (signal handlers call this)."""
        if not self.sender.stop.is_set():
            logger.info("stopping: finishing the message in flight, releasing the rest")
        self.sender.stop.set()

    def due_count(self) -> int:
        with get_database().session() as session:
            return int(
                session.execute(
                    sa.select(sa.func.count(OutboxMessage.id)).where(
                        due_condition(self.sender.clock.now())
                    )
                ).scalar_one()
            )

    async def run(self) -> WorkerStats:
        clock = self.sender.clock
        stop = self.sender.stop
        last_summary = clock.now()
        while not stop.is_set():
            ids = claim_due(self.worker_id, clock.now(), limit=self.batch, lease=self.sender.lease)
            for position, message_id in enumerate(ids):
                if stop.is_set():
                    released = release_claims(self.worker_id, ids[position:])
                    logger.info("released %d claimed message(s) for other workers", released)
                    break
                result = await self.sender.process_claimed(message_id, self.policy)
                self.stats.add(result.status)
            if clock.now() - last_summary >= SUMMARY_EVERY:
                logger.info(
                    "last %d s: %s; %d due now",
                    int((clock.now() - last_summary).total_seconds()),
                    self.stats.describe(self.stats.counts),
                    self.due_count(),
                )
                self.stats.counts.clear()
                last_summary = clock.now()
            if not ids:
                if self.exit_when_idle:
                    break
                await clock.sleep(self.poll_seconds, stop)
        release_claims(self.worker_id)
        return self.stats


def run_worker(
    policy: Policy,
    *,
    batch: int = DEFAULT_BATCH,
    poll_seconds: float = DEFAULT_POLL_SECONDS,
    lease: timedelta = DEFAULT_LEASE,
    exit_when_idle: bool = False,
) -> WorkerStats:
    """`parley worker`: refuse what cannot work, then loop until SIGTERM/SIGINT."""
    sender = OutboxSender.from_settings(worker_id=new_worker_id(), lease=lease)
    settings = sender.settings
    if sender.client is None:
        raise WorkerError(
            "Twilio is not configured: set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN "
            "(and TWILIO_SMS_FROM and/or TWILIO_WHATSAPP_FROM) before starting a worker"
        )
    if not (settings.twilio_sms_from or settings.twilio_whatsapp_from):
        raise WorkerError("set TWILIO_SMS_FROM and/or TWILIO_WHATSAPP_FROM: there is no sender")
    worker = OutboxWorker(
        sender, policy, batch=batch, poll_seconds=poll_seconds, exit_when_idle=exit_when_idle
    )
    path = sqlite_path(settings.database_url)
    lock = SqliteWorkerLock(path) if path is not None else None
    if lock is not None:
        lock.acquire()
    try:
        database = get_database()
        logger.info(
            "worker %s started on %s: %s, batches of %d, lease %d s%s",
            worker.worker_id,
            "PostgreSQL" if database.dialect == "postgresql" else f"SQLite {path}",
            sender.rate.describe(),
            batch,
            int(lease.total_seconds()),
            "; exits when nothing is due" if exit_when_idle else "; SIGTERM or Ctrl-C stops it",
        )
        stats = asyncio.run(run_until_signalled(worker.run(), worker.request_stop))
        logger.info("worker %s stopped: %s", worker.worker_id, stats.describe(stats.total))
        return stats
    finally:
        if lock is not None:
            lock.release()


async def run_until_signalled(work: Awaitable[T], request_stop: Callable[[], None]) -> T:
    """Await `work` with SIGTERM and SIGINT turned into `request_stop()` (a graceful
    stop: the send in flight finishes, claims are released) instead of an exception."""
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, request_stop)
    try:
        return await work
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
