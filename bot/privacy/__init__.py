"""Personal data, handled in one place: card numbers masked before anything stores or
reads them, phone numbers masked in logs, and the number behind a sender id.

Channels, storage, messaging, actions and the NLU all use this package; it imports
nothing of Parley's, so any layer may.
"""

from bot.privacy.cards import CARD_PLACEHOLDER, luhn_valid, mask_card_numbers
from bot.privacy.phones import mask_phone, sender_phone

__all__ = ["CARD_PLACEHOLDER", "luhn_valid", "mask_card_numbers", "mask_phone", "sender_phone"]
