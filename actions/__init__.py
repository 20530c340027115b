"""Rasa SDK custom actions: thin translators between the tracker and bot.negotiation/bot.storage."""
