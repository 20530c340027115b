"""The atomic Redis lock store against a private redis-server, with OS processes racing.

Each harness run starts several processes that wait at a barrier and then, as fast as they
can, either issue tickets for one conversation or take its lock and do a read-modify-write
of a shared counter inside it. Parley's store must issue every number once and let one
holder in at a time (no lost update of the counter). The same harness against Rasa's stock
RedisLockStore is the control: it must show the race, or the harness proves nothing.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import redis
from rasa.core.lock_store import LockError, RedisLockStore

from bot.storage.lock_store import (
    AtomicRedisLockStore,
    LockStoreUnavailableError,
    describe_redis_url,
)
from tests.services import PrivateRedis, free_port, private_redis

PROCESSES = 4
TICKETS_PER_PROCESS = 150
TURNS_PER_PROCESS = 60
CONTROL_TRIES = 5
# Bounds, so a harness run against a broken store ends (they are not timing assertions).
# A turn of Parley's store waits behind at most 3 others; one of the stock store's can wait
# for a ticket it lost, until the limit.
TURN_LIMIT_S = {"parley": 30.0, "stock": 3.0}
RUN_LIMIT_S = 15


@pytest.fixture(scope="module")
def redis_server() -> Iterator[PrivateRedis]:
    with private_redis() as server:
        yield server


def make_store(kind: str, port: int) -> Any:
    if kind == "parley":
        return AtomicRedisLockStore(url=f"redis://127.0.0.1:{port}/0", poll_interval_s=0.001)
    return RedisLockStore(host="127.0.0.1", port=port, db=0)


def _issue_tickets(kind: str, port: int, conversation: str, count: int, barrier: Any, out: Any):
    store = make_store(kind, port)
    barrier.wait()
    tickets, errors = [], 0
    for _ in range(count):
        try:
            tickets.append(store.issue_ticket(conversation, 60))
        except LockError:
            errors += 1
    out.put((tickets, errors))


def _take_turns(kind: str, port: int, conversation: str, count: int, barrier: Any, out: Any):
    store = make_store(kind, port)
    plain = redis.Redis(host="127.0.0.1", port=port, db=0)
    holders_key, counter_key = f"test:{conversation}:holders", f"test:{conversation}:counter"
    race_key = f"test:{conversation}:race"

    async def turn() -> bool:
        async with store.lock(conversation, 60, 0.001):
            overlapped = plain.incr(holders_key) > 1
            if overlapped:
                plain.set(race_key, 1)  # seen once is enough: every process stops
            # A read-modify-write that only a lock keeps whole.
            value = int(plain.get(counter_key) or 0)
            await asyncio.sleep(0)
            plain.set(counter_key, value + 1)
            plain.decr(holders_key)
        return overlapped

    async def turns() -> tuple[int, int, int, int]:
        overlaps = errors = done = stuck = 0
        deadline = time.monotonic() + RUN_LIMIT_S
        for _ in range(count):
            if time.monotonic() > deadline or plain.exists(race_key):
                break
            try:
                overlaps += await asyncio.wait_for(turn(), TURN_LIMIT_S[kind])
                done += 1
            except LockError:
                errors += 1
            except asyncio.TimeoutError:
                # Waiting for a ticket that is no longer in the queue (the stock store
                # loses one when two processes save the queue at once).
                stuck += 1
        return overlaps, errors, done, stuck

    barrier.wait()
    out.put(asyncio.run(turns()))


@dataclass
class TicketRun:
    tickets: list[int]
    errors: int

    @property
    def duplicates(self) -> int:
        return sum(n - 1 for n in Counter(self.tickets).values() if n > 1)


@dataclass
class TurnRun:
    overlaps: int
    errors: int
    done: int
    stuck: int
    counter: int

    @property
    def lost_updates(self) -> int:
        return self.done - self.counter


def _run(target: Any, kind: str, port: int, conversation: str, count: int) -> list[Any]:
    context = multiprocessing.get_context("fork")
    barrier, out = context.Barrier(PROCESSES), context.Queue()
    processes = [
        context.Process(target=target, args=(kind, port, conversation, count, barrier, out))
        for _ in range(PROCESSES)
    ]
    for process in processes:
        process.start()
    results = [out.get(timeout=RUN_LIMIT_S + 2 * TURN_LIMIT_S[kind] + 60) for _ in processes]
    for process in processes:
        process.join(timeout=30)
        assert process.exitcode == 0
    return results


def issue_race(kind: str, port: int, conversation: str) -> TicketRun:
    results = _run(_issue_tickets, kind, port, conversation, TICKETS_PER_PROCESS)
    return TicketRun([t for tickets, _ in results for t in tickets], sum(e for _, e in results))


def turn_race(kind: str, port: int, conversation: str) -> TurnRun:
    results = _run(_take_turns, kind, port, conversation, TURNS_PER_PROCESS)
    counter = int(redis.Redis(port=port).get(f"test:{conversation}:counter") or 0)
    return TurnRun(
        overlaps=sum(r[0] for r in results),
        errors=sum(r[1] for r in results),
        done=sum(r[2] for r in results),
        stuck=sum(r[3] for r in results),
        counter=counter,
    )


def test_parley_store_never_issues_a_ticket_twice(redis_server: PrivateRedis) -> None:
    run = issue_race("parley", redis_server.port, "+12025550101")
    assert run.errors == 0
    assert run.duplicates == 0
    assert sorted(run.tickets) == list(range(1, PROCESSES * TICKETS_PER_PROCESS + 1))


def test_parley_store_lets_one_holder_in_at_a_time(redis_server: PrivateRedis) -> None:
    run = turn_race("parley", redis_server.port, "+12025550102")
    assert (run.overlaps, run.errors, run.stuck, run.lost_updates) == (0, 0, 0, 0)
    assert run.counter == PROCESSES * TURNS_PER_PROCESS
    # Every ticket was released: nothing is left queued for the conversation.
    assert make_store("parley", redis_server.port).get_lock("+12025550102") is None


def test_control_stock_store_issues_duplicate_tickets(redis_server: PrivateRedis) -> None:
    """The stock store's GET + increment + SET hands one number to several processes."""
    runs = []
    for attempt in range(CONTROL_TRIES):
        run = issue_race("stock", redis_server.port, f"+1202555020{attempt}")
        runs.append(run)
        if run.duplicates:
            break
    assert any(run.duplicates for run in runs), (
        f"the harness did not show the stock store's race in {CONTROL_TRIES} runs"
    )


