"""Writes the actions make: flags, events and agreements, each in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.negotiation import Option
from bot.storage import AccountRepository, AgreementRepository, get_database
from bot.storage.identity import IdentityRepository, IdentityStatus


def flag_account(
    account_ref: str,
    flag: str,
    *,
    event_kind: str,
    debtor_words: str | None = None,
    detail: dict[str, Any] | None = None,
    sender_id: str | None = None,
) -> bool:
    """Raise a flag and record why (with the debtor's words); False if already up."""
    with get_database().session() as session:
        repo = AccountRepository(session)
        account = repo.require(account_ref)
        repo.record_event(
            account, event_kind, debtor_words=debtor_words, detail=detail, sender_id=sender_id
        )
        return repo.set_flag(account, flag, debtor_words=debtor_words, source="bot")


def clear_flag(
    account_ref: str, flag: str, *, event_kind: str, sender_id: str | None = None
) -> bool:
    with get_database().session() as session:
        repo = AccountRepository(session)
        account = repo.require(account_ref)
        repo.record_event(account, event_kind, sender_id=sender_id)
        return repo.clear_flag(account, flag, source="debtor")


def record_event(
    account_ref: str,
    kind: str,
    *,
    debtor_words: str | None = None,
    detail: dict[str, Any] | None = None,
    sender_id: str | None = None,
) -> None:
    with get_database().session() as session:
        repo = AccountRepository(session)
        repo.record_event(
            repo.require(account_ref),
            kind,
            debtor_words=debtor_words,
            detail=detail,
            sender_id=sender_id,
        )


@dataclass(frozen=True)
class StoredAgreement:
    reference: str
    created: bool
    created_on: date


def store_agreement(
    account_ref: str, option: Option, *, idempotency_key: str, sender_id: str
) -> StoredAgreement:
    """Store the confirmed option once per key (a repeated "yes" returns the same one)."""
    with get_database().session() as session:
        account = AccountRepository(session).require(account_ref)
        agreement, created = AgreementRepository(session).create(
            account,
            kind=option.kind,
            frequency=option.frequency.value if option.frequency else None,
            total=option.total,
            currency=option.currency,
            schedule=option.schedule,
            settlement=option.settlement,
            deferred_until=option.deferred_until,
            requires_review=option.requires_review,
            idempotency_key=idempotency_key,
            sender_id=sender_id,
        )
        return StoredAgreement(agreement.reference, created, agreement.created_at.date())


def record_identity_check(
    account_ref: str, *, matched: bool, limit: int, sender_id: str
) -> IdentityStatus:
    """Record one date-of-birth check on the account; it locks after `limit` failures."""
    with get_database().session() as session:
        account = AccountRepository(session).require(account_ref)
        return IdentityRepository(session).record(
            account, matched=matched, limit=limit, sender_id=sender_id
        )
