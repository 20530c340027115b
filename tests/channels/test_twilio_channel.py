"""The Twilio channel's HTTP edge, in-process: signatures, parsing, a database that is down."""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest
from rasa.core.channels.channel import UserMessage
from sanic import Sanic
from twilio.request_validator import RequestValidator

from bot.channels.twilio import TwilioInput, parse_form, split_message, twiml
from bot.settings import get_settings
from bot.storage import reset_databases

TOKEN = "channel-test-token"
BASE = "https://parley.example.org"
PATH = "/webhooks/twilio/webhook"


class Recorder:
    def __init__(self) -> None:
        self.messages: list[UserMessage] = []

    async def __call__(self, message: UserMessage) -> None:
        self.messages.append(message)
        await message.output_channel.send_text_message(message.sender_id, f"echo: {message.text}")


@pytest.fixture
def app_and_recorder(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> Iterator[tuple[Sanic, Recorder]]:
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", TOKEN)
    monkeypatch.setenv("PUBLIC_BASE_URL", BASE)
    get_settings.cache_clear()
    reset_databases()
    recorder = Recorder()
    app = Sanic(f"twilio_channel_test_{id(recorder)}")
    app.blueprint(TwilioInput().blueprint(recorder), url_prefix="/webhooks/twilio")
    yield app, recorder
    get_settings.cache_clear()
    reset_databases()


def signed(form: dict[str, str], token: str = TOKEN, url: str = BASE + PATH) -> dict[str, Any]:
    return {
        "content": urllib.parse.urlencode(form),
        "headers": {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": RequestValidator(token).compute_signature(url, form),
        },
    }


FORM = {
    "MessageSid": "SM1",
    "From": "+12025550143",
    "To": "+15005550006",
    "Body": "hi",
    "FromZip": "",
}


async def test_signed_message_reaches_the_bot_once(
    app_and_recorder: tuple[Sanic, Recorder],
) -> None:
    app, recorder = app_and_recorder
    _, first = await app.asgi_client.post(PATH, **signed(FORM))
    _, second = await app.asgi_client.post(PATH, **signed(FORM))
    assert first.status == 200 and "echo: hi" in first.text
    assert second.text == first.text
    assert len(recorder.messages) == 1
    message = recorder.messages[0]
    assert message.message_id == "SM1" and message.metadata["channel"] == "sms"


async def test_blank_values_are_part_of_the_signature(
    app_and_recorder: tuple[Sanic, Recorder],
) -> None:
    app, recorder = app_and_recorder
    without_blank = {k: v for k, v in FORM.items() if v}
    request = signed(without_blank)
    request["content"] = urllib.parse.urlencode(FORM)  # body has FromZip= but the signature doesn't
    _, response = await app.asgi_client.post(PATH, **request)
    assert response.status == 403 and recorder.messages == []


@pytest.mark.parametrize(
    "request_kwargs",
    [
        {
            "content": urllib.parse.urlencode(FORM),
            "headers": {"Content-Type": "application/x-www-form-urlencoded"},
        },
        signed(FORM, token="someone-elses-token"),
        signed(FORM, url="https://attacker.example.org" + PATH),
    ],
    ids=["unsigned", "wrong-token", "wrong-url"],
)
async def test_bad_signatures_get_403(
    app_and_recorder: tuple[Sanic, Recorder], request_kwargs: dict[str, Any]
) -> None:
    app, recorder = app_and_recorder
    _, response = await app.asgi_client.post(PATH, **request_kwargs)
    assert response.status == 403 and recorder.messages == []


async def test_no_auth_token_configured_trusts_nothing(
    app_and_recorder: tuple[Sanic, Recorder], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, recorder = app_and_recorder
    monkeypatch.delenv("TWILIO_AUTH_TOKEN")
    get_settings.cache_clear()
    _, response = await app.asgi_client.post(PATH, **signed(FORM))
    assert response.status == 403 and recorder.messages == []


async def test_database_down_answers_503_and_processes_nothing(
    app_and_recorder: tuple[Sanic, Recorder], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, recorder = app_and_recorder
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/parley")
    get_settings.cache_clear()
    reset_databases()
    _, response = await app.asgi_client.post(PATH, **signed(FORM))
    assert response.status == 503 and recorder.messages == []


async def test_crash_in_the_bot_answers_politely_and_a_retry_is_processed(
    app_and_recorder: tuple[Sanic, Recorder],
) -> None:
    app, recorder = app_and_recorder
    calls = {"n": 0}
    original = recorder.__call__

    async def flaky(message: UserMessage) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("boom")
        await original(message)

    recorder.__class__ = type("Flaky", (Recorder,), {"__call__": lambda self, m: flaky(m)})
    _, first = await app.asgi_client.post(PATH, **signed(FORM))
    assert first.status == 200 and "try again" in first.text
    _, retry = await app.asgi_client.post(PATH, **signed(FORM))
    assert "echo: hi" in retry.text


def test_form_parsing_and_reply_splitting() -> None:
    assert parse_form(b"Body=&From=%2B1&Body2=a+b") == {"Body": "", "From": "+1", "Body2": "a b"}
    pieces = split_message(("word " * 700).strip())
    assert all(len(p) <= 1600 for p in pieces) and " ".join(pieces) == ("word " * 700).strip()
    xml = twiml(["<b>Tom & Jerry</b>"])
    assert "&lt;b&gt;Tom &amp; Jerry&lt;/b&gt;" in xml


async def test_a_signed_status_callback_finds_its_outbox_row_by_the_url(
    app_and_recorder: tuple[Sanic, Recorder],
) -> None:
    """`?outbox=ID` (set by the outbox when it sends) is part of what Twilio signs, and
    lets a callback settle a message whose send answer was lost."""
    from datetime import date
    from decimal import Decimal

    from bot.accounts.csv_import import AccountRow
    from bot.storage import AccountRepository, get_database
    from bot.storage.models import OutboxMessage

    app, _ = app_and_recorder
    with get_database().session() as session:
        AccountRepository(session).upsert_many(
            [AccountRow(2, "CB-1", "Maria Lopez", "+12025550143", Decimal("10.00"), "USD",
                        "America/New_York", date(1985, 3, 14))]
        )  # fmt: skip
        account = AccountRepository(session).require("CB-1")
        message = OutboxMessage(
            account_id=account.id, kind="outreach", channel="sms", to_address=account.phone,
            body="hello", status="unknown", idempotency_key="cb-1",
        )  # fmt: skip
        session.add(message)
        session.flush()
        message_id = message.id
    path = f"/webhooks/twilio/status?outbox={message_id}"
    form = {"MessageSid": "SMlost1", "MessageStatus": "delivered"}
    _, unsigned_query = await app.asgi_client.post(
        path, **signed(form, url=BASE + "/webhooks/twilio/status")
    )
    assert unsigned_query.status == 403  # the query string is signed too
    _, answer = await app.asgi_client.post(path, **signed(form, url=BASE + path))
    assert answer.status == 204
    with get_database().session() as session:
        row = session.get(OutboxMessage, message_id)
        assert (row.status, row.twilio_sid) == ("delivered", "SMlost1")
