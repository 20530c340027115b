"""Repositories: the only place that reads and writes Parley's tables."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, lazyload

from bot.storage.models import (
    ACCOUNT_FLAGS,
    Account,
    AccountEvent,
    AccountFlag,
    Agreement,
    AuditEntry,
    InboundMessage,
    Installment,
)
from bot.storage.types import utcnow

# Flags that pause collection: no offers pushed, no outreach or reminders.
PAUSING_FLAGS = frozenset({"disputed", "already_paid", "wrong_person", "vulnerable", "handoff"})
_REFERENCE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read aloud safely


class AccountNotFoundError(LookupError):
    """No account with that reference."""


def record_audit(
    session: Session,
    actor: str,
    action: str,
    *,
    account_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append to the audit trail (in the caller's transaction)."""
    session.add(AuditEntry(actor=actor, action=action, account_id=account_id, detail=detail))


@dataclass(frozen=True)
class ImportSummary:
    created: int
    updated: int
    unchanged: int


_IMPORTED_FIELDS = (
    "name",
    "phone",
    "balance",
    "currency",
    "timezone",
    "dob",
    "channel",
    "creditor",
    "language",
    "due_date",
)


class AccountRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get_by_ref(self, account_ref: str) -> Account | None:
        return self.session.execute(
            sa.select(Account).where(Account.account_ref == account_ref)
        ).scalar_one_or_none()

    def require(self, account_ref: str) -> Account:
        account = self.get_by_ref(account_ref)
        if account is None:
            raise AccountNotFoundError(f"no account with reference {account_ref!r}")
        return account

    def _by_refs(self, refs: list[str], chunk: int = 500) -> dict[str, Account]:
        found: dict[str, Account] = {}
        for start in range(0, len(refs), chunk):
            query = sa.select(Account).where(Account.account_ref.in_(refs[start : start + chunk]))
            found.update((a.account_ref, a) for a in self.session.execute(query).scalars())
        return found

    def get(self, account_id: int) -> Account | None:
        return self.session.get(Account, account_id)

    def find_by_phone(self, phone: str, *, load_related: bool = True) -> Account | None:
        """The account a number belongs to: the newest one that is not closed.

        `load_related=False` leaves the flags and agreements (with their installments) to
        be read if and when they are used, in this session: three queries fewer for the
        callers on every message that need the account's own columns only (the inbound
        gate and the egress guard, twice a turn).
        """
        query = (
            sa.select(Account)
            .where(Account.phone == phone, Account.status != "closed")
            .order_by(Account.created_at.desc(), Account.id.desc())
            .limit(1)
        )
        if not load_related:
            query = query.options(lazyload("*"))
        return self.session.execute(query).scalars().first()

    def all(self) -> Sequence[Account]:
        return (
            self.session.execute(sa.select(Account).order_by(Account.account_ref)).scalars().all()
        )

    def upsert_many(self, rows: Iterable[Any], *, actor: str = "cli") -> ImportSummary:
        """Insert new accounts and update changed ones, keyed by account_ref."""
        rows = list(rows)
        known = self._by_refs([row.account_ref for row in rows])
        created_accounts: list[Account] = []
        updated = unchanged = 0
        for row in rows:
            account = known.get(row.account_ref)
            if account is None:
                account = Account(account_ref=row.account_ref, status="active")
                for name in _IMPORTED_FIELDS:
                    setattr(account, name, getattr(row, name))
                self.session.add(account)
                known[row.account_ref] = account
                created_accounts.append(account)
                continue
            changes = {
                name: str(getattr(row, name))
                for name in _IMPORTED_FIELDS
                if getattr(account, name) != getattr(row, name)
            }
            if not changes:
                unchanged += 1
                continue
            for name in changes:
                setattr(account, name, getattr(row, name))
            record_audit(
                self.session,
                actor,
                "account_updated",
                account_id=account.id,
                detail={"fields": sorted(changes)},
            )
            updated += 1
        self.session.flush()
        for account in created_accounts:
            record_audit(self.session, actor, "account_imported", account_id=account.id)
        return ImportSummary(len(created_accounts), updated, unchanged)

    # flags -----------------------------------------------------------------

    def active_flags(self, account: Account) -> list[str]:
        rows = self.session.execute(
            sa.select(AccountFlag.flag)
            .where(AccountFlag.account_id == account.id, AccountFlag.cleared_at.is_(None))
            .order_by(AccountFlag.created_at, AccountFlag.id)
        ).scalars()
        return list(dict.fromkeys(rows))

    def set_flag(
        self,
        account: Account,
        flag: str,
        *,
        source: str = "bot",
        note: str | None = None,
        debtor_words: str | None = None,
    ) -> bool:
        """Raise a flag; returns False if it was already up (no duplicate row)."""
        if flag not in ACCOUNT_FLAGS:
            raise ValueError(f"unknown flag {flag!r}; expected one of {', '.join(ACCOUNT_FLAGS)}")
        if flag in self.active_flags(account):
            return False
        self.session.add(
            AccountFlag(
                account_id=account.id,
                flag=flag,
                source=source,
                note=note,
                debtor_words=debtor_words,
            )
        )
        self.session.flush()
        record_audit(self.session, source, f"flag_set:{flag}", account_id=account.id)
        self.refresh_status(account)
        return True

    def clear_flag(self, account: Account, flag: str, *, source: str = "bot") -> bool:
        """Lower a flag; returns False if it was not up."""
        rows = (
            self.session.execute(
                sa.select(AccountFlag).where(
                    AccountFlag.account_id == account.id,
                    AccountFlag.flag == flag,
                    AccountFlag.cleared_at.is_(None),
                )
            )
            .scalars()
            .all()
        )
        for row in rows:
            row.cleared_at = utcnow()
        if rows:
            self.session.flush()
            record_audit(self.session, source, f"flag_cleared:{flag}", account_id=account.id)
            self.refresh_status(account)
        return bool(rows)

    def refresh_status(self, account: Account) -> str:
        """Derive the status from flags and agreements (closed stays closed)."""
        if account.status == "closed":
            return account.status
        flags = set(self.active_flags(account))
        has_agreement = self.session.execute(
            sa.select(sa.func.count(Agreement.id)).where(
                Agreement.account_id == account.id, Agreement.status == "active"
            )
        ).scalar_one()
        if "opted_out" in flags:
            status = "opted_out"
        elif flags & PAUSING_FLAGS:
            status = "paused"
        elif has_agreement:
            status = "in_agreement"
        else:
            status = "active"
        account.status = status
        return status

    def collection_allowed(self, account: Account) -> bool:
        """False while opted out, disputed, paused for review or handed to a human."""
        flags = set(self.active_flags(account))
        return account.status != "closed" and not (flags & (PAUSING_FLAGS | {"opted_out"}))

    def record_event(
        self,
        account: Account,
        kind: str,
        *,
        debtor_words: str | None = None,
        detail: dict[str, Any] | None = None,
        sender_id: str | None = None,
    ) -> AccountEvent:
        event = AccountEvent(
            account_id=account.id,
            kind=kind,
            debtor_words=debtor_words,
            detail=detail,
            sender_id=sender_id,
        )
        self.session.add(event)
        self.session.flush()
        return event

    def events(self, account: Account) -> Sequence[AccountEvent]:
        return (
            self.session.execute(
                sa.select(AccountEvent)
                .where(AccountEvent.account_id == account.id)
                .order_by(AccountEvent.created_at, AccountEvent.id)
            )
            .scalars()
            .all()
        )

    def touch_inbound(self, account: Account, when: datetime | None = None) -> None:
        account.last_inbound_at = when or utcnow()

    def to_dict(self, account: Account) -> dict[str, Any]:
        """The JSON shape of `parley accounts show`."""
        return {
            "account_ref": account.account_ref,
            "name": account.name,
            "phone": account.phone,
            "balance": str(account.balance),
            "currency": account.currency,
            "timezone": account.timezone,
            "dob": account.dob.isoformat(),
            "channel": account.channel,
            "creditor": account.creditor,
            "language": account.language,
            "due_date": account.due_date.isoformat() if account.due_date else None,
            "status": account.status,
            "flags": self.active_flags(account),
            "identity_locked_at": (
                account.identity_locked_at.isoformat() if account.identity_locked_at else None
            ),
            "events": [
                {
                    "kind": e.kind,
                    "debtor_words": e.debtor_words,
                    "detail": e.detail,
                    "created_at": e.created_at.isoformat(),
                }
                for e in self.events(account)
            ],
            "agreements": [a.reference for a in account.agreements],
            "created_at": account.created_at.isoformat(),
        }


