"""The outbox: every bot-initiated message is queued here, decided on, sent and tracked."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.messaging.clock import Clock, SystemClock
from bot.messaging.rate_limit import SendRate, reserve_slot
from bot.messaging.rules import SendDecision, decide, decide_operator_reply, with_opt_out_line
from bot.messaging.twilio_client import (
    TwilioApiError,
    TwilioClient,
    TwilioConfigurationError,
    TwilioOutcomeUnknownError,
)
from bot.negotiation import Policy, format_money
from bot.negotiation.wording import format_date
from bot.privacy import mask_phone
from bot.settings import Settings, get_settings
from bot.storage import AccountRepository, get_database, record_audit
from bot.storage.delivery import STATUS_RANK, TWILIO_RECIPIENT_OPTED_OUT
from bot.storage.models import Account, Agreement, Installment, OutboxMessage
from bot.storage.types import utcnow

logger = logging.getLogger(__name__)

# Twilio error codes with a defined response.
TWILIO_WHATSAPP_OUTSIDE_WINDOW = 63016
WHATSAPP_WINDOW = timedelta(hours=24)
# What counts towards the 7-day cap: sent, on its way, or maybe sent (no answer yet).
_COUNTS_TOWARDS_CAP = (
    "sent",
    "sending",
    "unknown",
    "accepted",
    "delivered",
    "read",
    "undelivered",
)


@dataclass(frozen=True)
class OutboxResult:
    """What happened to one message in a run, for the command's report."""

    account_ref: str
    kind: str
    status: str
    reason: str
    twilio_sid: str | None = None


def outreach_text(first_name: str) -> str:
    # Identity is not verified yet: nothing about the debt, not even the creditor.
    return (
        f"Hi {first_name}, this is Parley, an automated assistant, with a personal message for "
        "you. Please reply when you have a moment; we'll check it's you before sharing anything."
    )


def reminder_text(first_name: str, installment: Installment, agreement: Agreement) -> str:
    amount = format_money(installment.amount, agreement.currency)
    return (
        f"Hi {first_name}, a reminder from Parley: your payment of {amount} under agreement "
        f"{agreement.reference} is due on {format_date(installment.due_date)}. If anything has "
        "changed, just reply here."
    )


def _first_name(account: Account) -> str:
    parts = account.name.split()
    return parts[0] if parts else "there"


def sent_in_last_7_days(session: Session, account: Account, now: datetime) -> int:
    """Bot-initiated messages that count towards the cap."""
    since = now - timedelta(days=7)
    return session.execute(
        sa.select(sa.func.count(OutboxMessage.id)).where(
            OutboxMessage.account_id == account.id,
            OutboxMessage.status.in_(_COUNTS_TOWARDS_CAP),
            OutboxMessage.sent_at >= since,
        )
    ).scalar_one()


def _decide(session: Session, account: Account, policy: Policy, now: datetime):  # type: ignore[no-untyped-def]
    repo = AccountRepository(session)
    return decide(
        flags=set(repo.active_flags(account)),
        account_status=account.status,
        zone=account.timezone,
        now=now,
        quiet_hours=policy.quiet_hours,
        sent_last_7_days=sent_in_last_7_days(session, account, now),
        cap_per_7_days=policy.max_outbound_per_7_days,
    )


# A person's reply from the console: its own send gate (rules.decide_operator_reply).
OPERATOR_REPLY = "operator_reply"


def _decide_operator_reply(
    session: Session, account: Account, policy: Policy, now: datetime
) -> SendDecision:
    return decide_operator_reply(
        flags=set(AccountRepository(session).active_flags(account)),
        account_status=account.status,
        channel=account.channel,
        zone=account.timezone,
        now=now,
        quiet_hours=policy.quiet_hours,
        last_inbound_at=account.last_inbound_at,
    )


def _decide_for(
    session: Session, message: OutboxMessage, account: Account, policy: Policy, now: datetime
) -> SendDecision:
    if message.kind == OPERATOR_REPLY:
        return _decide_operator_reply(session, account, policy, now)
    return _decide(session, account, policy, now)  # type: ignore[no-any-return]


_STATUS_FOR_VERDICT = {
    "send": "queued",
    "schedule": "scheduled",
    "hold": "held",
    "block": "blocked",
}


