"""The last check before the bot's words leave: guards no story or response can undo.

Trainers shape the conversation with responses, rules and stories. Two rules must hold
whatever they write, so they are enforced here, on the messages a turn produced, after
Rasa has stored the turn and before the channel sends anything:

- nothing about the debt (the creditor, the balance, any money amount) reaches a sender
  who was not verified *when the message was uttered*: such a message is replaced by a
  neutral one, and the block is recorded on the account;
- after an opt-out, nothing goes out but the single confirmation (and HELP's answer,
  which carriers require).

The state at each utterance is read from the turn's own events in the tracker store
(the `verified` slot as it stood, the response each message came from), so a disclosure
right after a successful identity check passes and the same words one step earlier do not.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from bot.negotiation import format_money
from bot.privacy import mask_phone, sender_phone
from bot.settings import get_settings
from bot.storage import AccountRepository, DatabaseUnavailableError, get_database
from bot.storage.models import Account

logger = logging.getLogger(__name__)

BLOCKED_REPLACEMENT = (
    "I can go into that as soon as I've confirmed I'm talking to the right person."
)
# The responses that may still reach a sender who has opted out.
AFTER_OPT_OUT = frozenset({"utter_opted_out", "utter_help"})
# Any money amount: a currency sign or code next to a figure, or a figure with cents.
_MONEY = re.compile(
    r"[$€£¥₹]\s?\d|\d\s?[$€£]|\b(?:USD|EUR|GBP|CAD|AUD)\s?\d|\d\s?(?:USD|EUR|GBP|CAD|AUD)\b"
    r"|\b\d{1,3}(?:,\d{3})*\.\d{2}\b",
    re.IGNORECASE,
)
_EVENTS = sa.table(
    "events",
    sa.column("id", sa.Integer),
    sa.column("sender_id", sa.String),
    sa.column("type_name", sa.String),
    sa.column("action_name", sa.String),
    sa.column("data", sa.Text),
)


@dataclass(frozen=True)
class Utterance:
    """One bot message of this turn and the conversation's state when it was said."""

    text: str
    response: str | None
    verified: bool


def debt_terms(account: Account) -> list[str]:
    """Words that would tell a stranger about this debt."""
    terms = [format_money(account.balance, account.currency), str(account.balance)]
    whole = account.balance.to_integral_value()
    if whole == account.balance:
        terms += [f"{int(whole):,}", str(int(whole))]
    creditor = account.creditor or get_settings().creditor_name
    if creditor:
        terms.append(creditor)
    return [t for t in terms if t and len(t) >= 3]


def discloses(text: str, terms: Iterable[str]) -> bool:
    """True when the text names the creditor, the balance or any money amount."""
    lowered = text.lower()
    if _MONEY.search(text):
        return True
    return any(re.search(rf"(?<![\w.,]){re.escape(t.lower())}(?![\w])", lowered) for t in terms)


# The user messages looked at, newest first, to find the turn's own (a concurrent
# message of the same sender may have been stored after it).
TURN_LOOKBACK = 20
# What sets the `verified` state: the slot itself (its name is stored as `action_name`,
# as Rasa's SQLTrackerStore does for every event with a `name`), or a new session.
_STATE_EVENTS = ("session_started", "restart")


def _turn_rows(session: Any, sender_id: str, message_id: str | None) -> list[Any] | None:
    """The turn's events (its user message onwards) and the event that set the state
    before it, in order; None when the turn is not in the store.

    Three indexed queries whatever the length of the conversation (the guard used to
    read and parse the sender's whole history on every turn).
    """
    if message_id is None:
        return None
    users = session.execute(
        sa.select(_EVENTS.c.id, _EVENTS.c.data)
        .where(_EVENTS.c.sender_id == sender_id, _EVENTS.c.type_name == "user")
        .order_by(_EVENTS.c.id.desc())
        .limit(TURN_LOOKBACK)
    ).all()
    user_id = next(
        (
            row.id
            for row in users
            if row.data and json.loads(row.data).get("message_id") == message_id
        ),
        None,
    )
    if user_id is None:
        return None
    state = session.execute(
        sa.select(_EVENTS.c.type_name, _EVENTS.c.data)
        .where(
            _EVENTS.c.sender_id == sender_id,
            _EVENTS.c.id < user_id,
            sa.or_(
                _EVENTS.c.type_name.in_(_STATE_EVENTS),
                sa.and_(_EVENTS.c.type_name == "slot", _EVENTS.c.action_name == "verified"),
            ),
        )
        .order_by(_EVENTS.c.id.desc())
        .limit(1)
    ).all()
    turn = session.execute(
        sa.select(_EVENTS.c.type_name, _EVENTS.c.data)
        .where(_EVENTS.c.sender_id == sender_id, _EVENTS.c.id >= user_id)
        .order_by(_EVENTS.c.id)
    ).all()
    return [*state, *turn]


