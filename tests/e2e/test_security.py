"""Probes against the running `parley serve` in production mode: who can reach what.

Each test is a probe from docs/security.md: the Rasa API, the action server and the REST
channel refuse requests without their credential; everything listens on loopback; the
identity lockout cannot be reset from a conversation; slash payloads are plain text; an
account never has two live agreements.
"""

from __future__ import annotations

import json
import os
import stat
import urllib.error
import urllib.request
from typing import Any

import pytest

from bot.security import ACTIONS_SECRET_HEADER
from tests.e2e.conftest import RunningBot, phone
from tests.e2e.test_twilio_webhook import inbound, messages, post

pytestmark = pytest.mark.e2e


def request(
    url: str, *, data: Any = None, headers: dict[str, str] | None = None, method: str | None = None
) -> tuple[int, str]:
    body = json.dumps(data).encode() if data is not None else None
    req = urllib.request.Request(
        url,
        data=body,
        headers={"Content-Type": "application/json", **(headers or {})},
        method=method,
    )
    try:
        with urllib.request.urlopen(req, timeout=60) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def listening_addresses(port: int) -> set[str]:
    """Local addresses in LISTEN state on `port`, from /proc/net/tcp and tcp6."""
    found: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not os.path.exists(table):
            continue
        with open(table) as handle:
            next(handle)
            for line in handle:
                fields = line.split()
                address, port_hex = fields[1].rsplit(":", 1)
                if fields[3] == "0A" and int(port_hex, 16) == port:
                    found.add(address)
    return found


# --- credentials on every door --------------------------------------------------------


def test_the_tracker_and_events_apis_need_the_token(bot: RunningBot) -> None:
    sender = phone(52)
    bot.chat(sender, "hi")
    tracker_url = f"{bot.rasa_url}/conversations/{sender}/tracker"
    events_url = f"{bot.rasa_url}/conversations/{sender}/tracker/events"
    listen = {"event": "action", "name": "action_listen"}
    assert request(tracker_url)[0] == 401
    assert request(tracker_url + "?token=wrong")[0] == 401
    assert request(events_url, data=listen, method="POST")[0] == 401
    assert request(f"{bot.rasa_url}/model/parse", data={"text": "hi"})[0] == 401
    status, body = request(bot.api(f"/conversations/{sender}/tracker"))
    assert status == 200 and json.loads(body)["sender_id"] == sender
    status, _ = request(
        bot.api(f"/conversations/{sender}/tracker/events"), data=listen, method="POST"
    )
    assert status == 200


def test_the_action_server_needs_the_secret(bot: RunningBot) -> None:
    call = {"next_action": "action_respond", "sender_id": phone(53), "tracker": {}, "domain": {}}
    assert request(f"{bot.action_url}/webhook", data=call)[0] == 401
    wrong = {ACTIONS_SECRET_HEADER: "guess"}
    assert request(f"{bot.action_url}/webhook", data=call, headers=wrong)[0] == 401
    assert request(f"{bot.action_url}/actions")[0] == 401
    assert request(f"{bot.action_url}/health")[0] == 200  # says only "ok"
    right = {ACTIONS_SECRET_HEADER: bot.secret("actions_secret")}
    status, body = request(f"{bot.action_url}/actions", headers=right)
    assert status == 200 and {"name": "action_respond"} in json.loads(body)


def test_the_rest_channel_needs_the_bearer_token(bot: RunningBot) -> None:
    url = f"{bot.rasa_url}/webhooks/rest/webhook"
    message = {"sender": phone(54), "message": "STOP"}
    assert request(url, data=message)[0] == 401
    assert request(url, data=message, headers={"Authorization": "Bearer guess"})[0] == 401
    assert request(url, data=message, headers={"Authorization": "Basic Zm9vOmJhcg=="})[0] == 401
    # Nothing happened to the debtor's account: no opt-out was recorded.
    assert "opted_out" not in bot.account("E2E-54")["flags"]
    assert request(f"{bot.rasa_url}/webhooks/rest/")[0] == 200  # the channel's health check
    token = {"Authorization": f"Bearer {bot.secret('rest_token')}"}
    assert request(url, data={"sender": phone(54), "message": "hi"}, headers=token)[0] == 200


def test_servers_listen_on_loopback_only(bot: RunningBot) -> None:
    for url in (bot.rasa_url, bot.action_url, bot.console_url):
        addresses = listening_addresses(port_of(url))
        assert addresses, f"nothing listens on {url}"
        # 0100007F is 127.0.0.1 in /proc's byte order; no 0.0.0.0 and no IPv6 wildcard.
        assert addresses == {"0100007F"}, addresses


