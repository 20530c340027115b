"""What a channel knows about the sender before Rasa sees the message."""

from __future__ import annotations

import logging
from typing import Any

from bot.nlu.card_redactor import CARD_NUMBER_REDACTED
from bot.nlu.redaction import mask_card_numbers

logger = logging.getLogger(__name__)

# Longer messages are cut here: nothing a debtor needs to say takes more, and the NLU
# and the tracker store stay fast whatever arrives.
MAX_INBOUND_CHARS = 5000


def sender_phone(sender_id: str | None) -> str | None:
    """The E.164 number in a sender id ("whatsapp:+1202..." or "+1202..."), if any."""
    if not sender_id:
        return None
    value = sender_id.strip()
    if value.lower().startswith("whatsapp:"):
        value = value[len("whatsapp:") :]
    return value if value.startswith("+") and value[1:].isdigit() else None


def clean_inbound_text(text: str | None) -> tuple[str, dict[str, Any]]:
    """Truncate, strip NULs and mask card numbers; returns the text and metadata flags."""
    flags: dict[str, Any] = {}
    value = (text or "").replace("\x00", "")
    if len(value) > MAX_INBOUND_CHARS:
        value = value[:MAX_INBOUND_CHARS]
        flags["truncated"] = True
    value, masked = mask_card_numbers(value)
    if masked:
        flags[CARD_NUMBER_REDACTED] = True
    return value, flags


def account_metadata(sender_id: str | None) -> dict[str, Any]:
    """The debtor's time zone and account reference, when the number is on file.

    NLU resolves relative dates ("next friday") in this zone. A database problem must
    not lose the message, so it degrades to no metadata (UTC) and logs the reason.
    """
    phone = sender_phone(sender_id)
    if phone is None:
        return {}
    try:
        from bot.storage import AccountRepository, get_database

        with get_database().session() as session:
            account = AccountRepository(session).find_by_phone(phone)
            if account is None:
                return {}
            return {"timezone": account.timezone, "account_ref": account.account_ref}
    except Exception as exc:  # noqa: BLE001 - degrade, never drop the message
        logger.warning("could not look up the sender's account: %s", type(exc).__name__)
        return {}


def inbound_allowed(sender_id: str | None, text: str | None) -> bool:
    """False when the sender opted out and this is not START/UNSTOP/HELP.

    After an opt-out nothing more is sent except the single confirmation, so such
    messages are recorded on the account and not passed to the bot at all.
    """
    from bot.nlu.keywords import HELP_KEYWORDS, OPT_IN_KEYWORDS, keyword_of

    phone = sender_phone(sender_id)
    if phone is None:
        return True
    keyword = keyword_of(text)
    if keyword in OPT_IN_KEYWORDS or keyword in HELP_KEYWORDS:
        return True
    try:
        from bot.storage import AccountRepository, get_database

        with get_database().session() as session:
            repo = AccountRepository(session)
            account = repo.find_by_phone(phone)
            if account is None or "opted_out" not in repo.active_flags(account):
                return True
            repo.record_event(account, "inbound_while_opted_out", debtor_words=(text or "")[:2000])
            return False
    except Exception as exc:  # noqa: BLE001 - a lookup failure must not drop the message
        logger.warning("could not check the sender's opt-out: %s", type(exc).__name__)
        return True