def enqueue(
    session: Session,
    account: Account,
    *,
    kind: str,
    body: str,
    idempotency_key: str,
    policy: Policy,
    now: datetime,
    installment_id: int | None = None,
) -> tuple[OutboxMessage, bool]:
    """Queue one message (once per key) with the decision made now; returns (row, created)."""
    existing = session.execute(
        sa.select(OutboxMessage).where(OutboxMessage.idempotency_key == idempotency_key)
    ).scalar_one_or_none()
    if existing is not None:
        return existing, False
    decision = _decide(session, account, policy, now)
    to = f"whatsapp:{account.phone}" if account.channel == "whatsapp" else account.phone
    message = OutboxMessage(
        account_id=account.id,
        kind=kind,
        channel=account.channel,
        to_address=to,
        body=with_opt_out_line(body),
        status=_STATUS_FOR_VERDICT[decision.verdict],
        reason=decision.reason,
        scheduled_for=decision.not_before,
        idempotency_key=idempotency_key,
        installment_id=installment_id,
    )
    session.add(message)
    session.flush()
    record_audit(
        session,
        "system",
        f"outbox_{message.status}",
        account_id=account.id,
        detail={"kind": kind, "reason": decision.reason, "outbox_id": message.id},
    )
    return message, True


def enqueue_operator_reply(
    session: Session,
    account: Account,
    *,
    body: str,
    operator: str,
    idempotency_key: str,
    policy: Policy,
    now: datetime,
) -> OutboxMessage:
    """Queue a person's reply on the debtor's channel, decided by the operator gate.

    No opt-out line is added: this answers the debtor, it does not start a conversation.
    """
    existing = session.execute(
        sa.select(OutboxMessage).where(OutboxMessage.idempotency_key == idempotency_key)
    ).scalar_one_or_none()
    if existing is not None:
        return existing
    decision = _decide_operator_reply(session, account, policy, now)
    to = f"whatsapp:{account.phone}" if account.channel == "whatsapp" else account.phone
    message = OutboxMessage(
        account_id=account.id,
        kind=OPERATOR_REPLY,
        channel=account.channel,
        to_address=to,
        body=body.strip(),
        status=_STATUS_FOR_VERDICT[decision.verdict],
        reason=decision.reason,
        scheduled_for=decision.not_before,
        idempotency_key=idempotency_key,
    )
    session.add(message)
    session.flush()
    record_audit(
        session,
        operator,
        f"outbox_{message.status}",
        account_id=account.id,
        detail={"kind": OPERATOR_REPLY, "reason": decision.reason, "outbox_id": message.id},
    )
    return message


def queue_outreach(policy: Policy, now: datetime) -> list[int]:
    """A first-contact message for every account that has none yet; returns new ids."""
    ids = []
    with get_database().session() as session:
        accounts = session.execute(sa.select(Account).order_by(Account.account_ref)).scalars().all()
        for account in accounts:
            message, created = enqueue(
                session,
                account,
                kind="outreach",
                body=outreach_text(_first_name(account)),
                idempotency_key=f"outreach:{account.account_ref}",
                policy=policy,
                now=now,
            )
            if created:
                ids.append(message.id)
    return ids


def queue_reminders(policy: Policy, now: datetime, days: int) -> list[int]:
    """A reminder for each unpaid installment due within `days` days (debtor-local dates),
    once per installment; returns the ids queued by this call."""
    ids = []
    with get_database().session() as session:
        rows = session.execute(
            sa.select(Installment, Agreement, Account)
            .join(Agreement, Installment.agreement_id == Agreement.id)
            .join(Account, Agreement.account_id == Account.id)
            .where(Installment.status == "due", Agreement.status == "active")
            .order_by(Installment.due_date, Installment.id)
        ).all()
        for installment, agreement, account in rows:
            today = now.astimezone(ZoneInfo(account.timezone)).date()
            if not (today <= installment.due_date <= today + timedelta(days=days)):
                continue
            message, created = enqueue(
                session,
                account,
                kind="reminder",
                body=reminder_text(_first_name(account), installment, agreement),
                idempotency_key=f"reminder:{installment.id}",
                policy=policy,
                now=now,
                installment_id=installment.id,
            )
            if created:
                ids.append(message.id)
    return ids


def _reminder_for_inactive_agreement(session: Session, message: OutboxMessage) -> str | None:
    """Why a queued reminder must not go out (its agreement is no longer active), or None."""
    if message.installment_id is None:
        return None
    agreement = session.execute(
        sa.select(Agreement)
        .join(Installment, Installment.agreement_id == Agreement.id)
        .where(Installment.id == message.installment_id)
    ).scalar_one_or_none()
    if agreement is None or agreement.status == "active":
        return None
    return f"agreement {agreement.reference} is {agreement.status}; reminders follow the active one"


