"""What a channel does to a debtor's text before anything reads or stores it."""

from __future__ import annotations

from typing import Any

from bot.nlu.card_redactor import CARD_NUMBER_REDACTED
from bot.privacy import mask_card_numbers

# Longer messages are cut here: nothing a debtor needs to say takes more, and the NLU
# and the tracker store stay fast whatever arrives.
MAX_INBOUND_CHARS = 5000


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
