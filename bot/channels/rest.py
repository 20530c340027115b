"""Rasa's REST channel, behind a bearer token, with card numbers masked before the
message reaches Rasa."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import rasa.utils.endpoints
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import inbound as inbound_gate
from bot.channels.context import clean_inbound_text
from bot.channels.egress import guard_replies
from bot.security import bearer_token, token_matches
from bot.settings import get_settings
from bot.storage import DatabaseUnavailableError

logger = logging.getLogger(__name__)


def rest_refusal(authorization: str | None) -> str | None:
    """Why a REST request is refused, or None when it may pass.

    The REST channel trusts its `sender` field, so whoever can post to it can write as
    any debtor's number: it needs `Authorization: Bearer $PARLEY_REST_TOKEN`. Only a
    development server without a token configured (loopback only) leaves it open;
    production without a token refuses everyone.
    """
    settings = get_settings()
    expected = settings.rest_token
    if not expected:
        if settings.is_production:
            return "the REST channel is closed: PARLEY_REST_TOKEN is not set"
        return None
    if token_matches(expected, bearer_token(authorization)):
        return None
    return "the REST channel needs Authorization: Bearer <PARLEY_REST_TOKEN>"


class RedactingRestInput(RestInput):
    """`POST /webhooks/rest/webhook`: local testing and the console simulator."""

    @classmethod
    def name(cls) -> str:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        async def gated(message: UserMessage) -> Any:
            try:
                # Database work runs in a thread: the event loop meanwhile serves the
                # other conversations' NLU and policies.
                admission = await asyncio.to_thread(
                    inbound_gate.admit, message.sender_id, message.text
                )
            except DatabaseUnavailableError as exc:
                # No claim to make here, so a database problem must not lose the message:
                # it goes on without the account's time zone (relative dates in UTC).
                logger.warning("inbound gate unavailable, going on without it: %s", exc)
                admission = inbound_gate.Admission(first=True)
            # An opted-out sender gets nothing back (the opt-out was confirmed once).
            if not admission.allowed:
                return None
            message.metadata = {**(message.metadata or {}), **admission.metadata}
            result = await on_new_message(message)
            # The last word on what leaves (bot.channels.egress): the collector's messages
            # are what the REST channel answers with, so they are filtered in place.
            collector = message.output_channel
            if isinstance(collector, CollectingOutputChannel):
                collector.messages[:] = await asyncio.to_thread(
                    guard_replies, message.sender_id, message.message_id, list(collector.messages)
                )
            return result

        blueprint = super().blueprint(gated)

        async def require_bearer(request: Request) -> HTTPResponse | None:
            # GET / is the channel's health check and says nothing about anyone.
            if request.method == "GET" and not request.path.rstrip("/").endswith("/webhook"):
                return None
            refusal = rest_refusal(request.headers.get("Authorization"))
            if refusal is not None:
                logger.warning("refused a REST channel request from %s: %s", request.ip, refusal)
                return response.json({"error": refusal}, status=401)
            if rasa.utils.endpoints.bool_arg(request, "stream", default=False):
                # Streamed replies leave before the turn is complete, so the egress guard
                # could not see them: refused.
                return response.json({"error": "stream=true is not supported"}, status=400)
            return None

        blueprint.middleware(require_bearer, "request")
        return blueprint

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
        return metadata