def turn_utterances(
    sender_id: str, message_id: str | None, session: Any = None
) -> list[Utterance] | None:
    """The bot's messages after the user message `message_id`, with the state at each.

    None when the turn is not in the tracker store (nothing to judge it by).
    """
    try:
        if session is not None:
            rows = _turn_rows(session, sender_id, message_id)
        else:
            with get_database().session() as own:
                rows = _turn_rows(own, sender_id, message_id)
    except (DatabaseUnavailableError, sa.exc.ProgrammingError, sa.exc.OperationalError) as exc:
        # No tracker store table yet, or the database is gone: judged as unverified
        # (the guard fails closed; harmless replies still leave).
        logger.warning("egress guard could not read the turn: %s", type(exc).__name__)
        return None
    if rows is None:
        return None
    return _utterances(rows, message_id)


def _utterances(rows: Iterable[Any], message_id: str | None) -> list[Utterance] | None:
    verified = False
    found = False
    utterances: list[Utterance] = []
    for type_name, raw in rows:
        data: dict[str, Any] = json.loads(raw) if raw else {}
        if type_name in _STATE_EVENTS:
            verified = False
        elif type_name == "slot" and data.get("name") == "verified":
            verified = bool(data.get("value"))
        elif type_name == "user":
            if found:
                break  # a later turn (a concurrent message): not ours to judge
            found = message_id is not None and data.get("message_id") == message_id
        elif type_name == "bot" and found:
            utterances.append(
                Utterance(
                    text=str(data.get("text") or ""),
                    response=(data.get("metadata") or {}).get("utter_action"),
                    verified=verified,
                )
            )
    return utterances if found else None


def _record(account: Account, kind: str, detail: dict[str, Any], sender_id: str) -> None:
    with get_database().session() as session:
        repo = AccountRepository(session)
        fresh = repo.get(account.id)
        if fresh is not None:
            repo.record_event(fresh, kind, detail=detail, sender_id=sender_id)


def guard_replies(
    sender_id: str, message_id: str | None, replies: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The replies that may leave, in order; blocked ones replaced or dropped."""
    phone = sender_phone(sender_id)
    # One session for the account and the turn (each session is a connection: on
    # SQLite a new one, with its pragmas).
    with get_database().session() as session:
        repo = AccountRepository(session)
        account = repo.find_by_phone(phone, load_related=False) if phone else None
        opted_out = account is not None and "opted_out" in repo.active_flags(account)
        terms = debt_terms(account) if account is not None else []
        # The turn's events only matter to judge a message: after an opt-out (which
        # response it came from) or when it names a debt detail (was the sender verified
        # when it was said). Most turns need neither, and then nothing more is read.
        texts = [str(reply.get("text") or "") for reply in replies]
        needs_turn = opted_out or any(text and discloses(text, terms) for text in texts)
        utterances = (turn_utterances(sender_id, message_id, session) or []) if needs_turn else []
    pending = list(utterances)
    allowed: list[dict[str, Any]] = []
    blocked: list[str] = []
    for reply in replies:
        text = str(reply.get("text") or "")
        # Match the reply to its event: the next utterance with the same text.
        match = next((u for u in pending if u.text == text), None)
        if match is not None:
            pending = pending[pending.index(match) + 1 :]
        verified = match.verified if match is not None else False
        response = match.response if match is not None else None
        if opted_out and response not in AFTER_OPT_OUT:
            blocked.append(f"after opt-out: {response or 'text'}")
            continue
        if text and not verified and discloses(text, terms):
            blocked.append(f"disclosure before verification: {response or 'text'}")
            if not any(r.get("text") == BLOCKED_REPLACEMENT for r in allowed):
                allowed.append({**reply, "text": BLOCKED_REPLACEMENT})
            continue
        allowed.append(reply)
    if blocked:
        logger.warning(
            "blocked %d message(s) to %s: %s",
            len(blocked),
            mask_phone(sender_id),
            "; ".join(blocked),
        )
        if account is not None:
            _record(account, "reply_blocked", {"blocked": blocked}, sender_id)
    return allowed
