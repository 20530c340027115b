"""The one place that decides whether a bot-initiated message may be sent now (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Literal
from zoneinfo import ZoneInfo

from bot.negotiation import QuietHours
from bot.storage.repositories import PAUSING_FLAGS

OPT_OUT_LINE = "Reply STOP to opt out."

Verdict = Literal["send", "schedule", "hold", "block"]


@dataclass(frozen=True)
class SendDecision:
    verdict: Verdict
    reason: str
    not_before: datetime | None = None  # UTC, for "schedule"


def with_opt_out_line(body: str) -> str:
    """Every bot-initiated text ends with a short way to opt out."""
    text = body.rstrip()
    return text if text.endswith(OPT_OUT_LINE) else f"{text} {OPT_OUT_LINE}"


def next_allowed_time(now: datetime, zone: str, quiet_hours: QuietHours) -> datetime:
    """The next moment (UTC) inside the debtor's local sending window."""
    tz = ZoneInfo(zone)
    local = now.astimezone(tz)
    day = local.date() if local.time() < quiet_hours.start else local.date() + timedelta(days=1)
    # Build the local wall-clock time, then let zoneinfo pick the offset (DST-safe).
    return datetime.combine(day, quiet_hours.start, tzinfo=tz).astimezone(timezone.utc)


def decide(
    *,
    flags: set[str] | frozenset[str],
    account_status: str,
    zone: str,
    now: datetime,
    quiet_hours: QuietHours,
    sent_last_7_days: int,
    cap_per_7_days: int,
) -> SendDecision:
    """Block, hold, schedule or send, in that order of precedence.

    - opted out, closed, or collection paused (dispute, already paid, vulnerability,
      hand-off, wrong person) → never;
    - at the 7-day cap → held until older messages age out;
    - outside the policy's window in the debtor's time zone → scheduled for its start;
    - otherwise → send now.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if "opted_out" in flags:
        return SendDecision("block", "the debtor opted out")
    if account_status == "closed":
        return SendDecision("block", "the account is closed")
    paused = sorted(set(flags) & PAUSING_FLAGS)
    if paused:
        return SendDecision("block", f"collection is paused ({', '.join(paused)})")
    if sent_last_7_days >= cap_per_7_days:
        return SendDecision(
            "hold",
            f"{sent_last_7_days} message(s) in the last 7 days reach the cap of {cap_per_7_days}",
        )
    local = now.astimezone(ZoneInfo(zone))
    if not quiet_hours.allows(local.time()):
        when = next_allowed_time(now, zone, quiet_hours)
        local_when = when.astimezone(ZoneInfo(zone))
        return SendDecision(
            "schedule",
            f"{local:%H:%M} is outside {quiet_hours.start:%H:%M}-{quiet_hours.end:%H:%M} "
            f"in {zone}; scheduled for {local_when:%Y-%m-%d %H:%M} local time",
            when,
        )
    return SendDecision("send", "within the sending window")


# A person may answer outside the sending window when the debtor wrote this recently.
OPERATOR_REPLY_GRACE = timedelta(minutes=30)
WHATSAPP_SESSION_WINDOW = timedelta(hours=24)


def decide_operator_reply(
    *,
    flags: set[str] | frozenset[str],
    account_status: str,
    channel: str,
    zone: str,
    now: datetime,
    quiet_hours: QuietHours,
    last_inbound_at: datetime | None,
) -> SendDecision:
    """The send gate for a person's reply from the console.

    - opted out or closed → never;
    - WhatsApp more than 24 hours after the debtor's last message → never free-form (only
      an approved template may be sent then, and a template is not a person's reply);
    - outside the quiet-hours window → scheduled, unless the debtor wrote in the last 30
      minutes (then the person is answering them, as the bot would);
    - otherwise → send now. The pausing flags (hand-off, vulnerable, disputed) stop the
      bot, not a person: that is who they are waiting for.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if "opted_out" in flags:
        return SendDecision("block", "the debtor opted out")
    if account_status == "closed":
        return SendDecision("block", "the account is closed")
    recent = last_inbound_at is not None and now - last_inbound_at <= OPERATOR_REPLY_GRACE
    if channel == "whatsapp" and (
        last_inbound_at is None or now - last_inbound_at > WHATSAPP_SESSION_WINDOW
    ):
        return SendDecision(
            "block",
            "the WhatsApp 24-hour window is closed: only an approved template may be sent",
        )
    local = now.astimezone(ZoneInfo(zone))
    if not recent and not quiet_hours.allows(local.time()):
        when = next_allowed_time(now, zone, quiet_hours)
        local_when = when.astimezone(ZoneInfo(zone))
        return SendDecision(
            "schedule",
            f"{local:%H:%M} is outside {quiet_hours.start:%H:%M}-{quiet_hours.end:%H:%M} "
            f"in {zone} and the debtor has not written in the last 30 minutes; "
            f"scheduled for {local_when:%Y-%m-%d %H:%M} local time",
            when,
        )
    return SendDecision("send", "a reply from a person")
