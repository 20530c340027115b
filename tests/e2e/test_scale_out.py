"""Two Rasa servers and two action servers on one PostgreSQL database and one Redis.

Messages for the same conversations are fired at both servers at once. With Parley's
atomic lock store every message is answered, each turn runs whole before the next (the
tracker alternates user message, bot reply), nothing is lost and no agreement is stored
twice. The soak version repeats the round 20 times and runs the same traffic with Rasa's
stock RedisLockStore, which must show the race.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.e2e.cluster import (
    Cluster,
    cluster_env,
    import_accounts,
    running_cluster,
    user_and_bot_turns,
)
from tests.e2e.conftest import MODEL, phone
from tests.services import fresh_shared_database, private_redis

pytestmark = pytest.mark.e2e

CONVERSATIONS = 6
MESSAGES = 6  # per conversation, half to each server, all at once
AGREEMENT_SCRIPT = (
    "hi who is this",
    "march 14 1985",
    "i lost my job in may and things have been really hard",
    "about 2000",
    "1700",
    "1",
)


@dataclass
class Round:
    """What one burst of interleaved messages did to its conversations."""

    sent: dict[str, list[str]] = field(default_factory=dict)
    replies: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    def problems(self, cluster: Cluster) -> list[str]:
        found = list(self.failures)
        for sender, texts in self.sent.items():
            turns = user_and_bot_turns(cluster.nodes[0].tracker(sender))
            users = [text for text, _ in turns]
            if Counter(users) != Counter(texts):
                lost = sorted((Counter(texts) - Counter(users)).elements())
                extra = sorted((Counter(users) - Counter(texts)).elements())
                found.append(f"{sender}: user messages lost {lost} / duplicated {extra}")
            for text, bot in turns:
                if not bot:
                    found.append(f"{sender}: {text!r} has no bot reply before the next message")
                elif (sender, text) in self.replies and self.replies[(sender, text)] != bot:
                    found.append(
                        f"{sender}: {text!r} was answered {self.replies[(sender, text)]} "
                        f"but its turn in the tracker says {bot}"
                    )
        return found


def fire_round(cluster: Cluster, label: str, conversations: int = CONVERSATIONS) -> Round:
    """Every conversation gets MESSAGES messages at once, alternately to each server."""
    result = Round()
    jobs = []
    for c in range(conversations):
        sender = f"{phone(40 + c)}-{label}"
        result.sent[sender] = [f"hello {label} number {m}" for m in range(MESSAGES)]
        for m, text in enumerate(result.sent[sender]):
            jobs.append((cluster.nodes[m % len(cluster.nodes)], sender, text))

    def send(job: tuple) -> None:
        node, sender, text = job
        try:
            replies = node.chat(sender, text)
        except Exception as exc:  # noqa: BLE001 - reported with the others below
            result.failures.append(f"{sender}: {text!r} failed: {exc}")
            return
        result.replies[(sender, text)] = replies
        if not any(r.strip() for r in replies):
            result.failures.append(f"{sender}: {text!r} got no answer")

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        list(pool.map(send, jobs))
    return result


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    if not MODEL.exists():
        pytest.fail(f"no trained model at {MODEL}: run `make test` (it trains first)")
    workdir = tmp_path_factory.mktemp("scale-out")
    with (
        private_redis() as redis_server,
        fresh_shared_database("parley_lock") as database_url,
    ):
        import_accounts(cluster_env(workdir, database_url, redis_server.url), workdir, 8)
        with running_cluster(
            workdir, database_url, redis_server.url, redis_server.port, lock="parley"
        ) as running:
            yield running


def test_interleaved_messages_are_all_answered_in_order(cluster: Cluster) -> None:
    result = fire_round(cluster, "a")
    assert result.problems(cluster) == []


def test_an_agreement_confirmed_on_both_servers_is_stored_once(cluster: Cluster) -> None:
    """Four debtors negotiate with messages alternating between the servers, and each
    says yes to both servers at the same moment."""
    senders = [phone(n) for n in range(4)]

    def negotiate(sender: str) -> list[list[str]]:
        replies = []
        for step, text in enumerate(AGREEMENT_SCRIPT):
            replies.append(cluster.nodes[step % 2].chat(sender, text))
        with ThreadPoolExecutor(max_workers=2) as pool:
            replies.extend(pool.map(lambda node: node.chat(sender, "yes"), cluster.nodes))
        return replies

    with ThreadPoolExecutor(max_workers=len(senders)) as pool:
        transcripts = list(pool.map(negotiate, senders))
    agreements = Counter(a["account_ref"] for a in cluster.agreements() if a["status"] == "active")
    assert agreements == {f"LOCK-{n:02d}": 1 for n in range(4)}, transcripts
    for sender in senders:
        turns = user_and_bot_turns(cluster.nodes[1].tracker(sender))
        assert [text for text, _ in turns] == [*AGREEMENT_SCRIPT, "yes", "yes"]
        assert all(bot for _, bot in turns)


@pytest.mark.soak
def test_soak_twenty_rounds_in_a_row(cluster: Cluster) -> None:
    for n in range(20):
        result = fire_round(cluster, f"soak{n}")
        problems = result.problems(cluster)
        print(f"round {n + 1}/20: {sum(map(len, result.sent.values()))} messages, "
              f"{len(problems)} problems", flush=True)  # fmt: skip
        assert problems == [], f"round {n + 1}"


@pytest.mark.soak
def test_soak_control_stock_lock_store_shows_the_race(tmp_path: Path) -> None:
    """Rasa's stock RedisLockStore under the same traffic: turns overlap somewhere."""
    if not MODEL.exists():
        pytest.fail(f"no trained model at {MODEL}: run `make test` (it trains first)")
    with (
        private_redis() as redis_server,
        fresh_shared_database("parley_lock") as database_url,
        running_cluster(
            tmp_path, database_url, redis_server.url, redis_server.port, lock="stock"
        ) as stock,
    ):
        seen = []
        for attempt in range(5):
            problems = fire_round(stock, f"stock{attempt}", conversations=8).problems(stock)
            seen.append(len(problems))
            if problems:
                break
        assert any(seen), f"the stock lock store showed no race in {len(seen)} rounds"
