"""The inbound gate: what Parley decides about a message before Rasa sees it, in one
transaction.

For each delivery: claim its MessageSid (a retried delivery gets the first answer back and
nothing is processed twice), find the account behind the sender's number, remember when
the debtor last wrote (WhatsApp's 24-hour window), apply Twilio's own opt-out signal, and
decide whether the message may reach the bot (after an opt-out only START/UNSTOP and HELP
do; anything else is recorded on the account and answered with silence). The channels
call this module and nothing else for it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from bot.nlu.keywords import HELP_KEYWORDS, OPT_IN_KEYWORDS, keyword_of
from bot.privacy import sender_phone
from bot.storage import AccountRepository, InboundMessageRepository, get_database
from bot.storage.models import Account

logger = logging.getLogger(__name__)

# What an account event keeps of the debtor's words.
MAX_RECORDED_CHARS = 2000


@dataclass(frozen=True)
class Admission:
    """The gate's verdict on one inbound message."""

    # False: a repeated delivery of a MessageSid already handled; `reply` is its answer.
    first: bool
    reply: str | None = None
    # False: the sender opted out; the message was recorded and goes no further.
    allowed: bool = True
    account_ref: str | None = None
    timezone: str | None = None

    @property
    def metadata(self) -> dict[str, Any]:
        """What the NLU needs about the sender: relative dates resolve in their time zone."""
        if self.account_ref is None:
            return {}
        return {"timezone": self.timezone, "account_ref": self.account_ref}


def _apply_opt_out_type(repo: AccountRepository, account: Account, kind: str, body: str) -> None:
    """Twilio's Advanced Opt-Out already answered STOP/START; record what it means."""
    words = body[:MAX_RECORDED_CHARS]
    if kind == "STOP":
        repo.record_event(account, "opt_out", debtor_words=words, detail={"source": "twilio"})
        repo.set_flag(account, "opted_out", source="twilio", debtor_words=words)
    elif kind == "START":
        repo.record_event(account, "opt_in", debtor_words=words, detail={"source": "twilio"})
        repo.clear_flag(account, "opted_out", source="twilio")


def admit(
    sender: str | None,
    text: str | None,
    *,
    message_sid: str | None = None,
    channel: str = "rest",
    opt_out_type: str | None = None,
) -> Admission:
    """Claim, look up and gate one message in a single transaction.

    `message_sid` is Twilio's id (the REST channel has none, so nothing is claimed and the
    last-contact time is not touched: a simulator is not the debtor writing). Raises
    DatabaseUnavailableError when the database cannot be reached.
    """
    body = text or ""
    with get_database().session() as session:
        if message_sid:
            claim = InboundMessageRepository(session).claim(
                message_sid, channel=channel, sender=sender or ""
            )
            if not claim.first:
                return Admission(first=False, reply=claim.reply)
        phone = sender_phone(sender)
        repo = AccountRepository(session)
        account = repo.find_by_phone(phone, load_related=False) if phone else None
        if account is None:
            return Admission(first=True)
        if message_sid:
            repo.touch_inbound(account)
        if opt_out_type:
            _apply_opt_out_type(repo, account, opt_out_type, body)
        allowed = True
        keyword = keyword_of(body)
        if (
            not opt_out_type
            and keyword not in OPT_IN_KEYWORDS | HELP_KEYWORDS
            and "opted_out" in repo.active_flags(account)
        ):
            repo.record_event(
                account, "inbound_while_opted_out", debtor_words=body[:MAX_RECORDED_CHARS]
            )
            allowed = False
        return Admission(
            first=True,
            allowed=allowed,
            account_ref=account.account_ref,
            timezone=account.timezone,
        )


def complete(message_sid: str, reply: str) -> None:
    """Store the answer, so a repeated delivery gets the same one."""
    with get_database().session() as session:
        InboundMessageRepository(session).complete(message_sid, reply)


def fail(message_sid: str) -> None:
    """Processing crashed: Twilio's retry of this MessageSid will be processed again."""
    with get_database().session() as session:
        InboundMessageRepository(session).fail(message_sid)