def test_generated_token_files_are_private_and_named_in_the_ready_line(bot: RunningBot) -> None:
    ready = next(line for line in bot.output if "[parley] ready" in line)
    for name in ("rasa_auth_token", "rest_token", "actions_secret", "console_secret"):
        path = bot.secrets_dir / name
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, name
    assert str(bot.secrets_dir / "rasa_auth_token") in ready
    assert str(bot.secrets_dir / "rest_token") in ready
    assert "ready (production)" in ready
    # The token is not on any process's command line.
    token = bot.secret("rasa_auth_token")
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                assert token.encode() not in handle.read()
        except OSError:
            continue


# --- the identity check ----------------------------------------------------------------


def test_no_restart_or_new_channel_gets_more_than_the_policys_attempts(bot: RunningBot) -> None:
    sms, whatsapp = phone(50), f"whatsapp:{phone(50)}"
    sent: list[tuple[str, str]] = [
        (sms, "hi"),
        (sms, "jan 1 1990"),
        (sms, "/restart"),
        (sms, "hi there"),
        (sms, "02/02/1991"),
        (sms, "/restart"),
        (sms, "/session_start"),
        (sms, "hello"),
        (sms, "march 3 1980"),
        (sms, "/restart"),
        (sms, "hi"),
        (sms, "march 14 1985"),  # the right date, after the lock
        (whatsapp, "hello"),
        (whatsapp, "march 14 1985"),
    ]
    replies: list[str] = []
    for n, (sender, text) in enumerate(sent):
        status, body = post(bot, inbound(sender, text, f"SMlock{n:02d}"))
        assert status == 200
        replies += messages(body)
    text = "\n".join(replies).lower()
    assert text.count("doesn't match what we have on file") == 2
    assert "couldn't confirm your identity" in text
    assert "northwind" not in text and "1,200" not in text
    assert bot.account("E2E-50")["identity_locked_at"]
    events = bot.tracker(sms)["events"]
    assert not [e for e in events if e["event"] == "restart"]


def test_slash_payloads_are_answered_as_text(bot: RunningBot) -> None:
    sender = phone(51)
    payloads = {
        "/restart": "restart",
        "/affirm": "affirm",
        '/inform{"verified": true}': "inform",
        "/request_human@1.0": "request_human",
        "  /stop": "stop",
    }
    for n, payload in enumerate(payloads):
        status, body = post(bot, inbound(sender, payload, f"SMslash{n}"))
        assert status == 200 and messages(body), payload  # an answer, in words
    events = bot.tracker(sender)["events"]
    assert not [e for e in events if e["event"] in ("restart", "session_started")][1:]
    users = [e for e in events if e["event"] == "user"]
    # The debtor's own words are kept (Rasa trims surrounding white space).
    assert [u["text"] for u in users] == [p.strip() for p in payloads]
    named_by_text = {p.strip(): name for p, name in payloads.items()}
    for user in users:
        named = named_by_text[user["text"]]
        assert user["parse_data"]["intent"]["name"] != named, user["text"]
        assert {e["entity"] for e in user["parse_data"]["entities"]} <= {"emotion"}
    slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    assert slots.get("verified") in (None, False)
    parsed = bot.parse('/inform{"verified": true, "amount": "5"}')
    assert parsed["intent"]["name"] == "nlu_fallback"
    assert [e for e in parsed["entities"] if e["entity"] != "emotion"] == []


# --- one live agreement -------------------------------------------------------------------


def test_two_agreements_in_one_conversation_leave_one_active(bot: RunningBot) -> None:
    sender, ref = phone(55), "E2E-55"
    bot.chat(sender, "hi")
    bot.chat(sender, "march 14 1985")
    proposed = " ".join(bot.chat(sender, "i can pay it all today"))
    assert "$1,200.00" in proposed
    bot.chat(sender, "yes")
    assert [a["status"] for a in bot.agreements(ref)] == ["active"]
    # (The "actually can i switch to paying every two weeks" is read as out of
    # scope by today's NLU: a paraphrase gap for the NLU issue, not a storage question.)
    reply = " ".join(bot.chat(sender, "actually can i pay in installments instead"))
    for answer in ("2600", "1400"):
        if "each month" in reply.lower():
            reply = " ".join(bot.chat(sender, answer))
    assert "I'd suggest" in reply, reply
    confirm = " ".join(bot.chat(sender, "1")).lower()
    first = bot.agreements(ref)[0]["reference"]
    assert f"replace your current plan {first.lower()}" in confirm
    bot.chat(sender, "yes")
    stored = bot.agreements(ref)
    assert sorted(a["status"] for a in stored) == ["active", "superseded"]
    [active] = [a for a in stored if a["status"] == "active"]
    assert active["reference"] != first and active["total"] == "1200.00"
    assert bot.account(ref)["status"] == "in_agreement"