def test_control_stock_store_lets_two_holders_in(redis_server: PrivateRedis) -> None:
    """Issued at the same moment, two turns of one conversation run at once."""
    runs = []
    for attempt in range(CONTROL_TRIES):
        run = turn_race("stock", redis_server.port, f"+1202555030{attempt}")
        runs.append(run)
        if run.overlaps or run.lost_updates:
            break
    assert any(r.overlaps or r.lost_updates for r in runs), (
        f"the harness did not show two holders at once in {CONTROL_TRIES} runs: {runs}"
    )


def test_waiting_turns_are_served_in_ticket_order(redis_server: PrivateRedis) -> None:
    store = make_store("parley", redis_server.port)
    conversation = "+12025550401"
    first = store.issue_ticket(conversation, 60)
    second = store.issue_ticket(conversation, 60)
    third = store.issue_ticket(conversation, 60)
    assert [store.position(conversation, t) for t in (first, second, third)] == [0, 1, 2]
    lock = store.get_lock(conversation)
    assert lock is not None and lock.now_serving == first and lock.is_someone_waiting()
    store.cleanup(conversation, first)
    assert store.position(conversation, second) == 0
    store.cleanup(conversation, second)
    store.cleanup(conversation, third)
    assert store.get_lock(conversation) is None


def test_an_expired_holder_stops_blocking_its_conversation(redis_server: PrivateRedis) -> None:
    """A process that died holding the lock blocks the conversation for the lifetime only."""
    store = make_store("parley", redis_server.port)
    conversation = "+12025550402"
    crashed = store.issue_ticket(conversation, 0.3)  # never released
    served: list[int] = []

    async def take() -> None:
        async with store.lock(conversation, 60) as lock:
            served.append(lock.now_serving or 0)

    asyncio.run(take())  # returns once the crashed holder's ticket has expired
    assert served == [crashed + 1]
    assert store.position(conversation, crashed) == -1
    assert store.get_lock(conversation) is None


