"""The console app on a throwaway database, through Flask's test client (HTTP-level).

Rasa is not running here: the tracker store's `events` table is written the way Rasa's
SQLTrackerStore writes it, and pages that call Rasa are covered by the browser tests
against the running bot (tests/console/test_browser.py).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from bot.console.app import ConsoleConfig, create_app
from bot.storage import AccountRepository, get_database
from bot.storage.users import UserRepository

PASSWORD = "correct horse battery"
USERS = {"olga": "operator", "tess": "trainer", "ada": "admin"}


@pytest.fixture
def console_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, sqlite_url: str) -> Iterator[str]:
    from bot.settings import get_settings

    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.setenv("PARLEY_ENV", "production")
    monkeypatch.setenv("PARLEY_INBOX_FILE", str(tmp_path / "inbox" / "reviewed.jsonl"))
    get_settings.cache_clear()
    with get_database().session() as session:
        for name, role in USERS.items():
            UserRepository(session).add(name, PASSWORD, role)
    yield sqlite_url
    get_settings.cache_clear()


@pytest.fixture
def app(console_env: str) -> Flask:
    return create_app(
        ConsoleConfig(
            secret_key="test-secret-key-0123456789abcdef",
            rasa_url="http://127.0.0.1:9",  # nothing listens: pages here never call Rasa
            rasa_token=None,
            rest_token=None,
            secure_cookies=False,
        )
    )


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF field on the page"
    return match[1]


def login(client: FlaskClient, username: str, password: str = PASSWORD) -> Any:
    client.delete_cookie("parley_console")  # start from a fresh, logged-out browser
    token = csrf_of(client.get("/login").get_data(as_text=True))
    return client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}
    )


def post_form(client: FlaskClient, page: str, url: str, data: dict[str, Any]) -> Any:
    """Submit a form as a browser would: with the CSRF token from `page`."""
    token = csrf_of(client.get(page).get_data(as_text=True))
    return client.post(url, data={**data, "csrf_token": token})


def add_account(ref: str, phone: str, **extra: Any) -> None:
    from bot.storage.models import Account

    with get_database().session() as session:
        account = Account(
            account_ref=ref,
            name=extra.pop("name", "Maria Lopez"),
            phone=phone,
            balance=Decimal(extra.pop("balance", "1200.00")),
            currency="USD",
            timezone="America/New_York",
            dob=date(1985, 3, 14),
            channel=extra.pop("channel", "sms"),
            status="active",
        )
        session.add(account)
        session.flush()
        for flag in extra.pop("flags", []):
            AccountRepository(session).set_flag(account, flag)


_EVENTS_DDL = """
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    sender_id VARCHAR(255) NOT NULL,
    type_name VARCHAR(255) NOT NULL,
    timestamp FLOAT,
    intent_name VARCHAR(255),
    action_name VARCHAR(255),
    data TEXT
)
"""


def user_message(
    text: str,
    intent: str,
    confidence: float = 0.95,
    emotion: str = "neutral",
    entities: list[dict[str, Any]] | None = None,
    runner_up: tuple[str, float] | None = None,
) -> dict[str, Any]:
    ranking = [{"name": intent, "confidence": confidence}]
    if runner_up:
        ranking.append({"name": runner_up[0], "confidence": runner_up[1]})
    return {
        "event": "user",
        "text": text,
        "parse_data": {
            "intent": {"name": intent, "confidence": confidence},
            "entities": entities or [],
            "intent_ranking": ranking,
            "emotion": {"name": emotion, "confidence": 0.8},
            "text": text,
        },
    }


def add_events(sender_id: str, events: list[dict[str, Any]]) -> None:
    """Events as Rasa's SQLTrackerStore stores them (one row each, JSON in `data`)."""
    engine = get_database().engine
    with engine.begin() as conn:
        conn.execute(sa.text(_EVENTS_DDL))
        for event in events:
            data = {"timestamp": time.time(), **event}
            conn.execute(
                sa.text(
                    "INSERT INTO events (sender_id, type_name, timestamp, intent_name, "
                    "action_name, data) VALUES (:s, :t, :ts, :i, :a, :d)"
                ),
                {
                    "s": sender_id,
                    "t": data["event"],
                    "ts": data["timestamp"],
                    "i": (data.get("parse_data") or {}).get("intent", {}).get("name"),
                    "a": data.get("name"),
                    "d": json.dumps(data),
                },
            )
