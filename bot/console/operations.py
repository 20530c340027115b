"""What operators do from the console, each in one transaction and written to the audit log.

Taking over pauses the bot through Rasa's API (the tracker stays the one record); a reply
goes through the outbox with the operator send gate; resolving a flag and unlocking use the
same repositories as the CLI (`parley accounts unlock` is IdentityRepository.unlock).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.console import tracker
from bot.console.rasa_client import RasaClient
from bot.messaging.outbox import OutboxSender, enqueue_operator_reply
from bot.negotiation import load_policy
from bot.settings import get_settings
from bot.storage import AccountRepository, get_database, record_audit
from bot.storage.identity import IdentityRepository
from bot.storage.models import Account, AccountEvent, AccountFlag
from bot.storage.types import utcnow


class OperationError(ValueError):
    """An operator action cannot be done; the message says why."""


# Resolutions an operator can record: (flag cleared, closes the account, label).
RESOLUTIONS: dict[str, tuple[str | None, bool, str]] = {
    "dispute_upheld": ("disputed", True, "Dispute upheld (account closed)"),
    "dispute_rejected": ("disputed", False, "Dispute rejected (collection may resume)"),
    "already_paid_confirmed": ("already_paid", True, "Already paid: confirmed (account closed)"),
    "already_paid_rejected": ("already_paid", False, "Already paid: not confirmed"),
    "vulnerability_reviewed": ("vulnerable", False, "Vulnerability reviewed with the debtor"),
    "unlock_identity": (None, False, "Unlock the identity check"),
}


def actor_name(username: str) -> str:
    return f"console:{username}"


@dataclass(frozen=True)
class HandoffItem:
    account_ref: str
    name: str
    sender_id: str
    flags: list[str]
    waiting_since: datetime
    reason: str | None
    taken_by: str | None
    locked: bool


def conversation_sender(session: Session, account: Account) -> str:
    """The sender id of the account's latest conversation (else its number on its channel)."""
    sender = session.execute(
        sa.select(AccountEvent.sender_id)
        .where(AccountEvent.account_id == account.id, AccountEvent.sender_id.is_not(None))
        .order_by(AccountEvent.created_at.desc(), AccountEvent.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    if sender:
        return str(sender)
    return f"whatsapp:{account.phone}" if account.channel == "whatsapp" else account.phone


def taken_by(session: Session, account: Account) -> str | None:
    """Who has the conversation now (the latest takeover not yet handed back)."""
    event = session.execute(
        sa.select(AccountEvent)
        .where(
            AccountEvent.account_id == account.id,
            AccountEvent.kind.in_(("operator_takeover", "handed_back")),
        )
        .order_by(AccountEvent.created_at.desc(), AccountEvent.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    if event is None or event.kind != "operator_takeover":
        return None
    return str((event.detail or {}).get("by") or "")


def handoff_queue(session: Session) -> list[HandoffItem]:
    """Conversations waiting for a person, oldest first."""
    rows = session.execute(
        sa.select(AccountFlag, Account)
        .join(Account, AccountFlag.account_id == Account.id)
        .where(AccountFlag.flag == "handoff", AccountFlag.cleared_at.is_(None))
        .order_by(AccountFlag.created_at, AccountFlag.id)
    ).all()
    repo = AccountRepository(session)
    items: list[HandoffItem] = []
    seen: set[int] = set()
    for flag, account in rows:
        if account.id in seen:
            continue
        seen.add(account.id)
        reason = None
        for event in reversed(repo.events(account)):
            if event.kind == "handoff":
                reason = (event.detail or {}).get("reason")
                break
        items.append(
            HandoffItem(
                account_ref=account.account_ref,
                name=account.name,
                sender_id=conversation_sender(session, account),
                flags=repo.active_flags(account),
                waiting_since=flag.created_at,
                reason=reason,
                taken_by=taken_by(session, account),
                locked=account.identity_locked_at is not None,
            )
        )
    return items


def header_counts(session: Session) -> dict[str, int]:
    """For the live count in the header: waiting for a person, and taken over."""
    queue = handoff_queue(session)
    return {
        "waiting": sum(1 for item in queue if not item.taken_by),
        "taken": sum(1 for item in queue if item.taken_by),
    }


class Operations:
    """Operator actions against the database and Rasa."""

    def __init__(self, rasa: RasaClient) -> None:
        self.rasa = rasa

    def _account(self, session: Session, account_ref: str) -> Account:
        account = AccountRepository(session).get_by_ref(account_ref)
        if account is None:
            raise OperationError(f"no account with reference {account_ref!r}")
        return account

    def take_over(self, account_ref: str, sender_id: str, username: str) -> None:
        self.rasa.pause(sender_id)
        with get_database().session() as session:
            account = self._account(session, account_ref)
            actor = actor_name(username)
            AccountRepository(session).record_event(
                account, "operator_takeover", detail={"by": username}, sender_id=sender_id
            )
            record_audit(
                session,
                actor,
                "console_takeover",
                account_id=account.id,
                detail={"sender_id": sender_id},
            )

    def hand_back(self, account_ref: str, sender_id: str, username: str) -> None:
        with get_database().session() as session:
            account = self._account(session, account_ref)
            actor = actor_name(username)
            repo = AccountRepository(session)
            repo.clear_flag(account, "handoff", source=actor)
            repo.record_event(account, "handed_back", detail={"by": username}, sender_id=sender_id)
            record_audit(
                session,
                actor,
                "console_hand_back",
                account_id=account.id,
                detail={"sender_id": sender_id},
            )
        self.rasa.resume(sender_id)

    def add_note(self, account_ref: str, note: str, username: str) -> None:
        text = note.strip()
        if not text:
            raise OperationError("the note is empty")
        with get_database().session() as session:
            account = self._account(session, account_ref)
            AccountRepository(session).record_event(
                account, "operator_note", detail={"by": username, "note": text[:4000]}
            )
            record_audit(session, actor_name(username), "console_note", account_id=account.id)

    def resolve(self, account_ref: str, resolution: str, username: str, note: str = "") -> str:
        """Record a resolution; returns its label."""
        if resolution not in RESOLUTIONS:
            raise OperationError(f"unknown resolution {resolution!r}")
        flag, closes, label = RESOLUTIONS[resolution]
        actor = actor_name(username)
        with get_database().session() as session:
            account = self._account(session, account_ref)
            repo = AccountRepository(session)
            if resolution == "unlock_identity":
                # The same code as `parley accounts unlock` (audited there).
                IdentityRepository(session).unlock(account, actor=actor, note=note or None)
            else:
                assert flag is not None
                if flag not in repo.active_flags(account):
                    raise OperationError(f"{account_ref} has no {flag} flag to resolve")
                repo.clear_flag(account, flag, source=actor)
                if closes:
                    account.status = "closed"
            repo.record_event(account, resolution, detail={"by": username, "note": note or None})
            record_audit(
                session,
                actor,
                f"console_resolve:{resolution}",
                account_id=account.id,
                detail={"note": note} if note else None,
            )
        return label

    def reply(
        self, account_ref: str, sender_id: str, text: str, username: str, nonce: str
    ) -> tuple[str, str]:
        """Send a person's reply through the outbox; returns (status, reason)."""
        body = text.strip()
        if not body:
            raise OperationError("the reply is empty")
        if len(body) > 1600:
            raise OperationError("a reply can have at most 1600 characters (10 SMS segments)")
        policy = load_policy(get_settings().policy_file)
        now = utcnow()
        last_written = tracker.last_user_message_at(get_database().engine, sender_id)
        with get_database().session() as session:
            account = self._account(session, account_ref)
            if last_written is not None and (
                account.last_inbound_at is None or account.last_inbound_at < last_written
            ):
                # The REST channel does not record when the debtor last wrote; the
                # tracker does, and the gate's 30-minute grace depends on it.
                AccountRepository(session).touch_inbound(account, last_written)
            message = enqueue_operator_reply(
                session,
                account,
                body=body,
                operator=actor_name(username),
                idempotency_key=f"operator:{sender_id}:{nonce}"[:128],
                policy=policy,
                now=now,
            )
            message_id, status = message.id, message.status
        if status == "queued":
            result = asyncio.run(
                OutboxSender.from_settings().dispatch_message(message_id, policy, now)
            )
            status, reason = result.status, result.reason
        else:
            with get_database().session() as session:
                reason = _reason(session, message_id)
        with get_database().session() as session:
            account = self._account(session, account_ref)
            AccountRepository(session).record_event(
                account,
                "operator_reply",
                detail={"by": username, "outbox_id": message_id, "status": status},
                sender_id=sender_id,
            )
            record_audit(
                session,
                actor_name(username),
                "console_reply",
                account_id=account.id,
                detail={"outbox_id": message_id, "status": status, "sender_id": sender_id},
            )
        if status == "sent":
            self.rasa.record_operator_reply(sender_id, body, username)
        return status, reason


def _reason(session: Session, message_id: int) -> str:
    from bot.storage.models import OutboxMessage

    message = session.get(OutboxMessage, message_id)
    return (message.reason or "") if message else ""


def account_panel(session: Session, account: Account) -> dict[str, Any]:
    """The account as `parley accounts show --json` has it, plus its agreements in full."""
    from bot.storage import AgreementRepository

    repo = AccountRepository(session)
    data = repo.to_dict(account)
    data["agreement_details"] = [
        AgreementRepository.to_dict(a) for a in AgreementRepository(session).list(account)
    ]
    data["taken_by"] = taken_by(session, account)
    return data
