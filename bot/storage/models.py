"""SQLAlchemy models: the tables Parley owns (Rasa's tracker store adds its own `events`)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import declarative_base, relationship

from bot.storage.types import Money, UTCDateTime, utcnow

# Typed as Any: SQLAlchemy 1.4's declarative base is dynamic (no mypy plugin needed).
Base: Any = declarative_base()

# Account statuses. Flags carry the detail; the status is what an operator filters on.
ACCOUNT_STATUSES = ("active", "in_agreement", "paused", "opted_out", "closed")
# Flags that an account can carry (see architecture.md, `parley accounts show`).
ACCOUNT_FLAGS = (
    "opted_out",
    "disputed",
    "already_paid",
    "wrong_person",
    "vulnerable",
    "handoff",
    "callback_requested",
    "verification_failed",
)


class Account(Base):
    __tablename__ = "accounts"

    id = sa.Column(sa.Integer, primary_key=True)
    account_ref = sa.Column(sa.String(64), nullable=False, unique=True)
    name = sa.Column(sa.String(200), nullable=False)
    phone = sa.Column(sa.String(20), nullable=False, index=True)
    balance = sa.Column(Money, nullable=False)
    currency = sa.Column(sa.String(3), nullable=False)
    timezone = sa.Column(sa.String(64), nullable=False)
    dob = sa.Column(sa.Date, nullable=False)
    channel = sa.Column(sa.String(16), nullable=False, default="sms")
    creditor = sa.Column(sa.String(200), nullable=True)
    language = sa.Column(sa.String(16), nullable=False, default="en")
    due_date = sa.Column(sa.Date, nullable=True)
    status = sa.Column(sa.String(16), nullable=False, default="active")
    last_inbound_at = sa.Column(UTCDateTime, nullable=True)
    # Set when too many dates of birth failed; only an operator clears it
    # (`parley accounts unlock`). Lives here, not in a Rasa slot, so no restart,
    # new session, channel or sender id resets it.
    identity_locked_at = sa.Column(UTCDateTime, nullable=True)
    created_at = sa.Column(UTCDateTime, nullable=False, default=utcnow)
    updated_at = sa.Column(UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow)

    flags = relationship("AccountFlag", back_populates="account", lazy="selectin")
    agreements = relationship("Agreement", back_populates="account", lazy="selectin")


class AccountFlag(Base):
    """One flag on an account; `cleared_at` set when an operator or the debtor lifts it."""

    __tablename__ = "account_flags"

    id = sa.Column(sa.Integer, primary_key=True)
    account_id = sa.Column(sa.Integer, sa.ForeignKey("accounts.id"), nullable=False, index=True)
    flag = sa.Column(sa.String(32), nullable=False)
    note = sa.Column(sa.Text, nullable=True)
    debtor_words = sa.Column(sa.Text, nullable=True)
    source = sa.Column(sa.String(32), nullable=False, default="bot")
    created_at = sa.Column(UTCDateTime, nullable=False, default=utcnow)
    cleared_at = sa.Column(UTCDateTime, nullable=True)

    account = relationship("Account", back_populates="flags")


class AccountEvent(Base):
    """What happened on an account, in the debtor's words where relevant."""

    __tablename__ = "account_events"

    id = sa.Column(sa.Integer, primary_key=True)
    account_id = sa.Column(sa.Integer, sa.ForeignKey("accounts.id"), nullable=False, index=True)
    kind = sa.Column(sa.String(48), nullable=False)
    debtor_words = sa.Column(sa.Text, nullable=True)
    detail = sa.Column(sa.JSON, nullable=True)
    sender_id = sa.Column(sa.String(64), nullable=True)
    created_at = sa.Column(UTCDateTime, nullable=False, default=utcnow)


# Agreement statuses: `superseded` when the debtor agreed to new terms that replace it.
AGREEMENT_STATUSES = ("active", "superseded", "completed", "cancelled")


class IdentityAttempt(Base):
    """One date-of-birth check against an account, matched or not, with its time."""

    __tablename__ = "identity_attempts"

    id = sa.Column(sa.Integer, primary_key=True)
    account_id = sa.Column(sa.Integer, sa.ForeignKey("accounts.id"), nullable=False, index=True)
    matched = sa.Column(sa.Boolean, nullable=False)
    sender_id = sa.Column(sa.String(64), nullable=True)
    at = sa.Column(UTCDateTime, nullable=False, default=utcnow)


class Agreement(Base):
    __tablename__ = "agreements"
    # At most one active agreement per account, enforced by the database itself
    # (a partial unique index, on SQLite and PostgreSQL alike).
    __table_args__ = (
        sa.Index(
            "uq_agreements_one_active_per_account",
            "account_id",
            unique=True,
            sqlite_where=sa.text("status = 'active'"),
            postgresql_where=sa.text("status = 'active'"),
        ),
    )

    id = sa.Column(sa.Integer, primary_key=True)
    reference = sa.Column(sa.String(32), nullable=False, unique=True)
    account_id = sa.Column(sa.Integer, sa.ForeignKey("accounts.id"), nullable=False, index=True)
    kind = sa.Column(sa.String(16), nullable=False)
    frequency = sa.Column(sa.String(16), nullable=True)
    total = sa.Column(Money, nullable=False)
    currency = sa.Column(sa.String(3), nullable=False)
    settlement = sa.Column(sa.Boolean, nullable=False, default=False)
    deferred_until = sa.Column(sa.Date, nullable=True)
    requires_review = sa.Column(sa.Boolean, nullable=False, default=False)
    status = sa.Column(sa.String(16), nullable=False, default="active")
    superseded_by = sa.Column(sa.String(32), nullable=True)
    # One agreement per confirmed offer: a retried confirmation finds this key and
    # returns the stored agreement instead of creating a second one.
    idempotency_key = sa.Column(sa.String(128), nullable=False, unique=True)
    sender_id = sa.Column(sa.String(64), nullable=True)
    created_at = sa.Column(UTCDateTime, nullable=False, default=utcnow)

    account = relationship("Account", back_populates="agreements")
    installments = relationship(
        "Installment",
        back_populates="agreement",
        order_by="Installment.seq",
        lazy="selectin",
        cascade="all, delete-orphan",
    )


