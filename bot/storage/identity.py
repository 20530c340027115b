"""The identity lockout: date-of-birth attempts per account, and the lock they lead to.

The count lives in the database, on the account, so that nothing a sender can do in a
conversation (a restart, a new session, another channel or sender id) resets it. Only
an operator lifts a lock (`parley accounts unlock REF`, or the console, same code).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.storage.models import Account, AuditEntry, IdentityAttempt
from bot.storage.repositories import AccountRepository, record_audit
from bot.storage.types import utcnow

UNLOCK_ACTION = "identity_unlocked"


class AccountNotLockedError(RuntimeError):
    """`unlock` was asked for an account whose identity checks are not locked."""


@dataclass(frozen=True)
class IdentityStatus:
    """Where an account stands: failed attempts since the last success or unlock."""

    failures: int
    limit: int
    locked: bool
    locked_at: datetime | None

    @property
    def remaining(self) -> int:
        return 0 if self.locked else max(0, self.limit - self.failures)


class IdentityRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def _window_start(self, account: Account) -> datetime | None:
        """Failures count from the last match or the last operator unlock, whichever is later."""
        last_match = self.session.execute(
            sa.select(sa.func.max(IdentityAttempt.at)).where(
                IdentityAttempt.account_id == account.id, IdentityAttempt.matched.is_(True)
            )
        ).scalar_one_or_none()
        last_unlock = self.session.execute(
            sa.select(sa.func.max(AuditEntry.at)).where(
                AuditEntry.account_id == account.id, AuditEntry.action == UNLOCK_ACTION
            )
        ).scalar_one_or_none()
        starts = [t for t in (last_match, last_unlock) if t is not None]
        return max(starts) if starts else None

    def status(self, account: Account, limit: int) -> IdentityStatus:
        query = sa.select(sa.func.count(IdentityAttempt.id)).where(
            IdentityAttempt.account_id == account.id, IdentityAttempt.matched.is_(False)
        )
        start = self._window_start(account)
        if start is not None:
            query = query.where(IdentityAttempt.at > start)
        failures = int(self.session.execute(query).scalar_one())
        locked = account.identity_locked_at is not None
        return IdentityStatus(failures, limit, locked, account.identity_locked_at)

    def record(
        self, account: Account, *, matched: bool, limit: int, sender_id: str | None = None
    ) -> IdentityStatus:
        """Record one check. A locked account stays locked, even on a correct answer."""
        # Lock the account row so two concurrent guesses cannot both be "the last one".
        if self.session.bind is not None and self.session.bind.dialect.name == "postgresql":
            self.session.execute(
                sa.select(Account.id).where(Account.id == account.id).with_for_update()
            )
        if account.identity_locked_at is not None:
            self.session.add(
                IdentityAttempt(account_id=account.id, matched=False, sender_id=sender_id)
            )
            self.session.flush()
            return self.status(account, limit)
        self.session.add(
            IdentityAttempt(account_id=account.id, matched=matched, sender_id=sender_id)
        )
        self.session.flush()
        current = self.status(account, limit)
        if not matched and current.failures >= limit:
            account.identity_locked_at = utcnow()
            record_audit(
                self.session,
                "bot",
                "identity_locked",
                account_id=account.id,
                detail={"failures": current.failures, "sender_id": sender_id},
            )
            AccountRepository(self.session).record_event(
                account,
                "identity_locked",
                detail={"failures": current.failures},
                sender_id=sender_id,
            )
            self.session.flush()
            current = self.status(account, limit)
        return current

    def unlock(self, account: Account, *, actor: str, note: str | None = None) -> None:
        """Lift the lock (an operator's decision); the failure count starts again."""
        if account.identity_locked_at is None:
            raise AccountNotLockedError(
                f"account {account.account_ref} is not locked; nothing to unlock"
            )
        account.identity_locked_at = None
        record_audit(
            self.session,
            actor,
            UNLOCK_ACTION,
            account_id=account.id,
            detail={"note": note} if note else None,
        )
        repo = AccountRepository(self.session)
        repo.record_event(account, "identity_unlocked", detail={"by": actor})
        repo.clear_flag(account, "verification_failed", source=actor)
        # The hand-off that the lock raised goes with it; one raised for another reason
        # (the debtor asked for a person, a crisis) stays for a person to resolve.
        handoffs = [e for e in repo.events(account) if e.kind == "handoff"]
        if handoffs and (handoffs[-1].detail or {}).get("reason") == "verification_failed":
            repo.clear_flag(account, "handoff", source=actor)
        self.session.flush()
