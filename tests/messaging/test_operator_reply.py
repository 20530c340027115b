"""A person's reply from the console has its own send gate (rules.decide_operator_reply)."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from bot.messaging.rules import decide_operator_reply
from bot.negotiation import QuietHours
from bot.storage.repositories import PAUSING_FLAGS

WINDOW = QuietHours(time(8), time(21))
NY = "America/New_York"


def at(local: str) -> datetime:
    return datetime.fromisoformat(local).replace(tzinfo=ZoneInfo(NY)).astimezone(timezone.utc)


def gate(now: datetime, **kwargs: object) -> object:
    values: dict[str, object] = dict(
        flags=set(),
        account_status="active",
        channel="sms",
        zone=NY,
        now=now,
        quiet_hours=WINDOW,
        last_inbound_at=None,
    )
    values.update(kwargs)
    return decide_operator_reply(**values)  # type: ignore[arg-type]


NOON = at("2026-11-28T12:00")
NIGHT = at("2026-11-28T23:00")


@pytest.mark.parametrize("flag", sorted(PAUSING_FLAGS))
def test_the_flags_that_stop_the_bot_do_not_stop_a_person(flag: str) -> None:
    assert gate(NOON, flags={flag}).verdict == "send"  # type: ignore[attr-defined]


def test_never_after_an_opt_out_or_on_a_closed_account() -> None:
    assert gate(NOON, flags={"opted_out", "handoff"}).verdict == "block"  # type: ignore[attr-defined]
    assert gate(NOON, account_status="closed").verdict == "block"  # type: ignore[attr-defined]


def test_whatsapp_only_inside_the_24_hour_window() -> None:
    inside = gate(NOON, channel="whatsapp", last_inbound_at=NOON - timedelta(hours=23))
    outside = gate(NOON, channel="whatsapp", last_inbound_at=NOON - timedelta(hours=25))
    never = gate(NOON, channel="whatsapp", last_inbound_at=None)
    assert inside.verdict == "send"  # type: ignore[attr-defined]
    assert outside.verdict == never.verdict == "block"  # type: ignore[attr-defined]
    assert "template" in outside.reason  # type: ignore[attr-defined]


def test_quiet_hours_unless_the_debtor_wrote_in_the_last_30_minutes() -> None:
    late = gate(NIGHT)
    assert late.verdict == "schedule"  # type: ignore[attr-defined]
    assert late.not_before == at("2026-11-29T08:00")  # type: ignore[attr-defined]
    answering = gate(NIGHT, last_inbound_at=NIGHT - timedelta(minutes=29))
    assert answering.verdict == "send"  # type: ignore[attr-defined]
    stale = gate(NIGHT, last_inbound_at=NIGHT - timedelta(minutes=31))
    assert stale.verdict == "schedule"  # type: ignore[attr-defined]
