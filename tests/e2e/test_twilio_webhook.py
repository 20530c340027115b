"""Signed Twilio webhooks (SMS and WhatsApp) against the running bot and the real model."""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

import pytest
from twilio.request_validator import RequestValidator

from tests.e2e.conftest import TWILIO_TOKEN, RunningBot, phone

pytestmark = pytest.mark.e2e

PATH = "/webhooks/twilio/webhook"


def post(
    bot: RunningBot,
    form: dict[str, str],
    *,
    sign: bool = True,
    tamper: bool = False,
    path: str = PATH,
) -> tuple[int, str]:
    url = bot.env["PUBLIC_BASE_URL"] + path
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if sign:
        headers["X-Twilio-Signature"] = RequestValidator(TWILIO_TOKEN).compute_signature(url, form)
    sent = dict(form)
    if tamper:
        sent["Body"] = sent.get("Body", "") + " (changed in transit)"
    request = urllib.request.Request(
        bot.rasa_url + path,
        data=urllib.parse.urlencode(sent).encode(),
        headers=headers,
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def inbound(sender: str, body: str, sid: str, **extra: str) -> dict[str, str]:
    # Blank values are part of what Twilio signs; the channel must keep them.
    return {
        "MessageSid": sid, "SmsMessageSid": sid, "AccountSid": "ACe2e", "From": sender,
        "To": "+15005550006", "Body": body, "NumMedia": "0", "FromCity": "", "FromState": "", **extra,
    }  # fmt: skip


def messages(twiml: str) -> list[str]:
    root = ET.fromstring(twiml)
    assert root.tag == "Response"
    return [(m.text or "") for m in root.iter("Message")]


def test_signed_sms_gets_a_twiml_reply_from_the_model(bot: RunningBot) -> None:
    status, body = post(bot, inbound(phone(30), "hi who is this", "SM30a"))
    assert status == 200
    replies = messages(body)
    assert any("date of birth" in r for r in replies)


def test_signed_whatsapp_gets_a_twiml_reply(bot: RunningBot) -> None:
    sender = f"whatsapp:{phone(31)}"
    status, body = post(bot, inbound(sender, "hello", "SM31a", ProfileName="Maria L"))
    assert status == 200 and any("automated assistant" in r for r in messages(body))
    status, body = post(bot, inbound(sender, "march 14 1985", "SM31b"))
    assert any("northwind clinic" in r.lower() for r in messages(body))
    tracker = bot.tracker(sender)
    user = [e for e in tracker["events"] if e["event"] == "user"]
    assert user[-1]["metadata"]["channel"] == "whatsapp"
    assert (
        user[-1]["metadata"]["profile_name"] is None
        or user[0]["metadata"]["profile_name"] == "Maria L"
    )
    assert user[-1]["message_id"] == "SM31b"


def test_unsigned_and_tampered_requests_are_refused(bot: RunningBot) -> None:
    sender = phone(32)
    status, _ = post(bot, inbound(sender, "hi", "SM32a"), sign=False)
    assert status == 403
    status, _ = post(bot, inbound(sender, "hi", "SM32b"), tamper=True)
    assert status == 403
    # nothing was processed: no conversation exists for that sender
    assert [e for e in bot.tracker(sender)["events"] if e["event"] == "user"] == []


def test_the_same_message_sid_is_processed_once(bot: RunningBot) -> None:
    sender = phone(33)
    form = inbound(sender, "hi", "SM33dup")
    first = post(bot, form)
    second = post(bot, form)
    assert first == second and first[0] == 200
    users = [e for e in bot.tracker(sender)["events"] if e["event"] == "user"]
    assert len(users) == 1


def test_media_only_message_gets_a_polite_reply(bot: RunningBot) -> None:
    form = inbound(
        phone(34),
        "",
        "SM34",
        NumMedia="1",
        MediaUrl0="https://api.twilio.com/media/ME1",
        MediaContentType0="image/jpeg",
    )
    status, body = post(bot, form)
    assert status == 200
    assert any("only read text" in r for r in messages(body))


def test_long_replies_and_bodies_are_safe(bot: RunningBot) -> None:
    status, body = post(bot, inbound(phone(35), "a" * 4000 + " <script>&", "SM35"))
    assert status == 200
    assert all(len(m) <= 1600 for m in messages(body))  # parsed as XML: escaping held


def test_stop_keyword_then_silence_then_start(bot: RunningBot) -> None:
    sender = phone(36)
    status, body = post(bot, inbound(sender, "Stop", "SM36a"))
    assert any("opted out" in r for r in messages(body))
    assert "opted_out" in bot.account("E2E-36")["flags"]
    status, body = post(bot, inbound(sender, "hello?", "SM36b"))
    assert status == 200 and messages(body) == []
    status, body = post(bot, inbound(sender, "UNSTOP", "SM36c"))
    assert any("subscribed again" in r for r in messages(body))


def test_twilio_opt_out_type_marks_the_account_without_a_second_reply(bot: RunningBot) -> None:
    sender = phone(37)
    status, body = post(bot, inbound(sender, "STOPALL", "SM37", OptOutType="STOP"))
    assert status == 200 and messages(body) == []  # Twilio's Advanced Opt-Out already replied
    assert "opted_out" in bot.account("E2E-37")["flags"]


def test_status_callback_must_be_signed(bot: RunningBot) -> None:
    form = {"MessageSid": "SMnotours", "MessageStatus": "delivered"}
    assert post(bot, form, sign=False, path="/webhooks/twilio/status")[0] == 403
    assert post(bot, form, path="/webhooks/twilio/status")[0] == 204