def new_reference() -> str:
    """A short, unambiguous agreement reference such as PLY-7K3M9QXA."""
    return "PLY-" + "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(8))


class _ActiveAgreementRace(Exception):
    """The one-active-agreement index refused an insert: a concurrent agreement won."""


@dataclass(frozen=True)
class ScheduledPayment:
    due_date: date
    amount: Decimal


class AgreementRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def by_key(self, idempotency_key: str) -> Agreement | None:
        return self.session.execute(
            sa.select(Agreement).where(Agreement.idempotency_key == idempotency_key)
        ).scalar_one_or_none()

    def by_reference(self, reference: str) -> Agreement | None:
        return self.session.execute(
            sa.select(Agreement).where(Agreement.reference == reference)
        ).scalar_one_or_none()

    def create(
        self,
        account: Account,
        *,
        kind: str,
        total: Decimal,
        currency: str,
        schedule: Sequence[Any],
        idempotency_key: str,
        frequency: str | None = None,
        settlement: bool = False,
        deferred_until: date | None = None,
        requires_review: bool = False,
        sender_id: str | None = None,
        actor: str = "bot",
    ) -> tuple[Agreement, bool]:
        """Store an agreement once per idempotency key; returns (agreement, created)."""
        if kind not in ("full", "installment", "deferral"):
            raise ValueError(f"unknown agreement kind {kind!r}")
        existing = self.by_key(idempotency_key)
        if existing is not None:
            return existing, False
        scheduled = sum((Decimal(p.amount) for p in schedule), Decimal("0"))
        if schedule and scheduled != Decimal(total):
            raise ValueError(f"schedule sums to {scheduled}, not the agreed total {total}")
        for _ in range(3):
            try:
                return self._insert_replacing_active(
                    account,
                    kind=kind,
                    total=total,
                    currency=currency,
                    schedule=schedule,
                    idempotency_key=idempotency_key,
                    frequency=frequency,
                    settlement=settlement,
                    deferred_until=deferred_until,
                    requires_review=requires_review,
                    sender_id=sender_id,
                    actor=actor,
                )
            except _ActiveAgreementRace:
                # Another confirmation for this account committed in between; supersede
                # it too and try again (the unique index guarantees one winner at a time).
                continue
        raise RuntimeError(f"could not store the agreement for {account.account_ref}: busy")

    def _insert_replacing_active(
        self,
        account: Account,
        *,
        kind: str,
        total: Decimal,
        currency: str,
        schedule: Sequence[Any],
        idempotency_key: str,
        frequency: str | None,
        settlement: bool,
        deferred_until: date | None,
        requires_review: bool,
        sender_id: str | None,
        actor: str,
    ) -> tuple[Agreement, bool]:
        agreement = Agreement(
            reference=self._unused_reference(),
            account_id=account.id,
            kind=kind,
            frequency=frequency,
            total=total,
            currency=currency,
            settlement=settlement,
            deferred_until=deferred_until,
            requires_review=requires_review,
            status="active",
            idempotency_key=idempotency_key,
            sender_id=sender_id,
        )
        agreement.installments = [
            Installment(seq=i, due_date=p.due_date, amount=p.amount, status="due")
            for i, p in enumerate(schedule, start=1)
        ]
        # A savepoint, so a concurrent confirmation that won the race on a unique key
        # leaves this transaction usable: the same terms return the winner's agreement,
        # other terms supersede it on the next try.
        try:
            with self.session.begin_nested():
                # Write first: on SQLite a read here would pin a snapshot that a
                # concurrent writer invalidates ("database is locked" at once); a write
                # waits for the lock instead.
                self.session.execute(
                    sa.update(Agreement)
                    .where(Agreement.account_id == account.id, Agreement.status == "active")
                    .values(status="superseded", superseded_by=agreement.reference)
                    .execution_options(synchronize_session=False)
                )
                self.session.add(agreement)
                self.session.flush()
                replaced = self.session.execute(
                    sa.select(Agreement).where(Agreement.superseded_by == agreement.reference)
                ).scalar_one_or_none()
                if replaced is not None:
                    self.session.refresh(replaced)
        except sa.exc.IntegrityError as exc:
            existing = self.by_key(idempotency_key)
            if existing is not None:
                return existing, False
            raise _ActiveAgreementRace() from exc
        if replaced is not None:
            record_audit(
                self.session,
                actor,
                "agreement_superseded",
                account_id=account.id,
                detail={"reference": replaced.reference, "superseded_by": agreement.reference},
            )
        record_audit(
            self.session,
            actor,
            "agreement_created",
            account_id=account.id,
            detail={"reference": agreement.reference, "kind": kind, "total": str(total)},
        )
        AccountRepository(self.session).refresh_status(account)
        return agreement, True

    def _unused_reference(self) -> str:
        while True:
            reference = new_reference()
            if self.by_reference(reference) is None:
                return reference

    def list(self, account: Account | None = None) -> Sequence[Agreement]:
        query = sa.select(Agreement).order_by(Agreement.created_at, Agreement.id)
        if account is not None:
            query = query.where(Agreement.account_id == account.id)
        return self.session.execute(query).scalars().all()

    def active_for(self, account: Account) -> Agreement | None:
        return (
            self.session.execute(
                sa.select(Agreement)
                .where(Agreement.account_id == account.id, Agreement.status == "active")
                .order_by(Agreement.created_at.desc(), Agreement.id.desc())
            )
            .scalars()
            .first()
        )

    @staticmethod
    def to_dict(agreement: Agreement) -> dict[str, Any]:
        """The JSON shape of `parley agreements list --json`."""
        return {
            "reference": agreement.reference,
            "account_ref": agreement.account.account_ref,
            "kind": agreement.kind,
            "frequency": agreement.frequency,
            "total": str(agreement.total),
            "currency": agreement.currency,
            "settlement": agreement.settlement,
            "deferred_until": (
                agreement.deferred_until.isoformat() if agreement.deferred_until else None
            ),
            "requires_review": agreement.requires_review,
            "status": agreement.status,
            "created_at": agreement.created_at.isoformat(),
            "schedule": [
                {"due_date": i.due_date.isoformat(), "amount": str(i.amount), "status": i.status}
                for i in agreement.installments
            ],
        }


