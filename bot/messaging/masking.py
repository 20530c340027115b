"""Personal data is masked in logs."""

from __future__ import annotations


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
