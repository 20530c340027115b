"""Rasa's REST channel, with card numbers masked before the message reaches Rasa."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint
from sanic.request import Request

from bot.channels.context import account_metadata, clean_inbound_text, inbound_allowed


class RedactingRestInput(RestInput):
    """`POST /webhooks/rest/webhook`: local testing and the console simulator."""

    @classmethod
    def name(cls) -> str:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        async def gated(message: UserMessage) -> Any:
            # An opted-out sender gets nothing back (the opt-out was confirmed once).
            if not inbound_allowed(message.sender_id, message.text):
                return None
            return await on_new_message(message)

        return super().blueprint(gated)

    def _extract_message(self, req: Request) -> str | None:
        raw = req.json.get("message")
        if raw is None:
            return None
        text, _ = clean_inbound_text(str(raw))
        return text

    def get_metadata(self, request: Request) -> dict[str, Any] | None:
        supplied = request.json.get("metadata")
        metadata: dict[str, Any] = dict(supplied) if isinstance(supplied, dict) else {}
        _, flags = clean_inbound_text(str(request.json.get("message") or ""))
        metadata.update(flags)
        metadata.update(account_metadata(request.json.get("sender")))
        return metadata
