"""The outbox against a real database and a fake Twilio API on loopback."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, datetime, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from bot.accounts.csv_import import AccountRow
from bot.messaging.outbox import OutboxSender, queue_outreach, queue_reminders
from bot.messaging.rules import OPT_OUT_LINE
from bot.negotiation import load_policy
from bot.negotiation.plans import Installment
from bot.settings import get_settings
from bot.storage import AccountRepository, AgreementRepository, get_database
from bot.storage.delivery import record_status_callback
from bot.storage.models import OutboxMessage
from tests.fakes.twilio_api import FakeTwilioApi

NY = ZoneInfo("America/New_York")
NOON = datetime(2026, 11, 28, 12, 0, tzinfo=NY).astimezone(timezone.utc)


@pytest.fixture
def twilio(env_database: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTwilioApi]:
    with FakeTwilioApi() as api:
        for key, value in {
            "TWILIO_ACCOUNT_SID": "ACtest",
            "TWILIO_AUTH_TOKEN": "secret",
            "TWILIO_SMS_FROM": "+15005550006",
            "TWILIO_WHATSAPP_FROM": "whatsapp:+15005550006",
            "TWILIO_WHATSAPP_TEMPLATE_SID": "HXtemplate",
            "TWILIO_API_BASE": api.base_url,
            "PUBLIC_BASE_URL": "https://parley.example.org",
            "PARLEY_SEND_RATE": "1000",  # these tests are not about the rate
        }.items():
            monkeypatch.setenv(key, value)
        get_settings.cache_clear()
        with get_database().session() as session:
            AccountRepository(session).upsert_many(
                [
                    AccountRow(
                        2,
                        "SMS-1",
                        "Maria Lopez",
                        "+12025550143",
                        Decimal("1200.00"),
                        "USD",
                        "America/New_York",
                        date(1985, 3, 14),
                    ),
                    AccountRow(
                        3,
                        "WA-1",
                        "James Carter",
                        "+14155552671",
                        Decimal("480.50"),
                        "USD",
                        "America/Los_Angeles",
                        date(1979, 11, 2),
                        channel="whatsapp",
                    ),
                ]
            )
        yield api
        get_settings.cache_clear()


def run(now: datetime, queue=queue_outreach, **kwargs):  # type: ignore[no-untyped-def]
    policy = load_policy(get_settings().policy_file)
    ids = queue(policy, now, **kwargs)
    sender = OutboxSender.from_settings()
    sender.client.backoff_seconds = 0.01  # type: ignore[union-attr]
    return {r.account_ref: r for r in asyncio.run(sender.dispatch(policy, now, ids))}


def outbox_rows() -> list[OutboxMessage]:
    with get_database().session() as session:
        return list(session.execute(sa.select(OutboxMessage).order_by(OutboxMessage.id)).scalars())


def test_outreach_sends_once_with_opt_out_line_and_no_debt_details(twilio: FakeTwilioApi) -> None:
    results = run(NOON)
    assert results["SMS-1"].status == "sent"
    sms = next(r for r in twilio.messages() if r.form["To"] == "+12025550143")
    assert sms.form["From"] == "+15005550006" and sms.account_sid == "ACtest"
    assert sms.form["Body"].endswith(OPT_OUT_LINE)
    assert "1200" not in sms.form["Body"] and "1,200" not in sms.form["Body"]
    sms_row = next(r for r in outbox_rows() if r.to_address == "+12025550143")
    assert sms.form["StatusCallback"] == (
        f"https://parley.example.org/webhooks/twilio/status?outbox={sms_row.id}"
    )
    assert sms.headers["I-Twilio-Idempotency-Token"] == "outreach:SMS-1"
    # WhatsApp with no message from the debtor in 24 h: the approved template, not free text
    wa = next(r for r in twilio.messages() if r.form["To"] == "whatsapp:+14155552671")
    assert wa.form["ContentSid"] == "HXtemplate" and "Body" not in wa.form
    assert json.loads(wa.form["ContentVariables"]) == {"1": "James"}
    sent = len(twilio.messages())
    again = run(NOON)  # a second run sends nothing new
    assert len(twilio.messages()) == sent
    assert again == {}


def test_after_opt_out_nothing_is_sent(twilio: FakeTwilioApi) -> None:
    with get_database().session() as session:
        repo = AccountRepository(session)
        repo.set_flag(repo.require("SMS-1"), "opted_out")
    results = run(NOON)
    assert results["SMS-1"].status == "blocked" and "opted out" in results["SMS-1"].reason
    assert all(r.form["To"] != "+12025550143" for r in twilio.messages())


def test_at_22_local_outreach_is_scheduled_for_8_then_sent(twilio: FakeTwilioApi) -> None:
    late = datetime(2026, 11, 28, 22, 0, tzinfo=NY).astimezone(timezone.utc)
    results = run(late)
    assert results["SMS-1"].status == "scheduled"
    assert "2026-11-29 08:00 local time" in results["SMS-1"].reason
    assert all(r.form["To"] != "+12025550143" for r in twilio.messages())
    row = next(r for r in outbox_rows() if r.to_address == "+12025550143")
    assert row.scheduled_for == datetime(2026, 11, 29, 8, 0, tzinfo=NY).astimezone(timezone.utc)
    # an 07:59 run still waits; the 08:00 run sends it
    policy = load_policy(get_settings().policy_file)
    early = datetime(2026, 11, 29, 7, 59, tzinfo=NY).astimezone(timezone.utc)
    asyncio.run(OutboxSender.from_settings().dispatch(policy, early))
    assert all(r.form["To"] != "+12025550143" for r in twilio.messages())
    eight = datetime(2026, 11, 29, 8, 0, tzinfo=NY).astimezone(timezone.utc)
    asyncio.run(OutboxSender.from_settings().dispatch(policy, eight))
    assert any(r.form["To"] == "+12025550143" for r in twilio.messages())


def test_server_errors_are_retried_with_the_same_idempotency_key(twilio: FakeTwilioApi) -> None:
    twilio.fail_next(500)
    twilio.fail_next(503)
    results = run(NOON)
    assert results["SMS-1"].status == "sent"
    tries = [r for r in twilio.messages() if r.form["To"] == "+12025550143"]
    assert len(tries) == 3
    assert {r.headers["I-Twilio-Idempotency-Token"] for r in tries} == {"outreach:SMS-1"}


def test_persistent_outage_keeps_the_message_queued(twilio: FakeTwilioApi) -> None:
    for _ in range(4):
        twilio.fail_next(503)
    results = run(NOON)
    assert results["SMS-1"].status == "queued" and "will retry" in results["SMS-1"].reason


def test_error_21610_marks_the_account_opted_out(twilio: FakeTwilioApi) -> None:
    twilio.fail_next(400, 21610, "Attempt to send to unsubscribed recipient")
    results = run(NOON)
    assert results["SMS-1"].status == "failed"
    with get_database().session() as session:
        repo = AccountRepository(session)
        assert "opted_out" in repo.active_flags(repo.require("SMS-1"))


def test_error_63016_falls_back_to_the_whatsapp_template(twilio: FakeTwilioApi) -> None:
    with get_database().session() as session:  # the debtor wrote an hour ago: inside the window
        repo = AccountRepository(session)
        repo.touch_inbound(repo.require("WA-1"), NOON.replace(hour=NOON.hour - 1))
        repo.set_flag(repo.require("SMS-1"), "opted_out")
    twilio.fail_next(400, 63016, "outside the allowed window")
    results = run(NOON)
    assert results["WA-1"].status == "sent" and "template" in results["WA-1"].reason
    first, second = twilio.messages()
    assert "Body" in first.form and second.form["ContentSid"] == "HXtemplate"


def test_cap_holds_the_fourth_message_in_7_days(twilio: FakeTwilioApi) -> None:
    with get_database().session() as session:
        repo = AccountRepository(session)
        account = repo.require("SMS-1")
        agreement, _ = AgreementRepository(session).create(
            account,
            kind="installment",
            frequency="weekly",
            total=Decimal("100.00"),
            currency="USD",
            schedule=[
                Installment(
                    date(2026, 11, 29 + i) if i < 2 else date(2026, 12, i - 1), Decimal("25.00")
                )
                for i in range(4)
            ],
            idempotency_key="k",
        )
    results = run(NOON)  # outreach: 1 each
    assert results["SMS-1"].status == "sent"
    results = run(NOON, queue_reminders, days=7)
    statuses = [r.status for r in outbox_rows() if r.to_address == "+12025550143"]
    assert statuses.count("sent") == 3 and "held" in statuses


def test_status_callbacks_only_move_forward(twilio: FakeTwilioApi) -> None:
    run(NOON)
    sid = next(r.twilio_sid for r in outbox_rows() if r.to_address == "+12025550143")
    assert sid
    assert record_status_callback(sid, "delivered", None)
    assert not record_status_callback(sid, "sent", None)  # late "sent" after "delivered"
    assert not record_status_callback("SMunknown", "delivered", None)
    row = next(r for r in outbox_rows() if r.twilio_sid == sid)
    assert row.status == "delivered"


def test_not_configured_keeps_messages_queued(
    env_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    get_settings.cache_clear()
    with get_database().session() as session:
        AccountRepository(session).upsert_many(
            [
                AccountRow(
                    2,
                    "SMS-1",
                    "Maria Lopez",
                    "+12025550143",
                    Decimal("1200.00"),
                    "USD",
                    "America/New_York",
                    date(1985, 3, 14),
                )
            ]
        )
    policy = load_policy(get_settings().policy_file)
    ids = queue_outreach(policy, NOON)
    results = asyncio.run(OutboxSender.from_settings().dispatch(policy, NOON, ids))
    assert results[0].status == "queued" and "not configured" in results[0].reason


def parley(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=120,
    )


def test_commands_report_and_respect_stop(twilio: FakeTwilioApi) -> None:
    with get_database().session() as session:
        repo = AccountRepository(session)
        account = repo.require("SMS-1")
        AgreementRepository(session).create(
            account, kind="installment", frequency="monthly", total=Decimal("300.00"), currency="USD",
            schedule=[Installment(date(2026, 11, 30), Decimal("150.00")), Installment(date(2026, 12, 30), Decimal("150.00"))],
            idempotency_key="cli",
        )  # fmt: skip
        repo.set_flag(account, "opted_out")
    outreach = parley("outreach", "--now", "2026-11-28T12:00:00-05:00")
    assert outreach.returncode == 0, outreach.stderr
    assert "SMS-1" in outreach.stdout and "blocked: the debtor opted out" in outreach.stdout
    remind = parley("remind", "--days", "5", "--now", "2026-11-28T12:00:00-05:00")
    assert remind.returncode == 0, remind.stderr
    assert "blocked: the debtor opted out" in remind.stdout
    assert all(r.form["To"] != "+12025550143" for r in twilio.messages())
    late = parley("outreach", "--now", "2026-11-28T22:00:00-05:00")
    assert "Nothing to send" in late.stdout  # already queued once; keys are idempotent
    bad = parley("remind", "--now", "tomorrow")
    assert bad.returncode == 1 and "Traceback" not in bad.stderr


def test_reminders_follow_only_the_active_agreement(twilio: FakeTwilioApi) -> None:
    """A reminder queued (scheduled past quiet hours) for a plan then replaced never goes."""

    def agree(key: str, amount: str) -> str:
        with get_database().session() as session:
            agreement, _ = AgreementRepository(session).create(
                AccountRepository(session).require("SMS-1"),
                kind="full",
                total=Decimal(amount),
                currency="USD",
                schedule=[Installment(date(2026, 11, 30), Decimal(amount))],
                idempotency_key=key,
            )
            return str(agreement.reference)

    old = agree("old-terms", "1200.00")
    night = datetime(2026, 11, 28, 22, 30, tzinfo=NY).astimezone(timezone.utc)
    policy = load_policy(get_settings().policy_file)
    queue_reminders(policy, night, days=3)
    assert [r.status for r in outbox_rows()] == ["scheduled"]  # for 08:00 local
    new = agree("new-terms", "1200.00")
    next_noon = datetime(2026, 11, 29, 12, 0, tzinfo=NY).astimezone(timezone.utc)
    run(next_noon, queue_reminders, days=3)
    rows = outbox_rows()
    assert [(r.kind, r.status) for r in rows] == [("reminder", "blocked"), ("reminder", "sent")]
    assert f"agreement {old} is superseded" in (rows[0].reason or "")
    assert len(twilio.messages()) == 1 and new != old
