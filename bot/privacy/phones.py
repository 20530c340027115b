"""Phone numbers: the sender id's number, and masking for logs."""

from __future__ import annotations


def sender_phone(sender_id: str | None) -> str | None:
    """The E.164 number in a sender id ("whatsapp:+1202..." or "+1202..."), if any."""
    if not sender_id:
        return None
    value = sender_id.strip()
    if value.lower().startswith("whatsapp:"):
        value = value[len("whatsapp:") :]
    return value if value.startswith("+") and value[1:].isdigit() else None


def mask_phone(value: str | None) -> str:
    """ "whatsapp:+12025550143" → "whatsapp:+1*******143"."""
    if not value:
        return "-"
    prefix = ""
    number = value
    if value.lower().startswith("whatsapp:"):
        prefix, number = value[:9], value[9:]
    if len(number) <= 5:
        return prefix + "*" * len(number)
    return f"{prefix}{number[:2]}{'*' * (len(number) - 5)}{number[-3:]}"
