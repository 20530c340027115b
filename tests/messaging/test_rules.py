"""When a bot-initiated message may go: the pure decision."""

from __future__ import annotations

from datetime import datetime, time, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.messaging.rules import OPT_OUT_LINE, decide, next_allowed_time, with_opt_out_line
from bot.negotiation import QuietHours

WINDOW = QuietHours(time(8), time(21))
NY = "America/New_York"


def at(local: str, zone: str = NY) -> datetime:
    return datetime.fromisoformat(local).replace(tzinfo=ZoneInfo(zone)).astimezone(timezone.utc)


def verdict(now: datetime, **kwargs: object) -> object:
    values = dict(
        flags=set(),
        account_status="active",
        zone=NY,
        now=now,
        quiet_hours=WINDOW,
        sent_last_7_days=0,
        cap_per_7_days=3,
    )
    values.update(kwargs)
    return decide(**values)  # type: ignore[arg-type]


def test_at_22_local_the_message_waits_for_8_next_morning() -> None:
    decision = verdict(at("2026-11-28T22:00"))
    assert decision.verdict == "schedule"
    assert decision.not_before == at("2026-11-29T08:00")
    assert "scheduled for 2026-11-29 08:00 local time" in decision.reason


def test_before_8_waits_for_8_the_same_day_and_window_edges() -> None:
    assert verdict(at("2026-11-28T06:30")).not_before == at("2026-11-28T08:00")
    assert verdict(at("2026-11-28T08:00")).verdict == "send"
    assert verdict(at("2026-11-28T20:59")).verdict == "send"
    assert verdict(at("2026-11-28T21:00")).verdict == "schedule"


def test_the_debtors_zone_not_the_servers() -> None:
    # 15:00 UTC is 07:00 in Los Angeles: too early there, fine in New York.
    now = datetime(2026, 11, 28, 15, 0, tzinfo=timezone.utc)
    assert verdict(now, zone="America/Los_Angeles").verdict == "schedule"
    assert verdict(now, zone=NY).verdict == "send"


def test_daylight_saving_change_keeps_8_local() -> None:
    # The night US clocks go back (2026-11-01): 08:00 local is 13:00 UTC, not 12:00.
    assert next_allowed_time(at("2026-10-31T23:00"), NY, WINDOW) == datetime(
        2026, 11, 1, 13, 0, tzinfo=timezone.utc
    )


@pytest.mark.parametrize(
    ("flags", "status", "reason"),
    [
        ({"opted_out"}, "active", "opted out"),
        ({"disputed"}, "paused", "collection is paused (disputed)"),
        ({"vulnerable", "handoff"}, "paused", "collection is paused (handoff, vulnerable)"),
        (set(), "closed", "closed"),
    ],
)
def test_never_after_opt_out_dispute_or_pause(flags: set[str], status: str, reason: str) -> None:
    decision = verdict(at("2026-11-28T12:00"), flags=flags, account_status=status)
    assert decision.verdict == "block" and reason in decision.reason


def test_cap_holds_even_inside_the_window() -> None:
    assert verdict(at("2026-11-28T12:00"), sent_last_7_days=3).verdict == "hold"
    assert verdict(at("2026-11-28T12:00"), sent_last_7_days=2).verdict == "send"


def test_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        verdict(datetime(2026, 11, 28, 12, 0))


def test_opt_out_line_is_added_once() -> None:
    assert with_opt_out_line("Hi there.") == f"Hi there. {OPT_OUT_LINE}"
    assert with_opt_out_line(f"Hi there. {OPT_OUT_LINE}") == f"Hi there. {OPT_OUT_LINE}"


@settings(max_examples=300, deadline=None)
@given(
    moment=st.datetimes(
        min_value=datetime(2024, 1, 1),
        max_value=datetime(2030, 12, 31),
        timezones=st.just(timezone.utc),
    ),
    zone=st.sampled_from(
        [
            NY,
            "Europe/London",
            "Asia/Kolkata",
            "Australia/Lord_Howe",
            "America/St_Johns",
            "Pacific/Chatham",
        ]
    ),
)
def test_nothing_is_ever_sent_or_scheduled_outside_the_window(moment: datetime, zone: str) -> None:
    decision = verdict(moment, zone=zone)
    local_now = moment.astimezone(ZoneInfo(zone)).time()
    if decision.verdict == "send":
        assert WINDOW.allows(local_now)
    else:
        assert decision.verdict == "schedule" and decision.not_before is not None
        assert decision.not_before > moment
        assert WINDOW.allows(decision.not_before.astimezone(ZoneInfo(zone)).time())
