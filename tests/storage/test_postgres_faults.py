"""PostgreSQL stopped and restarted under Parley, on a private cluster the tests start
(initdb as the postgres user, a free port): never the machine's shared server.

What must hold: a restart between turns costs nothing (pool_pre_ping); a write cut by a
restart is rolled back whole and retried once, so no agreement is half-written or stored
twice; a turn that arrives while the database is down waits for it up to
PARLEY_DB_RETRY_WAIT_S, then fails loudly instead of starting the conversation afresh.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Iterator
from decimal import Decimal

import pytest
import sqlalchemy as sa
from rasa.core.tracker_store import FailSafeTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.settings import get_settings
from bot.storage import AccountRepository, Database, DatabaseUnavailableError, reset_databases
from bot.storage.db import wait_for_database
from bot.storage.models import Agreement, AuditEntry, Installment
from bot.storage.tracker_store import ParleyTrackerStore, TrackerStoreUnavailableError
from tests.services import PrivatePostgres, private_postgres
from tests.storage.test_one_active_agreement import agree
from tests.storage.test_repositories import make_row

WRITERS = 3
ACCOUNTS_PER_WRITER = 40


@pytest.fixture(scope="module")
def pg() -> Iterator[PrivatePostgres]:
    with private_postgres() as server:
        yield server


@pytest.fixture
def on_pg(pg: PrivatePostgres, monkeypatch: pytest.MonkeyPatch) -> Iterator[PrivatePostgres]:
    """Parley's settings point at the private cluster (and it is running)."""
    if not pg.is_running():
        pg.start()
    monkeypatch.setenv("DATABASE_URL", pg.url)
    monkeypatch.setenv("PARLEY_DB_RETRY_WAIT_S", "30")
    get_settings.cache_clear()
    reset_databases()
    yield pg
    if not pg.is_running():
        pg.start()
    get_settings.cache_clear()
    reset_databases()


def _tracker(sender: str, *texts: str) -> DialogueStateTracker:
    events: list = [ActionExecuted("action_listen")]
    for text in texts:
        events += [
            UserUttered(text),
            BotUttered(f"you said {text}"),
            ActionExecuted("action_listen"),
        ]
    return DialogueStateTracker.from_events(sender, events)


def _fresh_schema(url: str) -> Database:
    database = Database(url)
    with database.engine.begin() as connection:
        connection.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    database.migrate()
    return database


def test_a_restart_between_turns_costs_no_failure(on_pg: PrivatePostgres) -> None:
    database = _fresh_schema(on_pg.url)
    with database.session() as session:
        AccountRepository(session).upsert_many([make_row("PG-1")])
    store = ParleyTrackerStore(domain=Domain.empty())
    asyncio.run(store.save(_tracker("+12025550501", "hello")))
    on_pg.restart()  # every pooled connection is now dead
    with database.session() as session:
        assert AccountRepository(session).require("PG-1").account_ref == "PG-1"
    tracker = asyncio.run(store.retrieve("+12025550501"))
    assert tracker is not None and tracker.latest_message.text == "hello"
    database.dispose()


