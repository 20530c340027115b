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


def record_status_callback(twilio_sid: str, status: str, error_code: str | None) -> bool:
    """Apply a signed status callback; returns False if ignored (unknown or backwards)."""
    with get_database().session() as session:
        message = session.execute(
            sa.select(OutboxMessage).where(OutboxMessage.twilio_sid == twilio_sid)
        ).scalar_one_or_none()
        if message is None:
            logger.info("status callback for an unknown message %s", twilio_sid)
            return False
        if STATUS_RANK.get(status, -1) <= STATUS_RANK.get(message.status, 0):
            return False
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