@dataclass(frozen=True)
class InboundClaim:
    """Whether this delivery is the first one for its MessageSid."""

    first: bool
    status: str
    reply: str | None


class InboundMessageRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def claim(self, message_sid: str, *, channel: str, sender: str) -> InboundClaim:
        existing = self.get(message_sid)
        if existing is not None and existing.status == "failed":
            # The first attempt crashed before answering: Twilio's retry processes it.
            existing.status = "processing"
            return InboundClaim(True, "processing", None)
        if existing is not None:
            return InboundClaim(False, existing.status, existing.reply)
        try:
            with self.session.begin_nested():
                self.session.add(
                    InboundMessage(
                        message_sid=message_sid, channel=channel, sender=sender, status="processing"
                    )
                )
                self.session.flush()
        except sa.exc.IntegrityError:
            existing = self.get(message_sid)
            assert existing is not None
            return InboundClaim(False, existing.status, existing.reply)
        return InboundClaim(True, "processing", None)

    def get(self, message_sid: str) -> InboundMessage | None:
        return self.session.execute(
            sa.select(InboundMessage).where(InboundMessage.message_sid == message_sid)
        ).scalar_one_or_none()

    def fail(self, message_sid: str) -> None:
        row = self.get(message_sid)
        if row is not None:
            row.status = "failed"

    def complete(self, message_sid: str, reply: str | None) -> None:
        row = self.get(message_sid)
        if row is None:
            raise LookupError(f"message {message_sid} was never claimed")
        row.status = "done"
        row.reply = reply
        row.completed_at = utcnow()
