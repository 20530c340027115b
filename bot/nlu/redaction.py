"""Card-number masking lives in bot.privacy (channels, storage and the NLU share it)."""

from bot.privacy.cards import CARD_PLACEHOLDER, luhn_valid, mask_card_numbers

__all__ = ["CARD_PLACEHOLDER", "luhn_valid", "mask_card_numbers"]
