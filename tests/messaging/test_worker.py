"""`parley worker`: several workers on one PostgreSQL outbox, the SQLite single-worker
rule, the per-number rate, the gate at send time, and Twilio misbehaving (5xx, no answer,
accepted then dropped), all against a real database and the fake Twilio API on loopback.

Time in the in-process tests is a ManualClock the worker sleeps on (no wall-clock waits);
the multi-process tests run real `parley worker` processes on the real clock and assert
only counts, never durations.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import pytest
import sqlalchemy as sa

from bot.accounts.csv_import import AccountRow
from bot.messaging.clock import ManualClock
from bot.messaging.outbox import (
    RECONCILE_AFTER,
    OutboxResult,
    OutboxSender,
    claim_due,
    queue_outreach,
)
from bot.messaging.rate_limit import SendRate, reserve_slot
from bot.messaging.worker import OutboxWorker, SqliteWorkerLock, WorkerError
from bot.negotiation import load_policy
from bot.settings import get_settings
from bot.storage import AccountRepository, get_database, reset_databases
from bot.storage.delivery import record_status_callback
from bot.storage.models import OutboxMessage
from tests.conftest import create_postgres_database, drop_postgres_database
from tests.fakes.twilio_api import FakeTwilioApi

NY = ZoneInfo("America/New_York")
NOON = datetime(2026, 11, 28, 12, 0, tzinfo=NY).astimezone(timezone.utc)
SMS_FROM = "+15005550006"
WA_FROM = "whatsapp:+15005550007"
TABLES = (
    "outbox_sender_slots",
    "outbox",
    "audit_log",
    "account_events",
    "account_flags",
    "identity_attempts",
    "installments",
    "agreements",
    "accounts",
)


@pytest.fixture(scope="module")
def module_postgres(postgres_server: str) -> Iterator[str]:
    """One fresh PostgreSQL database for this module, dropped after it."""
    url = create_postgres_database(postgres_server)
    try:
        yield url
    finally:
        reset_databases()
        drop_postgres_database(postgres_server, url)


def _twilio_env(api: FakeTwilioApi, database_url: str, rate: str) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "TWILIO_ACCOUNT_SID": "ACtest",
        "TWILIO_AUTH_TOKEN": "secret",
        "TWILIO_SMS_FROM": SMS_FROM,
        "TWILIO_WHATSAPP_FROM": WA_FROM,
        "TWILIO_WHATSAPP_TEMPLATE_SID": "HXtemplate",
        "TWILIO_API_BASE": api.base_url,
        "PUBLIC_BASE_URL": "https://parley.example.org",
        "PARLEY_SEND_RATE": rate,
        "PARLEY_SEND_BURST": "1",
    }


@pytest.fixture
def pg(module_postgres: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTwilioApi]:
    """The module's PostgreSQL database, emptied, and a fake Twilio; 1 message/s."""
    with FakeTwilioApi() as api:
        for key, value in _twilio_env(api, module_postgres, "1").items():
            monkeypatch.setenv(key, value)
        get_settings.cache_clear()
        reset_databases()
        database = get_database()
        with database.session() as session:
            session.execute(sa.text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
        yield api
        get_settings.cache_clear()
        reset_databases()


def add_accounts(
    count: int, *, zone: str = "America/New_York", channel: str = "sms", start: int = 0
) -> list[str]:
    rows = [
        AccountRow(
            i + 2,
            f"{channel.upper()}-{i:03d}",
            f"Debtor{i} Example",
            f"+1202555{i:04d}",
            Decimal("100.00"),
            "USD",
            zone,
            date(1980, 1, 1),
            channel=channel,
        )
        for i in range(start, start + count)
    ]
    with get_database().session() as session:
        AccountRepository(session).upsert_many(rows)
    return [row.phone for row in rows]


def rows() -> list[OutboxMessage]:
    with get_database().session() as session:
        return list(session.execute(sa.select(OutboxMessage).order_by(OutboxMessage.id)).scalars())


def make_sender(
    clock: ManualClock, *, worker_id: str = "test-worker", rate: SendRate | None = None
) -> OutboxSender:
    sender = OutboxSender.from_settings(clock=clock, worker_id=worker_id, rate=rate)
    assert sender.client is not None
    sender.client.backoff_seconds = 0.01
    sender.client.timeout = aiohttp.ClientTimeout(total=0.5)
    return sender


def work(sender: OutboxSender) -> None:
    """One worker run until nothing is due (at the sender's clock)."""
    policy = load_policy(get_settings().policy_file)
    asyncio.run(OutboxWorker(sender, policy, exit_when_idle=True).run())


# --- the rate per sending number ----------------------------------------------------


def test_one_message_per_second_per_number_and_numbers_are_independent(
    pg: FakeTwilioApi,
) -> None:
    sms = add_accounts(6)
    add_accounts(3, channel="whatsapp", start=50)
    queue_outreach(load_policy(get_settings().policy_file), NOON)
    clock = ManualClock(NOON)
    work(make_sender(clock))
    sent = rows()
    assert [r.status for r in sent] == ["sent"] * 9
    assert len(pg.created) == 9
    for number in ("sms", "whatsapp"):
        times = sorted(r.sent_at for r in sent if r.channel == number)
        gaps = [(b - a).total_seconds() for a, b in zip(times, times[1:], strict=False)]
        assert all(gap >= 1.0 for gap in gaps), (number, gaps)
    # Six SMS at 1/s take 5 s; the WhatsApp number did not add to them.
    sms_times = sorted(r.sent_at for r in sent if r.to_address in sms)
    assert (sms_times[-1] - sms_times[0]).total_seconds() == pytest.approx(5.0, abs=0.01)


def test_burst_sends_that_many_at_once_then_keeps_the_rate(pg: FakeTwilioApi) -> None:
    add_accounts(6)
    queue_outreach(load_policy(get_settings().policy_file), NOON)
    clock = ManualClock(NOON)
    work(make_sender(clock, rate=SendRate(per_second=2, burst=3)))
    offsets = [(r.sent_at - NOON).total_seconds() for r in rows()]
    assert offsets == pytest.approx([0, 0, 0, 0.5, 1.0, 1.5], abs=0.01)


def test_the_rate_holds_across_workers_reserving_at_once(pg: FakeTwilioApi) -> None:
    """Two threads (two workers) reserve slots of one number concurrently on PostgreSQL."""
    rate = SendRate(per_second=1)
    slots: list[datetime] = []
    guard = threading.Lock()

    def reserve_many() -> None:
        for _ in range(25):
            with get_database().session() as session:
                allowed = reserve_slot(session, SMS_FROM, NOON, rate)
            with guard:
                slots.append(allowed)

    threads = [threading.Thread(target=reserve_many) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    offsets = sorted((s - NOON).total_seconds() for s in slots)
    assert offsets == pytest.approx([float(i) for i in range(50)])


# --- the gate at send time --------------------------------------------------------------


class HookedClock(ManualClock):
    """A ManualClock that runs `hook` the first time the worker waits for a slot."""

    def __init__(self, start: datetime, hook: Callable[[], None]) -> None:
        super().__init__(start)
        self.hook: Callable[[], None] | None = hook

    async def sleep(self, seconds: float, stop: asyncio.Event | None = None) -> bool:
        if self.hook is not None:
            hook, self.hook = self.hook, None
            hook()
        return await super().sleep(seconds, stop)


def opt_out(ref: str) -> None:
    with get_database().session() as session:
        repo = AccountRepository(session)
        repo.set_flag(repo.require(ref), "opted_out", source="sms")


def test_an_opt_out_after_enqueue_blocks_the_send(pg: FakeTwilioApi) -> None:
    add_accounts(2)
    queue_outreach(load_policy(get_settings().policy_file), NOON)
    assert [r.status for r in rows()] == ["queued", "queued"]
    opt_out("SMS-001")
    work(make_sender(ManualClock(NOON)))
    assert [(r.status, r.reason) for r in rows()][1] == ("blocked", "the debtor opted out")
    assert [m.to for m in pg.created] == ["+12025550000"]


def test_an_opt_out_during_the_rate_wait_blocks_the_send(pg: FakeTwilioApi) -> None:
    """The second message waits a second for its slot; STOP arrives in that second."""
    add_accounts(2)
    queue_outreach(load_policy(get_settings().policy_file), NOON)
    clock = HookedClock(NOON, lambda: opt_out("SMS-001"))
    work(make_sender(clock))
    assert [r.status for r in rows()] == ["sent", "blocked"]
    assert len(pg.created) == 1


def test_quiet_hours_are_judged_when_the_message_leaves(pg: FakeTwilioApi) -> None:
    """Queued at 20:59:59 New York time; its slot is at 21:00:00: scheduled, not sent."""
    add_accounts(2)
    late = datetime(2026, 11, 28, 20, 59, 59, tzinfo=NY).astimezone(timezone.utc)
    queue_outreach(load_policy(get_settings().policy_file), late)
    work(make_sender(ManualClock(late)))
    first, second = rows()
    assert first.status == "sent" and second.status == "scheduled"
    assert "2026-11-29 08:00 local time" in (second.reason or "")


# --- Twilio in trouble ------------------------------------------------------------------


def test_server_errors_back_off_and_nothing_is_sent_twice(pg: FakeTwilioApi) -> None:
    add_accounts(1)
    queue_outreach(load_policy(get_settings().policy_file), NOON)
    for _ in range(4):  # every attempt of the client's first round
        pg.fail_next(500)
    clock = ManualClock(NOON)
    sender = make_sender(clock)
    work(sender)
    (row,) = rows()
    assert row.status == "queued" and "will retry after" in (row.reason or "")
    assert row.retry_at == NOON + timedelta(seconds=30)
    work(sender)  # not yet due: nothing is tried
    assert len(pg.messages()) == 4
    pg.fail_next(503)  # the next round: one more failure, then Twilio is back
    clock.advance(30)
    work(sender)
    (row,) = rows()
    assert row.status == "sent" and row.attempts == 2
    assert len(pg.messages()) == 6 and len(pg.created) == 1
    assert {r.headers["I-Twilio-Idempotency-Token"] for r in pg.messages()} == {"outreach:SMS-000"}


def test_retries_back_off_longer_each_time_then_give_up(pg: FakeTwilioApi) -> None:
    add_accounts(1)
    queue_outreach(load_policy(get_settings().policy_file), NOON)
    clock = ManualClock(NOON)
    sender = make_sender(clock)
    sender.client.max_attempts = 1  # type: ignore[union-attr]
    delays = []
    for _ in range(8):
        pg.fail_next(503)
        work(sender)
        (row,) = rows()
        if row.status == "failed":
            break
        delays.append((row.retry_at - clock.now()).total_seconds())
        clock.advance(delays[-1])
    assert delays == [30, 60, 120, 240, 480, 960, 1920]
    assert row.status == "failed" and "gave up after 8 attempts" in (row.reason or "")
    assert pg.created == []


def test_no_answer_is_not_resent_until_twilio_says_it_has_nothing(pg: FakeTwilioApi) -> None:
    add_accounts(1)
    queue_outreach(load_policy(get_settings().policy_file), NOON)
    pg.hang_next(1.5)  # longer than the client's 0.5 s timeout; nothing created
    clock = ManualClock(NOON)
    sender = make_sender(clock)
    work(sender)
    (row,) = rows()
    assert row.status == "unknown" and "not resent" in (row.reason or "")
    assert len(pg.messages()) == 1  # the client did not retry blindly
    work(sender)  # still within the wait before looking it up: nothing happens
    assert len(pg.messages()) == 1 and pg.lookups == []
    clock.advance(RECONCILE_AFTER.total_seconds())
    work(sender)
    (row,) = rows()
    assert len(pg.lookups) == 1 and pg.lookups[0]["To"] == "+12025550000"
    assert row.status == "sent" and row.attempts == 2
    assert len(pg.created) == 1 and len(pg.messages()) == 2


def test_accepted_then_dropped_is_found_at_twilio_and_not_resent(pg: FakeTwilioApi) -> None:
    add_accounts(1)
    queue_outreach(load_policy(get_settings().policy_file), NOON)
    pg.accept_then_drop_next()
    pg.list_failures = 1  # and the first look at the list fails too
    clock = ManualClock(NOON)
    sender = make_sender(clock)
    work(sender)
    assert rows()[0].status == "unknown"
    clock.advance(RECONCILE_AFTER.total_seconds())
    work(sender)
    (row,) = rows()
    assert row.status == "unknown" and "could not be read" in (row.reason or "")
    clock.advance(RECONCILE_AFTER.total_seconds())
    work(sender)
    (row,) = rows()
    assert row.status == "sent" and row.twilio_sid == pg.created[0].sid
    assert "answer was lost" in (row.reason or "")
    assert len(pg.messages()) == 1 and len(pg.created) == 1


def test_a_worker_that_dies_mid_send_is_taken_over_without_a_second_send(
    pg: FakeTwilioApi,
) -> None:
    """Worker A claims, passes the gate, Twilio creates the message, and A dies before
    recording it. After A's lease, worker B looks it up, finds it, and sends nothing."""
    add_accounts(2)
    policy = load_policy(get_settings().policy_file)
    queue_outreach(policy, NOON)
    clock = ManualClock(NOON)
    a = make_sender(clock, worker_id="worker-a")
    claimed = claim_due("worker-a", NOON, limit=2)
    assert len(claimed) == 2
    prepared = a._gate(claimed[0], policy, NOON, start_sending=True)
    assert not isinstance(prepared, OutboxResult)
    asyncio.run(a._send(prepared))
    # ...and A is gone. B sees nothing to do until A's lease runs out.
    b = make_sender(clock, worker_id="worker-b")
    work(b)
    assert [r.status for r in rows()] == ["sending", "claimed"]
    clock.advance(a.lease.total_seconds() + 1)
    work(b)
    first, second = rows()
    assert first.status == "sent" and first.twilio_sid == pg.created[0].sid
    assert second.status == "sent"
    assert len(pg.created) == 2 and len(pg.messages()) == 2


def test_duplicate_and_out_of_order_status_callbacks_keep_the_final_state(
    pg: FakeTwilioApi,
) -> None:
    add_accounts(1)
    queue_outreach(load_policy(get_settings().policy_file), NOON)
    work(make_sender(ManualClock(NOON)))
    sid = rows()[0].twilio_sid
    assert sid
    applied = [
        record_status_callback(sid, status, None)
        for status in ("delivered", "sent", "queued", "delivered", "sending", "undelivered")
    ]
    assert applied == [True, False, False, False, False, False]
    assert rows()[0].status == "delivered"
    assert record_status_callback(sid, "read", None)
    assert not record_status_callback(sid, "delivered", None)
    assert rows()[0].status == "read"


# --- real worker processes --------------------------------------------------------------


def daytime_zone() -> str:
    """A zone where it is now mid-day, far from quiet hours (the processes use real time)."""
    now = datetime.now(timezone.utc)
    for zone in ("Europe/London", "Asia/Shanghai", "America/Los_Angeles"):
        if 10 <= now.astimezone(ZoneInfo(zone)).hour < 18:
            return zone
    return "Europe/London"


def start_parley(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", *args],
        env={**os.environ, **env, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_for_line(process: subprocess.Popen[str], text: str, timeout: float = 60) -> list[str]:
    """Lines up to the one containing `text` (a bounded wait for a process to get there)."""
    assert process.stdout is not None
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        seen.append(line)
        if text in line:
            return seen
    raise AssertionError(f"no line with {text!r} in: {''.join(seen)}")


def test_workers_and_cron_share_200_messages_each_sent_once(
    pg: FakeTwilioApi, module_postgres: str
) -> None:
    add_accounts(200, zone=daytime_zone())
    env = _twilio_env(pg, module_postgres, "40")  # one number, 40/s: about 5 s in all
    workers = [start_parley(env, "worker", "--batch", "5", "--poll", "0.2") for _ in range(3)]
    for worker in workers:  # all three are polling before anything is due
        wait_for_line(worker, "started on PostgreSQL")
    queue_outreach(load_policy(get_settings().policy_file), datetime.now(timezone.utc))
    cron = start_parley(env, "outbox", "send")
    deadline = time.monotonic() + 180
    while len(pg.created) < 200 and time.monotonic() < deadline:
        time.sleep(0.1)
    cron_output = cron.communicate(timeout=120)[0]
    for worker in workers:
        worker.send_signal(signal.SIGTERM)
    outputs = [worker.communicate(timeout=60)[0] for worker in workers]
    assert [w.returncode for w in workers] == [0, 0, 0] and cron.returncode == 0, outputs
    sent_to = [m.to for m in pg.created]
    assert len(sent_to) == 200 and len(set(sent_to)) == 200
    assert len(pg.messages()) == 200
    assert {r.status for r in rows()} == {"sent"}
    # The work was shared, and what each sender says it sent adds up to 200 exactly.
    counts = []
    for output in outputs:
        closing = [line for line in output.splitlines() if " stopped: " in line]
        assert closing, output
        sent = re.search(r"(\d+) sent", closing[-1])
        counts.append(int(sent.group(1)) if sent else 0)
    cron_sent = re.search(r"(\d+) sent", cron_output.strip().splitlines()[-1])
    counts.append(int(cron_sent.group(1)) if cron_sent else 0)
    print(f"sent by worker 1, 2, 3 and cron: {counts}")
    assert sum(counts) == 200 and sum(1 for n in counts if n > 0) >= 2, (counts, outputs)
    assert "+1202555" not in "".join(outputs)  # phone numbers are masked in the logs


def test_sigterm_finishes_the_send_in_flight_and_releases_the_rest(
    pg: FakeTwilioApi, module_postgres: str
) -> None:
    add_accounts(60, zone=daytime_zone())
    queue_outreach(load_policy(get_settings().policy_file), datetime.now(timezone.utc))
    env = _twilio_env(pg, module_postgres, "10")
    worker = start_parley(env, "worker", "--batch", "20")
    wait_for_line(worker, "started on PostgreSQL")
    deadline = time.monotonic() + 60
    while len(pg.created) < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    worker.send_signal(signal.SIGTERM)
    output = worker.communicate(timeout=60)[0]
    assert worker.returncode == 0, output
    assert "released" in output and " stopped: " in output
    statuses = [r.status for r in rows()]
    assert "claimed" not in statuses and "sending" not in statuses
    assert 5 <= statuses.count("sent") < 60
    assert statuses.count("sent") == len(pg.created)
    # another worker picks up the rest at once (no lease to wait for)
    rest = start_parley(env, "worker", "--exit-when-idle")
    rest.communicate(timeout=120)
    assert len(pg.created) == 60 and len({m.to for m in pg.created}) == 60


def test_on_sqlite_a_second_worker_is_refused_and_the_first_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'parley.db'}"
    with FakeTwilioApi() as api:
        env = _twilio_env(api, url, "50")
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        get_settings.cache_clear()
        reset_databases()
        try:
            add_accounts(3, zone=daytime_zone())
            queue_outreach(load_policy(get_settings().policy_file), datetime.now(timezone.utc))
            first = start_parley(env, "worker", "--poll", "0.2")
            wait_for_line(first, "started on SQLite")
            second = start_parley(env, "worker")
            output = second.communicate(timeout=60)[0]
            assert second.returncode == 1
            assert f"another parley worker (PID {first.pid}) is already sending" in output
            assert "move the outbox to PostgreSQL" in output and "Traceback" not in output
            deadline = time.monotonic() + 60
            while len(api.created) < 3 and time.monotonic() < deadline:
                time.sleep(0.05)
            first.send_signal(signal.SIGTERM)
            first.communicate(timeout=60)
            assert first.returncode == 0
            assert len(api.created) == 3
            # cron's `parley outbox send` is not a worker: it may run beside one
            assert start_parley(env, "outbox", "send").wait(timeout=120) == 0
        finally:
            get_settings.cache_clear()
            reset_databases()


def test_the_sqlite_lock_is_released_with_its_holder(tmp_path: Path) -> None:
    database = tmp_path / "parley.db"
    with SqliteWorkerLock(database), pytest.raises(WorkerError, match=f"PID {os.getpid()}"):
        SqliteWorkerLock(database).acquire()
    with SqliteWorkerLock(database):  # free again
        pass


def test_a_message_a_worker_holds_reports_that_workers_outcome(pg: FakeTwilioApi) -> None:
    """The console sends its reply at once; when a worker claimed it first, the console
    waits for that worker and reports what became of the reply (sent once)."""
    add_accounts(1)
    policy = load_policy(get_settings().policy_file)
    (message_id,) = queue_outreach(policy, NOON)
    clock = ManualClock(NOON)
    worker = make_sender(clock, worker_id="worker-a")
    console = make_sender(clock, worker_id="console")
    assert claim_due("worker-a", NOON, limit=1) == [message_id]

    async def both() -> tuple[OutboxResult, OutboxResult]:
        return await asyncio.gather(
            worker.process_claimed(message_id, policy),
            console.dispatch_message(message_id, policy),
        )

    by_worker, seen_by_console = asyncio.run(both())
    assert by_worker.status == "sent" and seen_by_console.status == "sent"
    assert seen_by_console.twilio_sid == by_worker.twilio_sid == pg.created[0].sid
    assert len(pg.created) == 1


def test_a_status_callback_settles_an_unanswered_send(pg: FakeTwilioApi) -> None:
    """Twilio created the message but its answer was lost; its status callback (whose URL
    names the outbox row) arrives first: the message is delivered, never looked up or
    resent."""
    add_accounts(1)
    queue_outreach(load_policy(get_settings().policy_file), NOON)
    pg.accept_then_drop_next()
    clock = ManualClock(NOON)
    sender = make_sender(clock)
    work(sender)
    (row,) = rows()
    assert row.status == "unknown"
    callback = pg.messages()[0].form["StatusCallback"]
    assert callback.endswith(f"/webhooks/twilio/status?outbox={row.id}")
    assert record_status_callback(pg.created[0].sid, "delivered", None, outbox_id=row.id)
    clock.advance(RECONCILE_AFTER.total_seconds())
    work(sender)
    (row,) = rows()
    assert row.status == "delivered" and row.twilio_sid == pg.created[0].sid
    assert pg.lookups == [] and len(pg.messages()) == 1


def test_a_callback_before_the_send_is_recorded_keeps_the_later_state(
    pg: FakeTwilioApi,
) -> None:
    add_accounts(1)
    policy = load_policy(get_settings().policy_file)
    (message_id,) = queue_outreach(policy, NOON)
    sender = make_sender(ManualClock(NOON))
    assert claim_due(sender.worker_id, NOON, limit=1) == [message_id]
    prepared = sender._gate(message_id, policy, NOON, start_sending=True)
    assert not isinstance(prepared, OutboxResult)
    outcome = asyncio.run(sender._send(prepared))
    sid = outcome[2]
    assert sid and rows()[0].status == "sending"
    # Twilio's callbacks overtake the worker, out of order and twice: the first one only
    # ties the SID to the row (the request is still in flight)
    assert record_status_callback(sid, "queued", None, outbox_id=message_id)
    assert (rows()[0].status, rows()[0].twilio_sid) == ("sending", sid)
    assert not record_status_callback(sid, "queued", None, outbox_id=message_id)
    assert record_status_callback(sid, "delivered", None, outbox_id=message_id)
    assert not record_status_callback(sid, "sent", None, outbox_id=message_id)
    sender._record(message_id, prepared, outcome, NOON)
    (row,) = rows()
    assert row.status == "delivered" and row.twilio_sid == sid and row.claimed_by is None
