"""Input channels: Twilio (SMS + WhatsApp) and a REST channel, both masking card numbers."""
