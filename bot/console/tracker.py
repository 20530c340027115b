"""Reading Rasa's tracker store (its `events` table on Parley's database), read-only.

The tracker is the one record of a conversation: what the debtor wrote (with the parse:
intent, entities, emotion), what the bot said and did, pauses and resumes, and the
replies people sent from the console (bot events with `metadata.operator`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bot.privacy import mask_card_numbers

EVENTS = sa.table(
    "events",
    sa.column("id", sa.Integer),
    sa.column("sender_id", sa.String),
    sa.column("type_name", sa.String),
    sa.column("timestamp", sa.Float),
    sa.column("intent_name", sa.String),
    sa.column("action_name", sa.String),
    sa.column("data", sa.Text),
)
SIMULATED_PREFIX = "sim:"
# Actions that are bookkeeping, not something the bot did for the debtor.
_QUIET_ACTIONS = {"action_listen", "action_session_start", "action_extract_slots"}


def is_simulated(sender_id: str) -> bool:
    return sender_id.startswith(SIMULATED_PREFIX)


def has_events_table(engine: Engine) -> bool:
    return sa.inspect(engine).has_table("events")


def _when(timestamp: float | None) -> datetime | None:
    return datetime.fromtimestamp(timestamp, tz=timezone.utc) if timestamp else None


def masked(text: str | None) -> str:
    """Card numbers are masked before storage; masked again here, whatever path wrote it."""
    return mask_card_numbers(text or "")[0]


@dataclass(frozen=True)
class ConversationSummary:
    sender_id: str
    last_at: datetime | None
    user_messages: int
    last_emotion: str | None
    paused: bool

    @property
    def simulated(self) -> bool:
        return is_simulated(self.sender_id)


def conversation_summaries(engine: Engine) -> list[ConversationSummary]:
    """Every conversation in the store with its last activity and the debtor's last emotion."""
    if not has_events_table(engine):
        return []
    e = EVENTS
    with engine.connect() as conn:
        stats = conn.execute(
            sa.select(
                e.c.sender_id,
                sa.func.max(e.c.timestamp),
                sa.func.sum(sa.case((e.c.type_name == "user", 1), else_=0)),
            ).group_by(e.c.sender_id)
        ).all()
        last_user_ids = (
            sa.select(sa.func.max(e.c.id))
            .where(e.c.type_name == "user")
            .group_by(e.c.sender_id)
            .scalar_subquery()
        )
        emotions: dict[str, str | None] = {}
        for sender, data in conn.execute(
            sa.select(e.c.sender_id, e.c.data).where(e.c.id.in_(last_user_ids))
        ):
            emotions[sender] = _emotion(json.loads(data))[0]
        last_pause_ids = (
            sa.select(sa.func.max(e.c.id))
            .where(e.c.type_name.in_(("pause", "resume")))
            .group_by(e.c.sender_id)
            .scalar_subquery()
        )
        paused = {
            sender
            for sender, kind in conn.execute(
                sa.select(e.c.sender_id, e.c.type_name).where(e.c.id.in_(last_pause_ids))
            )
            if kind == "pause"
        }
    return [
        ConversationSummary(
            sender, _when(last), int(count or 0), emotions.get(sender), sender in paused
        )
        for sender, last, count in stats
    ]


def _emotion(data: dict[str, Any]) -> tuple[str | None, float | None]:
    emotion = (data.get("parse_data") or {}).get("emotion") or {}
    name = emotion.get("name")
    confidence = emotion.get("confidence")
    return name, float(confidence) if confidence is not None else None


@dataclass
class Turn:
    """One debtor message (or the opening, if the bot spoke first) and what followed."""

    event_id: int | None
    at: datetime | None
    text: str | None
    intent: str | None
    intent_confidence: float | None
    entities: list[tuple[str, str]]
    emotion: str | None
    emotion_confidence: float | None
    replies: list[dict[str, Any]] = field(default_factory=list)


def events_for(engine: Engine, sender_id: str) -> list[tuple[int, dict[str, Any]]]:
    if not has_events_table(engine):
        return []
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(EVENTS.c.id, EVENTS.c.data)
            .where(EVENTS.c.sender_id == sender_id)
            .order_by(EVENTS.c.id)
        ).all()
    return [(row_id, json.loads(data)) for row_id, data in rows]


def user_turn(event_id: int, data: dict[str, Any]) -> Turn:
    parse = data.get("parse_data") or {}
    intent = parse.get("intent") or {}
    emotion, emotion_confidence = _emotion(data)
    entities = [
        (str(item.get("entity")), masked(str(item.get("value"))))
        for item in parse.get("entities") or []
        # The emotion classifier's own entity is shown as the emotion, not twice.
        if item.get("entity") and item.get("entity") != "emotion"
    ]
    confidence = intent.get("confidence")
    return Turn(
        event_id=event_id,
        at=_when(data.get("timestamp")),
        text=masked(data.get("text")),
        intent=intent.get("name"),
        intent_confidence=float(confidence) if confidence is not None else None,
        entities=entities,
        emotion=emotion,
        emotion_confidence=emotion_confidence,
    )


