"""Custom actions against a real database, with trackers built like Rasa builds them."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.accounts.csv_import import AccountRow
from bot.settings import PROJECT_ROOT
from bot.storage import AccountRepository, AgreementRepository, get_database

MARIA_PHONE = "+12025550143"
MARIA_DOB = date(1985, 3, 14)


@pytest.fixture(scope="session")
def domain() -> dict[str, Any]:
    return yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text())


@pytest.fixture
def accounts(env_database: str) -> Iterator[str]:
    """The test database with Maria's account (balance 1200 USD, New York)."""
    with get_database().session() as session:
        AccountRepository(session).upsert_many(
            [
                AccountRow(
                    line=2,
                    account_ref="ACC-1",
                    name="Maria Lopez",
                    phone=MARIA_PHONE,
                    balance=Decimal("1200.00"),
                    currency="USD",
                    timezone="America/New_York",
                    dob=MARIA_DOB,
                    creditor="Northwind Clinic",
                )
            ]
        )
    yield "ACC-1"


def user_event(
    text: str,
    intent: str,
    *,
    entities: list[dict[str, Any]] | None = None,
    emotion: str = "neutral",
    **extra: Any,
) -> dict[str, Any]:
    parse = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.99},
        "entities": entities or [],
        "emotion": {"name": emotion, "confidence": 0.9},
        **extra,
    }
    return {"event": "user", "timestamp": time.time(), "text": text, "parse_data": parse}


def slot_event(name: str, value: Any) -> dict[str, Any]:
    return {"event": "slot", "timestamp": time.time(), "name": name, "value": value}


def make_tracker(
    *,
    sender_id: str = MARIA_PHONE,
    slots: dict[str, Any] | None = None,
    events: list[dict[str, Any]] | None = None,
    active_loop: str | None = None,
) -> Tracker:
    """A tracker as the action server receives it: latest message from the last user event."""
    events = events or []
    latest = next((e["parse_data"] for e in reversed(events) if e["event"] == "user"), {})
    all_slots = {"account_ref": None, "verified": False, **(slots or {})}
    return Tracker(
        sender_id,
        all_slots,
        latest,
        events,
        False,
        None,
        {"name": active_loop} if active_loop else {},
        "action_listen",
    )


async def run_action(
    action: Action, tracker: Tracker, domain: dict[str, Any]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(events, messages) of one action run."""
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker, domain)
    return list(events), dispatcher.messages


def slots_set(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def responses(messages: list[dict[str, Any]]) -> list[str]:
    return [m.get("response") or m.get("text") or "" for m in messages]


def agreements_count() -> int:
    with get_database().session() as session:
        return len(AgreementRepository(session).list())


def account_state(ref: str = "ACC-1") -> dict[str, Any]:
    with get_database().session() as session:
        repo = AccountRepository(session)
        return repo.to_dict(repo.require(ref))


def domain_path() -> Path:
    return PROJECT_ROOT / "domain.yml"
