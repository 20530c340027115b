"""The outbox: every bot-initiated message is queued here, decided on, sent and tracked."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.messaging.rules import SendDecision, decide, decide_operator_reply, with_opt_out_line
from bot.messaging.twilio_client import TwilioApiError, TwilioClient, TwilioConfigurationError
from bot.negotiation import Policy, format_money
from bot.negotiation.wording import format_date
from bot.privacy import mask_phone
from bot.settings import Settings, get_settings
from bot.storage import AccountRepository, get_database, record_audit
from bot.storage.delivery import TWILIO_RECIPIENT_OPTED_OUT
from bot.storage.models import Account, Agreement, Installment, OutboxMessage
from bot.storage.types import utcnow

logger = logging.getLogger(__name__)

# Twilio error codes with a defined response.
TWILIO_WHATSAPP_OUTSIDE_WINDOW = 63016
WHATSAPP_WINDOW = timedelta(hours=24)
_COUNTS_TOWARDS_CAP = ("sent", "sending", "accepted", "delivered", "read", "undelivered")


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


class OutboxSender:
    """Sends due messages through Twilio, re-checking the rules at send time."""

    def __init__(self, client: TwilioClient | None, settings: Settings | None = None) -> None:
        self.client = client
        self.settings = settings or get_settings()

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> OutboxSender:
        settings = settings or get_settings()
        try:
            client: TwilioClient | None = TwilioClient(
                settings.twilio_account_sid or "",
                settings.twilio_auth_token or "",
                api_base=settings.twilio_api_base,
            )
        except TwilioConfigurationError:
            client = None
        return cls(client, settings)

    def _status_callback(self) -> str | None:
        base = self.settings.public_base_url
        return f"{base}/webhooks/twilio/status" if base else None

    async def dispatch(
        self, policy: Policy, now: datetime, also_report: Sequence[int] = ()
    ) -> list[OutboxResult]:
        """Send every message that is due; report those and the `also_report` ones
        (e.g. just queued as blocked) so a command can say what happened to each."""
        database = get_database()
        with database.session() as session:
            pending = list(
                session.execute(
                    sa.select(OutboxMessage.id)
                    .where(OutboxMessage.status.in_(("queued", "scheduled", "held")))
                    .order_by(OutboxMessage.id)
                ).scalars()
            )
        results = [await self._dispatch_one(message_id, policy, now) for message_id in pending]
        extra = [i for i in also_report if i not in pending]
        if extra:
            with database.session() as session:
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
        self, message_id: int, policy: Policy, now: datetime
    ) -> OutboxResult:
        """Send one queued message now if its gate allows (the console's replies)."""
        return await self._dispatch_one(message_id, policy, now)

    async def _dispatch_one(self, message_id: int, policy: Policy, now: datetime) -> OutboxResult:
        database = get_database()
        with database.session() as session:
            message = session.get(OutboxMessage, message_id)
            assert message is not None
            account = session.get(Account, message.account_id)
            assert account is not None
            ref = account.account_ref
            if (
                message.status == "scheduled"
                and message.scheduled_for
                and message.scheduled_for > now
            ):
                return OutboxResult(ref, message.kind, "scheduled", message.reason or "")
            replaced = _reminder_for_inactive_agreement(session, message)
            if replaced:
                # Reminders follow only the live agreement: one for a plan that was
                # replaced (or ended) after it was queued is never sent.
                message.status = "blocked"
                message.reason = replaced
                return OutboxResult(ref, message.kind, "blocked", replaced)
            decision = _decide_for(session, message, account, policy, now)
            if decision.verdict != "send":
                message.status = _STATUS_FOR_VERDICT[decision.verdict]
                message.reason = decision.reason
                message.scheduled_for = decision.not_before
                return OutboxResult(ref, message.kind, message.status, decision.reason)
            if self.client is None:
                message.reason = (
                    "Twilio is not configured (TWILIO_ACCOUNT_SID/TWILIO_AUTH_TOKEN); kept queued"
                )
                message.status = "queued"
                return OutboxResult(ref, message.kind, "queued", message.reason)
            use_template = (
                message.kind != OPERATOR_REPLY
                and message.channel == "whatsapp"
                and (
                    account.last_inbound_at is None
                    or now - account.last_inbound_at > WHATSAPP_WINDOW
                )
            )
            first_name = _first_name(account)
            snapshot = (message.to_address, message.body, message.channel, message.idempotency_key)
            message.attempts += 1
        to, body, channel, key = snapshot
        sender = (
            self.settings.twilio_whatsapp_from
            if channel == "whatsapp"
            else self.settings.twilio_sms_from
        )
        outcome: tuple[str, str, str | None, str | None]
        if not sender:
            env = "TWILIO_WHATSAPP_FROM" if channel == "whatsapp" else "TWILIO_SMS_FROM"
            outcome = ("queued", f"{env} is not set; kept queued", None, None)
        else:
            outcome = await self._send(to, sender, body, key, use_template, first_name)
        status, reason, sid, error_code = outcome
        with database.session() as session:
            message = session.get(OutboxMessage, message_id)
            assert message is not None
            account = session.get(Account, message.account_id)
            assert account is not None
            message.status = status
            message.reason = reason
            message.twilio_sid = sid or message.twilio_sid
            message.error_code = error_code
            if status == "sent":
                message.sent_at = now
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
        logger.info("outbox %s to %s: %s (%s)", message_id, mask_phone(to), status, reason)
        return OutboxResult(ref, message.kind, status, reason, sid)

    async def _send(
        self, to: str, sender: str, body: str, key: str, use_template: bool, first_name: str
    ) -> tuple[str, str, str | None, str | None]:
        assert self.client is not None
        template = self.settings.twilio_whatsapp_template_sid
        callback = self._status_callback()
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
        except TwilioApiError as exc:
            if exc.code == TWILIO_WHATSAPP_OUTSIDE_WINDOW and template and not use_template:
                return await self._send(to, sender, body, key + ":template", True, first_name)
            if exc.code == TWILIO_RECIPIENT_OPTED_OUT:
                return (
                    "failed",
                    "the recipient opted out at the carrier (21610); marked opted out",
                    None,
                    str(exc.code),
                )
            if exc.retryable:
                return (
                    "queued",
                    f"{exc}; will retry on the next run",
                    None,
                    str(exc.code) if exc.code else None,
                )
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