# --- sending: claims shared by workers and `parley outbox send` -------------------------

# How long a claim holds a message for its worker. It covers the rate-limit wait and one
# send with every client retry; a worker that dies leaves it to expire and be taken over.
DEFAULT_LEASE = timedelta(minutes=5)
# Backoff between sends after Twilio kept failing (5xx, 429, unreachable): 30 s, 1 min,
# 2 min... at most an hour; after this many attempts the message is failed for a person.
RETRY_BASE = timedelta(seconds=30)
RETRY_MAX = timedelta(hours=1)
MAX_SEND_ATTEMPTS = 8
# A held message (at the 7-day cap) and one that cannot go for a setting are looked at again
# after this long, not on every pass of a worker.
RECHECK_AFTER = timedelta(minutes=10)
# After an unanswered request, wait this long before looking the message up at Twilio
# (its list can lag the create by a few seconds), and search from this long before the
# request started (clocks differ).
RECONCILE_AFTER = timedelta(seconds=30)
RECONCILE_MARGIN = timedelta(minutes=2)

WAITING = ("queued", "held", "unknown")
# How long the console waits for a worker that claimed its reply first.
WAIT_FOR_WORKER = timedelta(seconds=20)


def due_condition(now: datetime) -> sa.sql.ColumnElement:  # type: ignore[type-arg]
    """Messages a worker may claim at `now`: waiting and due, or a claim whose lease
    expired (its worker stopped or died)."""
    m = OutboxMessage
    return sa.and_(
        sa.or_(
            m.status.in_(WAITING),
            sa.and_(m.status == "scheduled", sa.or_(m.scheduled_for.is_(None), m.scheduled_for <= now)),
            sa.and_(m.status.in_(("claimed", "sending")), m.claim_expires_at < now),
        ),
        sa.or_(m.retry_at.is_(None), m.retry_at <= now),
    )  # fmt: skip