class Installment(Base):
    __tablename__ = "installments"
    __table_args__ = (sa.UniqueConstraint("agreement_id", "seq"),)

    id = sa.Column(sa.Integer, primary_key=True)
    agreement_id = sa.Column(sa.Integer, sa.ForeignKey("agreements.id"), nullable=False)
    seq = sa.Column(sa.Integer, nullable=False)
    due_date = sa.Column(sa.Date, nullable=False, index=True)
    amount = sa.Column(Money, nullable=False)
    status = sa.Column(sa.String(16), nullable=False, default="due")

    agreement = relationship("Agreement", back_populates="installments")


class InboundMessage(Base):
    """A processed inbound Twilio message, keyed by MessageSid so retries run once."""

    __tablename__ = "inbound_messages"

    id = sa.Column(sa.Integer, primary_key=True)
    message_sid = sa.Column(sa.String(64), nullable=False, unique=True)
    channel = sa.Column(sa.String(16), nullable=False)
    sender = sa.Column(sa.String(64), nullable=False)
    status = sa.Column(sa.String(16), nullable=False, default="processing")
    reply = sa.Column(sa.Text, nullable=True)
    received_at = sa.Column(UTCDateTime, nullable=False, default=utcnow)
    completed_at = sa.Column(UTCDateTime, nullable=True)


# Outbox statuses, besides Twilio's delivery statuses that callbacks move it to:
# queued/scheduled/held (waiting), claimed (a worker holds the lease, nothing sent yet),
# sending (the request to Twilio is in flight), unknown (Twilio did not answer: maybe sent,
# checked at Twilio before any resend), sent, failed, blocked. See docs/deploy.md.
OUTBOX_STATUSES = (
    "queued",
    "scheduled",
    "held",
    "claimed",
    "sending",
    "unknown",
    "sent",
    "failed",
    "blocked",
)


class OutboxMessage(Base):
    """A bot-initiated message and what became of it."""

    __tablename__ = "outbox"

    id = sa.Column(sa.Integer, primary_key=True)
    account_id = sa.Column(sa.Integer, sa.ForeignKey("accounts.id"), nullable=False, index=True)
    kind = sa.Column(sa.String(32), nullable=False)
    channel = sa.Column(sa.String(16), nullable=False)
    to_address = sa.Column(sa.String(64), nullable=False)
    body = sa.Column(sa.Text, nullable=False)
    status = sa.Column(sa.String(16), nullable=False, default="queued", index=True)
    reason = sa.Column(sa.Text, nullable=True)
    scheduled_for = sa.Column(UTCDateTime, nullable=True)
    idempotency_key = sa.Column(sa.String(128), nullable=False, unique=True)
    installment_id = sa.Column(sa.Integer, sa.ForeignKey("installments.id"), nullable=True)
    twilio_sid = sa.Column(sa.String(64), nullable=True, unique=True)
    error_code = sa.Column(sa.String(16), nullable=True)
    attempts = sa.Column(sa.Integer, nullable=False, default=0)
    created_at = sa.Column(UTCDateTime, nullable=False, default=utcnow)
    sent_at = sa.Column(UTCDateTime, nullable=True)
    updated_at = sa.Column(UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow)
    # The worker (or `parley outbox send` run) holding the message, and until when: a
    # claim whose lease expired is taken over, so a crashed worker loses nothing.
    claimed_by = sa.Column(sa.String(128), nullable=True)
    claim_expires_at = sa.Column(UTCDateTime, nullable=True)
    # Set when a request to Twilio starts, cleared when its outcome is known: while set,
    # the message may have been sent, and it is looked up at Twilio before any resend.
    send_started_at = sa.Column(UTCDateTime, nullable=True)
    # Not before this time: backoff after Twilio errors, the next look at a held message.
    retry_at = sa.Column(UTCDateTime, nullable=True)


class OutboxSenderSlot(Base):
    """The send rate of one sending number, shared by every worker (GCRA: the time the
    next message would go out at the configured rate)."""

    __tablename__ = "outbox_sender_slots"

    sender = sa.Column(sa.String(64), primary_key=True)
    theoretical_arrival = sa.Column(UTCDateTime, nullable=False)


class ConsoleUser(Base):
    __tablename__ = "console_users"

    id = sa.Column(sa.Integer, primary_key=True)
    username = sa.Column(sa.String(64), nullable=False, unique=True)
    password_hash = sa.Column(sa.String(255), nullable=False)
    role = sa.Column(sa.String(16), nullable=False)
    active = sa.Column(sa.Boolean, nullable=False, default=True)
    created_at = sa.Column(UTCDateTime, nullable=False, default=utcnow)


class AuditEntry(Base):
    """Append-only record of agreements, flags, outbound messages and operator actions."""

    __tablename__ = "audit_log"

    id = sa.Column(sa.Integer, primary_key=True)
    at = sa.Column(UTCDateTime, nullable=False, default=utcnow, index=True)
    actor = sa.Column(sa.String(64), nullable=False)
    action = sa.Column(sa.String(64), nullable=False)
    account_id = sa.Column(sa.Integer, sa.ForeignKey("accounts.id"), nullable=True, index=True)
    detail = sa.Column(sa.JSON, nullable=True)
