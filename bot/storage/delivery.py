"""Twilio's delivery-status callbacks, applied to the outbox."""

from __future__ import annotations

import logging

import sqlalchemy as sa

from bot.storage.db import get_database
from bot.storage.models import Account, OutboxMessage
from bot.storage.repositories import AccountRepository, record_audit

logger = logging.getLogger(__name__)

# Twilio's error for a recipient who replied STOP to the carrier.
TWILIO_RECIPIENT_OPTED_OUT = 21610

# Delivery statuses only ever move forward (callbacks arrive out of order).
STATUS_RANK = {
    "queued": 0,
    "scheduled": 0,
    "held": 0,
    "accepted": 1,
    "sending": 2,
    "sent": 3,
    "undelivered": 4,
    "failed": 4,
    "delivered": 4,
    "read": 5,
}


# Outbox statuses in which a message may already exist at Twilio without our knowing its
# SID yet: the request is in flight, or its answer was lost (bot.messaging.outbox).
_AWAITING_SID = ("claimed", "sending", "unknown")


def record_status_callback(
    twilio_sid: str, status: str, error_code: str | None, outbox_id: int | None = None
) -> bool:
    """Apply a signed status callback; returns False if ignored (unknown or backwards).

    `outbox_id` comes from the callback URL (`?outbox=ID`, set when the message was sent):
    a callback that arrives before the send's answer was recorded, or for a send whose
    answer was lost, still finds its message, and proves Twilio has it.
    """
    with get_database().session() as session:
        message = session.execute(
            sa.select(OutboxMessage).where(OutboxMessage.twilio_sid == twilio_sid)
        ).scalar_one_or_none()
        attached = False
        if message is None and outbox_id is not None:
            candidate = session.get(OutboxMessage, outbox_id)
            if (
                candidate is not None
                and candidate.twilio_sid is None
                and candidate.status in _AWAITING_SID
            ):
                message = candidate
                message.twilio_sid = twilio_sid
                attached = True
                if message.status != "sending":
                    # An unanswered send, now known to be at Twilio: never resent.
                    message.status = "sent"
                    message.reason = "sent (Twilio's status callback confirmed it)"
                    message.send_started_at = None
                    message.retry_at = None
                    message.claimed_by = None
                    message.claim_expires_at = None
        if message is None:
            logger.info("status callback for an unknown message %s", twilio_sid)
            return False
        if STATUS_RANK.get(status, -1) <= STATUS_RANK.get(message.status, 0):
            return attached
        message.status = status
        if error_code:
            message.error_code = error_code
            if error_code == str(TWILIO_RECIPIENT_OPTED_OUT):
                account = session.get(Account, message.account_id)
                if account is not None:
                    AccountRepository(session).set_flag(account, "opted_out", source="twilio")
        record_audit(
            session,
            "twilio",
            f"delivery_{status}",
            account_id=message.account_id,
            detail={"outbox_id": message.id},
        )
        return True
