"""Twilio SMS and WhatsApp on one signed webhook, answered with TwiML.

Unlike Rasa's built-in connector this channel validates `X-Twilio-Signature`, processes
each MessageSid once, answers media-only messages, never blocks on sending (the reply
travels back in the HTTP response) and records delivery-status callbacks.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from bot import inbound as inbound_gate
from bot.channels.context import clean_inbound_text
from bot.channels.egress import guard_replies
from bot.privacy import mask_phone, sender_phone
from bot.settings import get_settings

logger = logging.getLogger(__name__)

# Twilio's limit for one message body; longer replies are split at word boundaries.
MAX_MESSAGE_CHARS = 1600
MEDIA_ONLY_REPLY = (
    "Thanks for your message. I can only read text here, not pictures or files. "
    "Please type your message, and never send photos of cards or ID."
)
TRY_AGAIN_REPLY = "Sorry, something went wrong on our side. Please try again in a few minutes."


class TwilioSignatureError(PermissionError):
    """The request does not carry a valid X-Twilio-Signature."""


@dataclass(frozen=True)
class InboundSms:
    """The fields of a Twilio messaging webhook that Parley uses."""

    message_sid: str
    sender: str
    to: str
    body: str
    num_media: int
    profile_name: str | None
    opt_out_type: str | None

    @property
    def channel(self) -> str:
        return "whatsapp" if self.sender.lower().startswith("whatsapp:") else "sms"

    @classmethod
    def from_form(cls, form: dict[str, str]) -> InboundSms:
        try:
            num_media = int(form.get("NumMedia") or 0)
        except ValueError:
            num_media = 0
        return cls(
            message_sid=(form.get("MessageSid") or form.get("SmsMessageSid") or "").strip(),
            sender=(form.get("From") or "").strip(),
            to=(form.get("To") or "").strip(),
            body=form.get("Body") or "",
            num_media=num_media,
            profile_name=form.get("ProfileName") or None,
            opt_out_type=(form.get("OptOutType") or "").strip().upper() or None,
        )


def parse_form(raw_body: bytes) -> dict[str, str]:
    """Form fields from the raw body, keeping blank values (Twilio signs them too)."""
    return dict(parse_qsl(raw_body.decode("utf-8", "replace"), keep_blank_values=True))


def signed_url(request: Request) -> str:
    """The URL Twilio signed: PUBLIC_BASE_URL + path + query (proxies change the host)."""
    base = get_settings().public_base_url or f"{request.scheme}://{request.host}"
    url = base + request.path
    if request.query_string:
        url += "?" + request.query_string
    return url


def verify_signature(request: Request, form: dict[str, str]) -> None:
    token = get_settings().twilio_auth_token
    if not token:
        raise TwilioSignatureError("TWILIO_AUTH_TOKEN is not set, so no webhook can be trusted")
    signature = request.headers.get("X-Twilio-Signature")
    if not signature:
        raise TwilioSignatureError("missing X-Twilio-Signature")
    if not RequestValidator(token).validate(signed_url(request), form, signature):
        raise TwilioSignatureError("X-Twilio-Signature does not match the request")


def split_message(text: str, limit: int = MAX_MESSAGE_CHARS) -> list[str]:
    """Pieces of at most `limit` characters, cut at a line break or space when possible."""
    pieces: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        cut = max(rest.rfind("\n", 0, limit), rest.rfind(" ", 0, limit))
        if cut <= limit // 2:
            cut = limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


def twiml(messages: list[str]) -> str:
    """A TwiML reply; the library XML-escapes the text."""
    reply = MessagingResponse()
    for text in messages:
        for piece in split_message(text):
            reply.message(piece)
    return str(reply.to_xml())


def _xml(body: str, status: int = 200) -> HTTPResponse:
    return response.text(body, status=status, content_type="text/xml; charset=utf-8")


class TwilioInput(InputChannel):
    """`POST /webhooks/twilio/webhook` (messages) and `/webhooks/twilio/status` (callbacks)."""

    @classmethod
    def name(cls) -> str:
        return "twilio"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        # Secrets come from the environment (see bot.settings), never from credentials.yml.
        return cls()

    def blueprint(self, on_new_message: Any) -> Blueprint:
        blueprint = Blueprint("parley_twilio", __name__)

        @blueprint.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @blueprint.route("/webhook", methods=["POST"])
        async def message(request: Request) -> HTTPResponse:
            return await self.handle_message(request, on_new_message)

        @blueprint.route("/status", methods=["POST"])
        async def status(request: Request) -> HTTPResponse:
            return await self.handle_status(request)

        return blueprint

    async def handle_message(self, request: Request, on_new_message: Any) -> HTTPResponse:
        from bot.storage import DatabaseUnavailableError

        form = parse_form(request.body or b"")
        try:
            verify_signature(request, form)
        except TwilioSignatureError as exc:
            logger.warning("rejected a Twilio webhook from %s: %s", request.ip, exc)
            return response.text("forbidden", status=403)
        inbound = InboundSms.from_form(form)
        if not inbound.message_sid or not inbound.sender:
            return response.text("MessageSid and From are required", status=400)
        try:
            return await self._process(inbound, on_new_message)
        except DatabaseUnavailableError as exc:
            # Nothing was recorded; Twilio sends the message to the fallback URL, if set.
            logger.error(
                "database unavailable; message %s not processed: %s", inbound.message_sid, exc
            )
            return response.text("service unavailable", status=503)

    async def _process(self, inbound: InboundSms, on_new_message: Any) -> HTTPResponse:
        text, flags = clean_inbound_text(inbound.body)
        # One transaction: claim the MessageSid, find the account, note the contact,
        # apply Twilio's opt-out signal and decide whether the bot may see the message.
        # Database work runs in a thread: the event loop meanwhile serves the other
        # conversations' NLU and policies.
        admission = await asyncio.to_thread(
            inbound_gate.admit,
            inbound.sender,
            text,
            message_sid=inbound.message_sid,
            channel=inbound.channel,
            opt_out_type=inbound.opt_out_type,
        )
        if not admission.first:
            logger.info("duplicate delivery of %s", inbound.message_sid)
            # Same reply as the first delivery; nothing is processed twice.
            return _xml(admission.reply if admission.reply is not None else twiml([]))
        if inbound.opt_out_type:
            # Twilio's Advanced Opt-Out already replied to STOP/START/HELP itself.
            return await self._done(inbound, [])
        if not text.strip():
            replies = [MEDIA_ONLY_REPLY] if inbound.num_media else []
            return await self._done(inbound, replies)
        if not admission.allowed:
            return await self._done(inbound, [])
        metadata = {
            "channel": inbound.channel,
            "message_sid": inbound.message_sid,
            "profile_name": inbound.profile_name,
            "num_media": inbound.num_media,
            **flags,
            **admission.metadata,
        }
        collector = CollectingOutputChannel()
        try:
            await on_new_message(
                UserMessage(
                    text,
                    collector,
                    inbound.sender,
                    input_channel=self.name(),
                    message_id=inbound.message_sid,
                    metadata=metadata,
                )
            )
        except Exception:  # noqa: BLE001 - the debtor must get an answer, and a retry must work
            logger.exception("processing %s failed", inbound.message_sid)
            await asyncio.to_thread(inbound_gate.fail, inbound.message_sid)
            return _xml(twiml([TRY_AGAIN_REPLY]))
        # The last word on what leaves: no debt detail before verification, nothing but
        # the confirmation after an opt-out, whatever the stories said (bot.channels.egress).
        allowed = await asyncio.to_thread(
            guard_replies, inbound.sender, inbound.message_sid, list(collector.messages)
        )
        replies = [m["text"] for m in allowed if m.get("text")]
        return await self._done(inbound, replies)

    async def _done(self, inbound: InboundSms, replies: list[str]) -> HTTPResponse:
        body = twiml(replies)
        await asyncio.to_thread(inbound_gate.complete, inbound.message_sid, body)
        logger.info(
            "answered %s from %s with %d message(s)",
            inbound.message_sid,
            mask_phone(inbound.sender),
            len(replies),
        )
        return _xml(body)

    async def handle_status(self, request: Request) -> HTTPResponse:
        from bot.storage.delivery import record_status_callback

        form = parse_form(request.body or b"")
        try:
            verify_signature(request, form)
        except TwilioSignatureError as exc:
            logger.warning("rejected a Twilio status callback from %s: %s", request.ip, exc)
            return response.text("forbidden", status=403)
        sid = form.get("MessageSid") or form.get("SmsSid") or ""
        status = (form.get("MessageStatus") or form.get("SmsStatus") or "").lower()
        if not sid or not status:
            return response.text("MessageSid and MessageStatus are required", status=400)
        outbox = request.args.get("outbox", "")
        outbox_id = int(outbox) if outbox.isdigit() else None  # set by the outbox's send
        record_status_callback(sid, status, form.get("ErrorCode") or None, outbox_id)
        return response.text("", status=204)


__all__ = ["TwilioInput", "TwilioSignatureError", "sender_phone", "split_message", "twiml"]