def new_worker_id(prefix: str = "worker") -> str:
    """Names a claimant in the outbox and the logs: host, PID and a random tag."""
    return f"{prefix}:{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def claim_due(
    worker_id: str,
    now: datetime,
    *,
    limit: int,
    lease: timedelta = DEFAULT_LEASE,
    only_ids: Sequence[int] | None = None,
) -> list[int]:
    """Claim up to `limit` due messages for `worker_id`; returns their ids, oldest first.

    PostgreSQL: `SELECT ... FOR UPDATE SKIP LOCKED`, so workers claiming at once each get
    different rows without waiting for each other. SQLite (one worker, plus cron and the
    console): each row is taken with a compare-and-set UPDATE, its own one-statement
    transaction, so two claimants never both win a row.
    """
    database = get_database()
    claim = {"status": "claimed", "claimed_by": worker_id, "claim_expires_at": now + lease}
    query = (
        sa.select(OutboxMessage.id)
        .where(due_condition(now))
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    if only_ids is not None:
        query = query.where(OutboxMessage.id.in_(list(only_ids)))
    if database.dialect == "postgresql":
        with database.session() as session:
            ids = list(session.execute(query.with_for_update(skip_locked=True)).scalars())
            if ids:
                session.execute(
                    sa.update(OutboxMessage)
                    .where(OutboxMessage.id.in_(ids))
                    .values(**claim)
                    .execution_options(synchronize_session=False)
                )
        return ids
    with database.session() as session:
        candidates = list(session.execute(query).scalars())
    claimed = []
    for message_id in candidates:
        with database.session() as session:
            won = session.execute(
                sa.update(OutboxMessage)
                .where(OutboxMessage.id == message_id, due_condition(now))
                .values(**claim)
                .execution_options(synchronize_session=False)
            ).rowcount
        if won == 1:
            claimed.append(message_id)
    return claimed


def release_claims(worker_id: str, ids: Sequence[int] | None = None) -> int:
    """Give back what `worker_id` claimed and has not started sending (a stopping worker);
    returns how many. A message whose earlier send is unresolved goes back to `unknown`."""
    released = 0
    with get_database().session() as session:
        for unresolved, status in ((False, "queued"), (True, "unknown")):
            query = sa.update(OutboxMessage).where(
                OutboxMessage.claimed_by == worker_id,
                OutboxMessage.status == "claimed",
                OutboxMessage.send_started_at.isnot(None)
                if unresolved
                else OutboxMessage.send_started_at.is_(None),
            )
            if ids is not None:
                query = query.where(OutboxMessage.id.in_(list(ids)))
            released += session.execute(
                query.values(
                    status=status, claimed_by=None, claim_expires_at=None
                ).execution_options(synchronize_session=False)
            ).rowcount
    return released


@dataclass(frozen=True)
class _Prepared:
    """A claimed message that passed its gate, ready for Twilio."""

    message_id: int
    ref: str
    kind: str
    to: str
    sender: str
    body: str
    key: str
    use_template: bool
    first_name: str


def _release(message: OutboxMessage) -> None:
    message.claimed_by = None
    message.claim_expires_at = None


def _retry_delay(attempts: int) -> timedelta:
    return min(RETRY_MAX, RETRY_BASE * (2 ** max(0, attempts - 1)))


class OutboxSender:
    """Sends due messages through Twilio, re-checking the rules at send time.

    Every message is claimed first (see :func:`claim_due`), so any number of senders —
    `parley worker` processes, a cron `parley outbox send`, the console — share the
    outbox and none sends what another holds. Each sending number keeps its rate
    (bot.messaging.rate_limit) across all of them.
    """

    def __init__(
        self,
        client: TwilioClient | None,
        settings: Settings | None = None,
        *,
        clock: Clock | None = None,
        worker_id: str | None = None,
        lease: timedelta = DEFAULT_LEASE,
        rate: SendRate | None = None,
    ) -> None:
        self.client = client
        self.settings = settings or get_settings()
        self.clock: Clock = clock or SystemClock()
        self.worker_id = worker_id or new_worker_id("send")
        self.lease = lease
        self.rate = rate or SendRate(self.settings.send_rate_per_second, self.settings.send_burst)
        self.stop = asyncio.Event()

    @classmethod
    def from_settings(cls, settings: Settings | None = None, **kwargs: Any) -> OutboxSender:
        settings = settings or get_settings()
        try:
            client: TwilioClient | None = TwilioClient(
                settings.twilio_account_sid or "",
                settings.twilio_auth_token or "",
                api_base=settings.twilio_api_base,
            )
        except TwilioConfigurationError:
            client = None
        return cls(client, settings, **kwargs)

    def _status_callback(self, message_id: int) -> str | None:
        # The outbox id rides along (Twilio signs the whole URL), so a callback that comes
        # before the send's answer, or for a send whose answer was lost, finds its message.
        base = self.settings.public_base_url
        return f"{base}/webhooks/twilio/status?outbox={message_id}" if base else None

    def _sender_number(self, channel: str) -> str | None:
        if channel == "whatsapp":
            return self.settings.twilio_whatsapp_from
        return self.settings.twilio_sms_from

    async def dispatch(
        self,
        policy: Policy,
        now: datetime | None = None,
        also_report: Sequence[int] = (),
        *,
        batch: int = 20,
    ) -> list[OutboxResult]:
        """Send every message that is due (cron's `parley outbox send`); report those and
        the `also_report` ones (e.g. just queued as blocked) so a command can say what
        happened to each. `now` shifts the clock (dry runs); it still moves on."""
        if now is not None:
            self.clock = SystemClock(now)
        results: list[OutboxResult] = []
        done: set[int] = set()
        while not self.stop.is_set():
            ids = claim_due(self.worker_id, self.clock.now(), limit=batch, lease=self.lease)
            if not ids:
                break
            for position, message_id in enumerate(ids):
                if self.stop.is_set():
                    release_claims(self.worker_id, ids[position:])
                    break
                results.append(await self.process_claimed(message_id, policy))
                done.add(message_id)
        extra = [i for i in also_report if i not in done]
        if extra:
            with get_database().session() as session:
                rows = session.execute(
                    sa.select(OutboxMessage, Account)
                    .join(Account, OutboxMessage.account_id == Account.id)
                    .where(OutboxMessage.id.in_(extra))
                    .order_by(OutboxMessage.id)
                ).all()
                results += [
                    OutboxResult(a.account_ref, m.kind, m.status, m.reason or "", m.twilio_sid)
                    for m, a in rows
                ]
        return results

    async def dispatch_message(
        self, message_id: int, policy: Policy, now: datetime | None = None
    ) -> OutboxResult:
        """Send one queued message now if its gate allows (the console's replies).

        If a worker claimed it first, wait (up to WAIT_FOR_WORKER) for that worker's
        outcome, so the caller learns what happened to it either way."""
        if now is not None:
            self.clock = SystemClock(now)
        if claim_due(self.worker_id, self.clock.now(), limit=1, only_ids=[message_id]):
            return await self.process_claimed(message_id, policy)
        waited = 0.0
        while True:
            with get_database().session() as session:
                message = session.get(OutboxMessage, message_id)
                assert message is not None
                account = session.get(Account, message.account_id)
                assert account is not None
                in_hand = message.status in ("claimed", "sending") and message.claimed_by
                result = OutboxResult(
                    account.account_ref,
                    message.kind,
                    message.status,
                    message.reason or message.status,
                    message.twilio_sid,
                )
            if not in_hand or waited >= WAIT_FOR_WORKER.total_seconds():
                return result
            await self.clock.sleep(0.2)
            waited += 0.2

    async def process_claimed(self, message_id: int, policy: Policy) -> OutboxResult:
        """Take one message this sender claimed to its end: look up an unresolved earlier
        send, check the gate, wait for the number's rate, check the gate again at the
        moment of sending, send, record."""
        now = self.clock.now()
        resolved = await self._reconcile(message_id, now)
        if resolved is not None:
            return resolved
        gate = self._gate(message_id, policy, now, start_sending=False)
        if isinstance(gate, OutboxResult):
            return gate
        with get_database().session() as session:
            allowed = reserve_slot(session, gate.sender, now, self.rate)
        if allowed > now:
            if not await self.clock.sleep((allowed - now).total_seconds(), self.stop):
                release_claims(self.worker_id, [message_id])
                return OutboxResult(
                    gate.ref, gate.kind, "queued", "released: the sender is stopping"
                )
            now = self.clock.now()
        gate = self._gate(message_id, policy, now, start_sending=True)
        if isinstance(gate, OutboxResult):
            return gate
        outcome = await self._send(gate)
        return self._record(message_id, gate, outcome, self.clock.now())

    def _gate(
        self, message_id: int, policy: Policy, now: datetime, *, start_sending: bool
    ) -> _Prepared | OutboxResult:
        """The send gate at `now`, under this sender's claim; with `start_sending` the
        message moves to `sending` in the same transaction (it then counts towards caps)."""
        database = get_database()
        with database.session() as session:
            # The claim is still ours? (The UPDATE also takes the row's lock first.)
            owned = session.execute(
                sa.update(OutboxMessage)
                .where(
                    OutboxMessage.id == message_id,
                    OutboxMessage.status == "claimed",
                    OutboxMessage.claimed_by == self.worker_id,
                )
                .values(claim_expires_at=now + self.lease)
                .execution_options(synchronize_session=False)
            ).rowcount
            message = session.get(OutboxMessage, message_id)
            assert message is not None
            # One account's gate at a time: its cap counts what another worker is sending.
            account = session.execute(
                sa.select(Account).where(Account.id == message.account_id).with_for_update()
            ).scalar_one()
            ref = account.account_ref
            if owned != 1:
                return OutboxResult(
                    ref, message.kind, "skipped", "another sender took it over (lease expired)"
                )
            replaced = _reminder_for_inactive_agreement(session, message)
            if replaced:
                # Reminders follow only the live agreement: one for a plan that was
                # replaced (or ended) after it was queued is never sent.
                message.status = "blocked"
                message.reason = replaced
                _release(message)
                return OutboxResult(ref, message.kind, "blocked", replaced)
            decision = _decide_for(session, message, account, policy, now)
            if decision.verdict != "send":
                message.status = _STATUS_FOR_VERDICT[decision.verdict]
                message.reason = decision.reason
                message.scheduled_for = decision.not_before
                message.retry_at = now + RECHECK_AFTER if decision.verdict == "hold" else None
                _release(message)
                return OutboxResult(ref, message.kind, message.status, decision.reason)
            sender = self._sender_number(message.channel)
            problem = None
            if self.client is None:
                problem = (
                    "Twilio is not configured (TWILIO_ACCOUNT_SID/TWILIO_AUTH_TOKEN); kept queued"
                )
            elif not sender:
                env = "TWILIO_WHATSAPP_FROM" if message.channel == "whatsapp" else "TWILIO_SMS_FROM"
                problem = f"{env} is not set; kept queued"
            if problem or not sender:
                message.status = "queued"
                message.reason = problem
                message.retry_at = now + RECHECK_AFTER
                _release(message)
                return OutboxResult(ref, message.kind, "queued", problem or "")
            use_template = (
                message.kind != OPERATOR_REPLY
                and message.channel == "whatsapp"
                and (
                    account.last_inbound_at is None
                    or now - account.last_inbound_at > WHATSAPP_WINDOW
                )
            )
            if start_sending:
                message.status = "sending"
                message.send_started_at = now
                message.sent_at = now
                message.attempts += 1
                message.claim_expires_at = now + self.lease
            return _Prepared(
                message_id, ref, message.kind, message.to_address, sender, message.body,
                message.idempotency_key, use_template, _first_name(account),
            )  # fmt: skip

    async def _reconcile(self, message_id: int, now: datetime) -> OutboxResult | None:
        """An earlier request for this message got no answer: ask Twilio whether it has
        the message before anything is sent again. Returns the result when that settles
        it (found: sent; Twilio unreachable: still unknown), None to go on and send."""
        database = get_database()
        with database.session() as session:
            message = session.get(OutboxMessage, message_id)
            assert message is not None
            if message.send_started_at is None:
                return None
            account = session.get(Account, message.account_id)
            assert account is not None
            ref, kind, to = account.account_ref, message.kind, message.to_address
            started = message.send_started_at
            sender = self._sender_number(message.channel)
            known = set(
                session.execute(
                    sa.select(OutboxMessage.twilio_sid).where(
                        OutboxMessage.to_address == to, OutboxMessage.twilio_sid.isnot(None)
                    )
                ).scalars()
            )
        found = None
        error = None
        if self.client is None or not sender:
            error = "Twilio is not configured here"
        else:
            try:
                found = await self.client.find_sent(
                    to=to, from_=sender, since=started - RECONCILE_MARGIN, exclude=known
                )
            except TwilioApiError as exc:
                error = str(exc)
        with database.session() as session:
            message = session.get(OutboxMessage, message_id)
            assert message is not None
            if message.twilio_sid:  # a status callback proved Twilio has it meanwhile
                return OutboxResult(
                    ref, kind, message.status, message.reason or "", message.twilio_sid
                )
            if message.claimed_by != self.worker_id or message.status != "claimed":
                return OutboxResult(ref, kind, "skipped", "another sender took it over")
            if error is not None:
                message.status = "unknown"
                message.reason = (
                    f"no answer to the send at {started:%H:%M:%S} UTC and Twilio's list "
                    f"could not be read ({error}); not resent, looking again later"
                )
                message.retry_at = now + RECONCILE_AFTER
                _release(message)
                status, reason, sid = "unknown", message.reason, None
            elif found is not None:
                message.status = "sent"
                message.twilio_sid = found.sid
                message.sent_at = found.date_created or started
                message.send_started_at = None
                message.retry_at = None
                message.reason = "sent (Twilio had it, though its answer was lost)"
                _release(message)
                status, reason, sid = "sent", message.reason, found.sid
            else:
                message.send_started_at = None
                message.sent_at = None
                message.reason = "Twilio never created it (no answer, not in its list); resending"
                status, reason, sid = "resend", message.reason, None
            record_audit(
                session, "system", f"outbox_reconciled_{status}", account_id=message.account_id,
                detail={"outbox_id": message_id, "reason": reason, "twilio_sid": sid},
            )  # fmt: skip
        logger.info("outbox %s to %s: %s (%s)", message_id, mask_phone(to), status, reason)
        return None if status == "resend" else OutboxResult(ref, kind, status, reason, sid)

    def _record(
        self,
        message_id: int,
        prepared: _Prepared,
        outcome: tuple[str, str, str | None, str | None],
        now: datetime,
    ) -> OutboxResult:
        status, reason, sid, error_code = outcome
        with get_database().session() as session:
            message = session.get(OutboxMessage, message_id)
            assert message is not None
            account = session.get(Account, message.account_id)
            assert account is not None
            if message.twilio_sid and sid and message.twilio_sid != sid:
                # Only possible if a lease expired during a send another sender then resent.
                logger.error(
                    "outbox %s was sent twice (%s and %s): raise the lease above the longest send",
                    message_id, message.twilio_sid, sid,
                )  # fmt: skip
            if message.twilio_sid and sid in (None, message.twilio_sid):
                # A status callback got here first: Twilio has the message, whatever our
                # request's answer was (lost, or not yet recorded).
                if status != "sent":
                    status, reason = "sent", "sent (Twilio's status callback confirmed it)"
                if STATUS_RANK.get(message.status, 0) > STATUS_RANK["sent"]:
                    status = message.status  # delivered/read already: keep it
                sid, error_code = message.twilio_sid, None
            if status == "retry":
                if message.attempts >= MAX_SEND_ATTEMPTS:
                    status, reason = (
                        "failed",
                        f"gave up after {message.attempts} attempts: {reason}",
                    )
                else:
                    message.retry_at = now + _retry_delay(message.attempts)
                    status = "queued"
                    reason = f"{reason}; will retry after {message.retry_at:%H:%M:%S} UTC"
            message.status = status
            message.reason = reason
            message.twilio_sid = sid or message.twilio_sid
            message.error_code = error_code
            if status == "unknown":
                message.retry_at = now + RECONCILE_AFTER
            else:
                message.send_started_at = None
            if status == "sent":
                message.sent_at = now
                message.retry_at = None
            elif status in ("queued", "held", "failed"):
                message.sent_at = None
                if status == "held":
                    message.retry_at = now + RECHECK_AFTER
            _release(message)
            if error_code == str(TWILIO_RECIPIENT_OPTED_OUT):
                repo = AccountRepository(session)
                repo.record_event(
                    account, "opt_out", detail={"source": "twilio", "error": error_code}
                )
                repo.set_flag(account, "opted_out", source="twilio", note="Twilio error 21610")
            record_audit(
                session,
                "system",
                f"outbox_{status}",
                account_id=account.id,
                detail={"outbox_id": message.id, "reason": reason, "twilio_sid": sid},
            )
        logger.info("outbox %s to %s: %s (%s)", message_id, mask_phone(prepared.to), status, reason)
        return OutboxResult(prepared.ref, prepared.kind, status, reason, sid)

    async def _send(self, p: _Prepared) -> tuple[str, str, str | None, str | None]:
        callback = self._status_callback(p.message_id)
        return await self._send_request(
            p.to, p.sender, p.body, p.key, p.use_template, p.first_name, callback
        )

    async def _send_request(
        self,
        to: str,
        sender: str,
        body: str,
        key: str,
        use_template: bool,
        first_name: str,
        callback: str | None,
    ) -> tuple[str, str, str | None, str | None]:
        """(status, reason, sid, error code); status "retry" is decided by _record."""
        assert self.client is not None
        template = self.settings.twilio_whatsapp_template_sid
        try:
            if use_template:
                if not template:
                    return (
                        "held",
                        "WhatsApp 24-hour window closed and TWILIO_WHATSAPP_TEMPLATE_SID is not set",
                        None,
                        None,
                    )
                sent = await self.client.send(
                    to=to, from_=sender, idempotency_key=key, content_sid=template,
                    content_variables={"1": first_name}, status_callback=callback,
                )  # fmt: skip
                return (
                    "sent",
                    "sent the approved WhatsApp template (outside the 24-hour window)",
                    sent.sid,
                    None,
                )
            sent = await self.client.send(
                to=to, from_=sender, idempotency_key=key, body=body, status_callback=callback
            )
            return ("sent", "sent", sent.sid, None)
        except TwilioOutcomeUnknownError as exc:
            return (
                "unknown",
                f"{exc}: not resent until Twilio's list shows whether it was",
                None,
                None,
            )
        except TwilioApiError as exc:
            if exc.code == TWILIO_WHATSAPP_OUTSIDE_WINDOW and template and not use_template:
                return await self._send_request(
                    to, sender, body, key + ":template", True, first_name, callback
                )
            if exc.code == TWILIO_RECIPIENT_OPTED_OUT:
                return (
                    "failed",
                    "the recipient opted out at the carrier (21610); marked opted out",
                    None,
                    str(exc.code),
                )
            if exc.retryable:
                return ("retry", str(exc), None, str(exc.code) if exc.code else None)
            return ("failed", str(exc), None, str(exc.code) if exc.code else None)


def parse_now(value: str | None) -> datetime:
    """`--now` for commands: an ISO time with its offset (tests and dry runs), or now."""
    if not value:
        return utcnow()
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError(
            f"--now needs a UTC offset, like 2026-11-28T22:00:00-05:00 (got {value!r})"
        )
    return moment.astimezone(timezone.utc)