def test_keys_expire(redis_server: PrivateRedis) -> None:
    store = make_store("parley", redis_server.port)
    conversation = "+12025550403"
    ticket = store.issue_ticket(conversation, 30)
    plain = redis.Redis(port=redis_server.port)
    queue_ttl = plain.pttl(f"parley:lock:{{{conversation}}}:queue")
    seq_ttl = plain.pttl(f"parley:lock:{{{conversation}}}:seq")
    assert 0 < queue_ttl <= 30_000
    assert 30_000 < seq_ttl <= 24 * 3600 * 1000
    store.cleanup(conversation, ticket)
    assert plain.exists(f"parley:lock:{{{conversation}}}:queue") == 0


def test_created_from_rasa_endpoint_config(redis_server: PrivateRedis) -> None:
    from rasa.core.lock_store import LockStore
    from rasa.utils.endpoints import EndpointConfig

    by_url = LockStore.create(
        EndpointConfig(url=redis_server.url, type="bot.storage.lock_store.AtomicRedisLockStore")
    )
    by_host = LockStore.create(
        EndpointConfig(
            url="127.0.0.1",
            type="bot.storage.lock_store.AtomicRedisLockStore",
            port=redis_server.port,
            db=0,
        )
    )
    for store in (by_url, by_host):
        assert isinstance(store, AtomicRedisLockStore)
        assert store.where == f"redis://127.0.0.1:{redis_server.port}/0"


def test_unreachable_redis_is_a_clear_error_at_start() -> None:
    port = free_port()  # nothing listens there
    with pytest.raises(LockStoreUnavailableError) as error:
        AtomicRedisLockStore(url=f"redis://:secret-pass@127.0.0.1:{port}/2")
    message = str(error.value)
    assert f"cannot reach the Redis lock store at redis://127.0.0.1:{port}/2 (REDIS_URL)" in message
    assert "secret-pass" not in message and "unset it to use the in-memory lock" in message


def test_redis_gone_refuses_the_turn_with_a_log_line(caplog: pytest.LogCaptureFixture) -> None:
    """Redis dies between turns: the next turn is refused (never run unlocked), and said so."""
    with private_redis() as server:
        store = AtomicRedisLockStore(url=server.url)
        ran = []

        async def turn() -> None:
            async with store.lock("whatsapp:+12025550404"):
                ran.append(True)

        asyncio.run(turn())
        server.stop()
        with caplog.at_level(logging.ERROR, "bot.storage.lock_store"), pytest.raises(LockError):
            asyncio.run(turn())
        assert ran == [True]
        line = caplog.records[-1].getMessage()
        assert f"lock store unreachable (Redis at redis://127.0.0.1:{server.port}/0" in line
        assert "was NOT processed" in line
        assert "whatsapp:+1*******404" in line and "2025550404" not in line
        # Redis back: turns go through again, with no restart of the Rasa process.
        server.start()
        asyncio.run(turn())
        assert ran == [True, True]


def test_describe_redis_url_hides_the_password() -> None:
    assert describe_redis_url("redis://user:pw@cache:6380/3") == "redis://cache:6380/3"
    assert describe_redis_url("rediss://:pw@cache/1") == "rediss://cache:6379/1"


def test_a_second_turn_waits_for_the_first(redis_server: PrivateRedis) -> None:
    store = make_store("parley", redis_server.port)
    order: list[str] = []

    async def turn(name: str, hold: float) -> None:
        async with store.lock("+12025550405"):
            order.append(f"{name} in")
            await asyncio.sleep(hold)
            order.append(f"{name} out")

    async def both() -> None:
        first = asyncio.create_task(turn("a", 0.1))
        await asyncio.sleep(0.01)
        await asyncio.gather(first, turn("b", 0))

    asyncio.run(both())
    assert order == ["a in", "a out", "b in", "b out"]