def transcript(engine: Engine, sender_id: str) -> list[Turn]:
    """The conversation as turns: each debtor message with the parse, then the replies."""
    turns: list[Turn] = []
    current: Turn | None = None
    for event_id, data in events_for(engine, sender_id):
        kind = data.get("event")
        if kind == "user":
            current = user_turn(event_id, data)
            turns.append(current)
            continue
        item: dict[str, Any] | None = None
        if kind == "bot":
            operator = (data.get("metadata") or {}).get("operator")
            item = {
                "kind": "operator" if operator else "bot",
                "text": masked(data.get("text")),
                "by": operator,
            }
        elif kind == "action" and data.get("name") not in _QUIET_ACTIONS:
            item = {"kind": "action", "text": data.get("name")}
        elif kind in ("pause", "resume"):
            item = {"kind": kind, "text": "bot paused" if kind == "pause" else "bot resumed"}
        if item is None:
            continue
        item["at"] = _when(data.get("timestamp"))
        if current is None:
            current = Turn(None, item["at"], None, None, None, [], None, None)
            turns.append(current)
        current.replies.append(item)
    return turns


@dataclass(frozen=True)
class UncertainMessage:
    sender_id: str
    event_id: int
    at: datetime | None
    text: str
    intent: str | None
    confidence: float | None
    runner_up: str | None
    runner_up_confidence: float | None
    emotion: str | None
    reason: str


def uncertain_messages(
    engine: Engine,
    *,
    threshold: float = 0.6,
    margin: float = 0.1,
    exclude_simulated: bool = False,
) -> list[UncertainMessage]:
    """Messages the bot was unsure about, newest first: fallback, low confidence, or two
    intents within `margin` of each other."""
    if not has_events_table(engine):
        return []
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(EVENTS.c.id, EVENTS.c.sender_id, EVENTS.c.data)
            .where(EVENTS.c.type_name == "user")
            .order_by(EVENTS.c.id.desc())
        ).all()
    found: list[UncertainMessage] = []
    for event_id, sender_id, raw in rows:
        if exclude_simulated and is_simulated(sender_id):
            continue
        data = json.loads(raw)
        parse = data.get("parse_data") or {}
        intent = parse.get("intent") or {}
        name = intent.get("name")
        confidence = intent.get("confidence")
        ranking = [r for r in parse.get("intent_ranking") or [] if r.get("name") != name]
        runner = ranking[0] if ranking else {}
        runner_confidence = runner.get("confidence")
        reason = None
        if name == "nlu_fallback":
            reason = "fallback"
        elif confidence is None or float(confidence) < threshold:
            reason = "low confidence"
        elif (
            runner_confidence is not None and float(confidence) - float(runner_confidence) < margin
        ):
            reason = "ambiguous"
        if reason is None:
            continue
        emotion, _ = _emotion(data)
        found.append(
            UncertainMessage(
                sender_id=sender_id,
                event_id=event_id,
                at=_when(data.get("timestamp")),
                text=masked(data.get("text")),
                intent=name,
                confidence=float(confidence) if confidence is not None else None,
                runner_up=runner.get("name"),
                runner_up_confidence=float(runner_confidence)
                if runner_confidence is not None
                else None,
                emotion=emotion,
                reason=reason,
            )
        )
    return found


def user_event(engine: Engine, sender_id: str, event_id: int) -> dict[str, Any] | None:
    with engine.connect() as conn:
        raw = conn.execute(
            sa.select(EVENTS.c.data).where(
                EVENTS.c.id == event_id,
                EVENTS.c.sender_id == sender_id,
                EVENTS.c.type_name == "user",
            )
        ).scalar_one_or_none()
    return json.loads(raw) if raw else None


def emotions_by_turn(
    engine: Engine, senders: Sequence[str], max_turns: int = 8
) -> dict[int, dict[str, int]]:
    """For turn 1..max_turns of each conversation, how many debtors showed each emotion."""
    counts: dict[int, dict[str, int]] = {}
    wanted = set(senders)
    if not has_events_table(engine) or not wanted:
        return counts
    seen: dict[str, int] = {}
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(EVENTS.c.sender_id, EVENTS.c.data)
            .where(EVENTS.c.type_name == "user")
            .order_by(EVENTS.c.id)
        ).all()
    for sender_id, raw in rows:
        if sender_id not in wanted:
            continue
        seen[sender_id] = seen.get(sender_id, 0) + 1
        turn = seen[sender_id]
        if turn > max_turns:
            continue
        name = _emotion(json.loads(raw))[0] or "unknown"
        bucket = counts.setdefault(turn, {})
        bucket[name] = bucket.get(name, 0) + 1
    return counts


def senders_with_offers(engine: Engine) -> set[str]:
    """Conversations in which the bot showed payment options (the `offers` slot was filled)."""
    if not has_events_table(engine):
        return set()
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(EVENTS.c.sender_id, EVENTS.c.data).where(
                EVENTS.c.type_name == "slot", EVENTS.c.data.like('%"name": "offers"%')
            )
        ).all()
    return {sender for sender, raw in rows if json.loads(raw).get("value")}


def last_user_message_at(engine: Engine, sender_id: str) -> datetime | None:
    """When the debtor last wrote in this conversation."""
    if not has_events_table(engine):
        return None
    with engine.connect() as conn:
        latest = conn.execute(
            sa.select(sa.func.max(EVENTS.c.timestamp)).where(
                EVENTS.c.sender_id == sender_id, EVENTS.c.type_name == "user"
            )
        ).scalar_one_or_none()
    return _when(latest)


def is_paused(engine: Engine, sender_id: str) -> bool:
    """Whether the bot is paused for this conversation (its last pause has no resume)."""
    if not has_events_table(engine):
        return False
    with engine.connect() as conn:
        last = conn.execute(
            sa.select(EVENTS.c.type_name)
            .where(EVENTS.c.sender_id == sender_id, EVENTS.c.type_name.in_(("pause", "resume")))
            .order_by(EVENTS.c.id.desc())
            .limit(1)
        ).scalar_one_or_none()
    return last == "pause"
