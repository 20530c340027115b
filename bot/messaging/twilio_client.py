"""A small async client for Twilio's Messages API: retries, backoff, idempotency keys.

Twilio's own library blocks (or, in its async mode, hides the request headers we need);
this sends the same documented request with aiohttp, so the event loop never waits on
the network and every message carries `I-Twilio-Idempotency-Token`.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp

logger = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://api.twilio.com"


class TwilioConfigurationError(RuntimeError):
    """Twilio credentials or sender numbers are missing."""


class TwilioApiError(RuntimeError):
    """Twilio refused the request (4xx), or kept failing after every retry (5xx/network)."""

    def __init__(
        self, message: str, *, status: int | None, code: int | None, retryable: bool
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.retryable = retryable


class TwilioOutcomeUnknownError(TwilioApiError):
    """The request went out but no answer came back (a timeout, a dropped connection):
    Twilio may or may not have created the message, so it is never retried blindly."""

    def __init__(self, message: str) -> None:
        super().__init__(message, status=None, code=None, retryable=False)


@dataclass(frozen=True)
class ListedMessage:
    """One message from Twilio's Messages list (what reconciliation compares)."""

    sid: str
    to: str
    from_: str
    date_created: datetime | None
    status: str


@dataclass(frozen=True)
class SentMessage:
    sid: str
    status: str


class TwilioClient:
    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        api_base: str | None = None,
        max_attempts: int = 4,
        backoff_seconds: float = 0.5,
        timeout_seconds: float = 15.0,
    ) -> None:
        if not account_sid or not auth_token:
            raise TwilioConfigurationError(
                "TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN must be set to send messages"
            )
        self.account_sid = account_sid
        self._auth = aiohttp.BasicAuth(account_sid, auth_token)
        self.api_base = (api_base or DEFAULT_API_BASE).rstrip("/")
        self.max_attempts = max(1, max_attempts)
        self.backoff_seconds = backoff_seconds
        self.timeout = aiohttp.ClientTimeout(total=timeout_seconds)

    @property
    def messages_url(self) -> str:
        return f"{self.api_base}/2010-04-01/Accounts/{self.account_sid}/Messages.json"

    async def send(
        self,
        *,
        to: str,
        from_: str,
        idempotency_key: str,
        body: str | None = None,
        content_sid: str | None = None,
        content_variables: dict[str, str] | None = None,
        status_callback: str | None = None,
    ) -> SentMessage:
        """Create one message.

        Retried with backoff, with the same idempotency key, when Twilio answers 5xx or
        429 or cannot be reached at all (nothing was created). A request that went out and
        got no answer raises :class:`TwilioOutcomeUnknownError` at once: retrying it could
        text the debtor twice, so the caller checks Twilio first (:meth:`find_sent`).
        """
        data: dict[str, str] = {"To": to, "From": from_}
        if content_sid:
            data["ContentSid"] = content_sid
            if content_variables:
                data["ContentVariables"] = json.dumps(content_variables)
        elif body is not None:
            data["Body"] = body
        else:
            raise ValueError("a message needs a body or a content_sid")
        if status_callback:
            data["StatusCallback"] = status_callback
        headers = {"I-Twilio-Idempotency-Token": idempotency_key[:64]}
        last_error: TwilioApiError | None = None
        async with aiohttp.ClientSession(timeout=self.timeout, auth=self._auth) as session:
            for attempt in range(1, self.max_attempts + 1):
                try:
                    async with session.post(self.messages_url, data=data, headers=headers) as resp:
                        payload = await _json(resp)
                        if resp.status < 300:
                            return SentMessage(
                                str(payload.get("sid")), str(payload.get("status", "queued"))
                            )
                        error = TwilioApiError(
                            f"Twilio answered {resp.status}: {payload.get('message', 'no message')}",
                            status=resp.status,
                            code=_int(payload.get("code")),
                            retryable=resp.status >= 500 or resp.status == 429,
                        )
                except aiohttp.ClientConnectorError as exc:
                    # The connection was never made: Twilio cannot have the message.
                    error = TwilioApiError(
                        f"network error talking to Twilio: {type(exc).__name__}",
                        status=None,
                        code=None,
                        retryable=True,
                    )
                except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                    raise TwilioOutcomeUnknownError(
                        f"no answer from Twilio ({type(exc).__name__}); the message may have "
                        "been created"
                    ) from exc
                if not error.retryable:
                    raise error
                last_error = error
                if attempt < self.max_attempts:
                    delay = self.backoff_seconds * (2 ** (attempt - 1))
                    logger.warning(
                        "%s; retry %d/%d in %.1f s", error, attempt, self.max_attempts - 1, delay
                    )
                    await asyncio.sleep(delay)
        assert last_error is not None
        raise last_error

    async def find_sent(
        self,
        *,
        to: str,
        from_: str,
        since: datetime,
        exclude: set[str] | frozenset[str] = frozenset(),
    ) -> ListedMessage | None:
        """A message Twilio created to `to` from `from_` at or after `since` whose sid is
        not in `exclude` (the sids already known), or None. Raises TwilioApiError when the
        list cannot be read, so "not found" always means Twilio said so."""
        params = {"To": to, "From": from_, "DateSent>": since.date().isoformat(), "PageSize": "50"}
        try:
            async with (
                aiohttp.ClientSession(timeout=self.timeout, auth=self._auth) as session,
                session.get(self.messages_url, params=params) as resp,
            ):
                payload = await _json(resp)
                if resp.status >= 300:
                    raise TwilioApiError(
                        f"Twilio answered {resp.status} to the message list: "
                        f"{payload.get('message', 'no message')}",
                        status=resp.status,
                        code=_int(payload.get("code")),
                        retryable=True,
                    )
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise TwilioApiError(
                f"network error reading Twilio's message list: {type(exc).__name__}",
                status=None,
                code=None,
                retryable=True,
            ) from exc
        for item in payload.get("messages") or []:
            listed = ListedMessage(
                sid=str(item.get("sid")),
                to=str(item.get("to")),
                from_=str(item.get("from")),
                date_created=_twilio_date(item.get("date_created")),
                status=str(item.get("status")),
            )
            if listed.sid in exclude or listed.to != to or listed.from_ != from_:
                continue
            if listed.date_created is not None and listed.date_created < since:
                continue
            return listed
        return None


def _twilio_date(value: Any) -> datetime | None:
    """Twilio's dates are RFC 2822 ("Tue, 01 Dec 2026 12:00:00 +0000")."""
    if not value:
        return None
    try:
        return parsedate_to_datetime(str(value)).astimezone(timezone.utc)
    except (TypeError, ValueError):
        return None


async def _json(resp: aiohttp.ClientResponse) -> dict[str, Any]:
    try:
        payload = await resp.json(content_type=None)
    except (ValueError, aiohttp.ContentTypeError):
        return {}
    return payload if isinstance(payload, dict) else {}


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