def test_agreements_written_through_restarts_are_whole_and_stored_once(
    on_pg: PrivatePostgres,
) -> None:
    database = _fresh_schema(on_pg.url)
    refs = [f"PG-{w}-{n}" for w in range(WRITERS) for n in range(ACCOUNTS_PER_WRITER)]
    with database.session() as session:
        AccountRepository(session).upsert_many(
            [make_row(ref, balance=Decimal("300.00")) for ref in refs]
        )
    outcomes: dict[str, str] = {}

    def write(worker: int) -> None:
        for n in range(ACCOUNTS_PER_WRITER):
            ref = f"PG-{worker}-{n}"
            try:
                agree(database, ref, f"conv:{ref}", total="300.00", count=3)
                outcomes[ref] = "first try"
            except DatabaseUnavailableError:
                # What the action server does: wait for the database, run once more.
                wait_for_database(on_pg.url, 30)
                try:
                    agree(database, ref, f"conv:{ref}", total="300.00", count=3)
                    outcomes[ref] = "retried"
                except DatabaseUnavailableError as exc:
                    outcomes[ref] = f"failed twice: {exc}"
            time.sleep(0.1)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(WRITERS)]
    for thread in threads:
        thread.start()
    restarts = 0
    # Two restarts while the writers write, far enough apart that a retry after the first
    # does not meet the second (that would be two outages in one turn).
    for pause in (1.0, 2.5):
        time.sleep(pause)
        if any(t.is_alive() for t in threads):
            on_pg.restart()
            restarts += 1
    for thread in threads:
        thread.join(timeout=180)
    assert restarts == 2
    assert sorted(outcomes) == sorted(refs)
    assert {r: o for r, o in outcomes.items() if o.startswith("failed")} == {}
    with database.session() as session:
        agreements = session.execute(sa.select(Agreement)).scalars().all()
        per_account = {a.account_id for a in agreements}
        assert len(agreements) == len(refs) == len(per_account)  # one each, none twice
        for agreement in agreements:
            amounts = [i.amount for i in agreement.installments]
            assert len(amounts) == 3 and sum(amounts) == Decimal("300.00") == agreement.total
        created = session.execute(
            sa.select(sa.func.count()).where(AuditEntry.action == "agreement_created")
        ).scalar_one()
        orphans = session.execute(
            sa.select(sa.func.count())
            .select_from(Installment)
            .where(~Installment.agreement_id.in_(sa.select(Agreement.id)))
        ).scalar_one()
    assert created == len(refs) and orphans == 0
    print(f"{len(refs)} agreements through {restarts} restarts: "
          f"{sum(o == 'retried' for o in outcomes.values())} retried once")  # fmt: skip
    database.dispose()


def test_a_turn_while_the_database_is_down_waits_then_fails_loudly(
    on_pg: PrivatePostgres, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    _fresh_schema(on_pg.url).dispose()
    monkeypatch.setenv("PARLEY_DB_RETRY_WAIT_S", "1")
    get_settings.cache_clear()
    store = ParleyTrackerStore(domain=Domain.empty())
    asyncio.run(store.save(_tracker("+12025550502", "hello")))
    on_pg.stop()
    # Rasa wraps every tracker store so; it must not turn the outage into a new conversation.
    wrapped = FailSafeTrackerStore(store)
    with caplog.at_level(logging.WARNING, "bot.storage"):
        with pytest.raises(TrackerStoreUnavailableError, match="cannot be reached"):
            asyncio.run(wrapped.retrieve("+12025550502"))
        with pytest.raises(TrackerStoreUnavailableError):
            asyncio.run(wrapped.save(_tracker("+12025550502", "hello", "second")))
    lines = [r.getMessage() for r in caplog.records]
    assert any("reading the conversation for +1*******502 failed" in line for line in lines)
    assert any("failed twice" in line and "NOT processed" in line for line in lines)
    assert all("2025550502" not in line for line in lines)
    # Back again: the same process reads the stored conversation, nothing was lost.
    on_pg.start()
    tracker = asyncio.run(wrapped.retrieve("+12025550502"))
    assert tracker is not None and [e.text for e in tracker.events if e.type_name == "user"] == [
        "hello"
    ]


def test_a_turn_cut_by_a_restart_completes_on_its_one_retry(on_pg: PrivatePostgres) -> None:
    _fresh_schema(on_pg.url).dispose()
    store = ParleyTrackerStore(domain=Domain.empty())
    asyncio.run(store.save(_tracker("+12025550503", "first")))
    on_pg.stop()
    starter = threading.Timer(1.5, on_pg.start)
    starter.start()
    try:
        asyncio.run(store.save(_tracker("+12025550503", "first", "second")))
    finally:
        starter.join()
    tracker = asyncio.run(store.retrieve("+12025550503"))
    assert tracker is not None
    assert [e.text for e in tracker.events if e.type_name == "user"] == ["first", "second"]
