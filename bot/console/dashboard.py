"""The dashboard's figures (real accounts only: simulated ones are left out) and their charts
as plain SVG geometry for the template."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.console import tracker
from bot.privacy import sender_phone
from bot.storage.models import (
    ACCOUNT_FLAGS,
    Account,
    AccountFlag,
    Agreement,
    IdentityAttempt,
    OutboxMessage,
)

SENT_STATUSES = ("sent", "sending", "accepted", "delivered", "read", "undelivered")
FUNNEL_STEPS = ("contacted", "replied", "verified", "options shown", "agreed")


def real_accounts(session: Session) -> list[Account]:
    return [
        a
        for a in session.execute(sa.select(Account)).scalars()
        if not tracker.is_simulated(a.account_ref)
    ]


def _account_for_sender(sender_id: str, by_phone: dict[str, int]) -> int | None:
    phone = sender_phone(sender_id)
    return by_phone.get(phone) if phone else None


@dataclass(frozen=True)
class Figures:
    funnel: dict[str, int]
    outcomes: dict[str, int]
    emotions: dict[int, dict[str, int]]
    weeks: list[tuple[date, int, Decimal]]
    currency: str


def figures(session: Session) -> Figures:
    """Every number on the dashboard, from the database and the tracker store."""
    accounts = real_accounts(session)
    ids = {a.id for a in accounts}
    by_phone = {a.phone: a.id for a in accounts}
    engine = session.get_bind()
    summaries = [s for s in tracker.conversation_summaries(engine) if not s.simulated]  # type: ignore[arg-type]
    talked = {
        account_id
        for s in summaries
        if (account_id := _account_for_sender(s.sender_id, by_phone)) is not None
    }
    replied = {
        account_id
        for s in summaries
        if s.user_messages
        and (account_id := _account_for_sender(s.sender_id, by_phone)) is not None
    }
    sent = set(
        session.execute(
            sa.select(OutboxMessage.account_id).where(OutboxMessage.status.in_(SENT_STATUSES))
        ).scalars()
    )
    verified = set(
        session.execute(
            sa.select(IdentityAttempt.account_id).where(IdentityAttempt.matched.is_(True))
        ).scalars()
    )
    offered = {
        account_id
        for sender in tracker.senders_with_offers(engine)  # type: ignore[arg-type]
        if (account_id := _account_for_sender(sender, by_phone)) is not None
    }
    agreements = [a for a in session.execute(sa.select(Agreement)).scalars() if a.account_id in ids]
    agreed = {a.account_id for a in agreements}
    funnel = {
        "contacted": len(ids & (sent | talked)),
        "replied": len(ids & replied),
        "verified": len(ids & verified),
        "options shown": len(ids & offered),
        "agreed": len(ids & agreed),
    }
    flags = Counter(
        flag
        for flag, account_id in session.execute(
            sa.select(AccountFlag.flag, AccountFlag.account_id)
            .where(AccountFlag.cleared_at.is_(None))
            .distinct()
        )
        if account_id in ids
    )
    outcomes = {flag: flags.get(flag, 0) for flag in ACCOUNT_FLAGS}
    outcomes["in agreement"] = sum(1 for a in accounts if a.status == "in_agreement")
    emotions = tracker.emotions_by_turn(engine, [s.sender_id for s in summaries])  # type: ignore[arg-type]
    weekly: dict[date, tuple[int, Decimal]] = {}
    for agreement in agreements:
        day = agreement.created_at.date()
        monday = day - timedelta(days=day.weekday())
        count, total = weekly.get(monday, (0, Decimal("0")))
        weekly[monday] = (count + 1, total + Decimal(agreement.total))
    currencies = {a.currency for a in agreements}
    return Figures(
        funnel=funnel,
        outcomes=outcomes,
        emotions=emotions,
        weeks=[(week, n, total) for week, (n, total) in sorted(weekly.items())],
        currency=currencies.pop() if len(currencies) == 1 else "mixed currencies",
    )


EMOTION_COLOURS = {
    "positive": "#2e7d32",
    "neutral": "#78909c",
    "anxious": "#f9a825",
    "sad": "#1565c0",
    "angry": "#c62828",
    "unknown": "#bdbdbd",
}


def bar_chart(values: list[tuple[str, float]], width: int = 560, bar: int = 26) -> dict[str, Any]:
    """Horizontal bars: label, value, and the geometry to draw them."""
    top = max((v for _, v in values), default=0) or 1
    label_w, gap = 150, 8
    span = width - label_w - 70
    bars = [
        {
            "label": label,
            "value": value,
            "y": i * (bar + gap),
            "w": round(span * value / top, 1),
        }
        for i, (label, value) in enumerate(values)
    ]
    return {
        "bars": bars,
        "height": len(values) * (bar + gap),
        "width": width,
        "bar": bar,
        "x0": label_w,
    }


def stacked_chart(emotions: dict[int, dict[str, int]], width: int = 560) -> dict[str, Any]:
    """Columns per turn, stacked by emotion share."""
    turns = sorted(emotions)
    col_w, gap, height = 44, 14, 180
    columns = []
    for i, turn in enumerate(turns):
        counts = emotions[turn]
        total = sum(counts.values()) or 1
        y = float(height)
        parts = []
        for name in EMOTION_COLOURS:
            n = counts.get(name, 0)
            if not n:
                continue
            h = height * n / total
            y -= h
            parts.append({"name": name, "n": n, "y": round(y, 1), "h": round(h, 1)})
        columns.append({"turn": turn, "x": 40 + i * (col_w + gap), "parts": parts, "total": total})
    return {
        "columns": columns,
        "height": height,
        "width": max(width, 60 + len(turns) * (col_w + gap)),
        "col_w": col_w,
        "colours": EMOTION_COLOURS,
    }
