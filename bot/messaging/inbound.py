"""Inbound bookkeeping: one processing per MessageSid, opt-outs from Twilio, last contact."""

from __future__ import annotations

from bot.channels.context import sender_phone
from bot.storage import AccountRepository, InboundMessageRepository, get_database
from bot.storage.repositories import InboundClaim


def claim(message_sid: str, channel: str, sender: str) -> InboundClaim:
    with get_database().session() as session:
        return InboundMessageRepository(session).claim(message_sid, channel=channel, sender=sender)


def complete(message_sid: str, reply: str) -> None:
    with get_database().session() as session:
        InboundMessageRepository(session).complete(message_sid, reply)


def fail(message_sid: str) -> None:
    with get_database().session() as session:
        InboundMessageRepository(session).fail(message_sid)


def touch_account(sender: str) -> None:
    """Remember when the debtor last wrote (WhatsApp's 24-hour window starts there)."""
    phone = sender_phone(sender)
    if phone is None:
        return
    with get_database().session() as session:
        repo = AccountRepository(session)
        account = repo.find_by_phone(phone)
        if account is not None:
            repo.touch_inbound(account)


def apply_opt_out_type(sender: str, opt_out_type: str, body: str) -> None:
    """Twilio's OptOutType STOP/START (HELP needs nothing stored)."""
    phone = sender_phone(sender)
    if phone is None:
        return
    with get_database().session() as session:
        repo = AccountRepository(session)
        account = repo.find_by_phone(phone)
        if account is None:
            return
        if opt_out_type == "STOP":
            repo.record_event(
                account, "opt_out", debtor_words=body[:2000], detail={"source": "twilio"}
            )
            repo.set_flag(account, "opted_out", source="twilio", debtor_words=body[:2000])
        elif opt_out_type == "START":
            repo.record_event(
                account, "opt_in", debtor_words=body[:2000], detail={"source": "twilio"}
            )
            repo.clear_flag(account, "opted_out", source="twilio")
