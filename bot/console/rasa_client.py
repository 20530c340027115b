"""The console's client for Rasa: its HTTP API (with the API token) and the REST channel
(with the bearer token), both on loopback."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any


class RasaUnavailableError(RuntimeError):
    """Rasa did not answer as expected; the message says what was asked and what came back."""


class RasaClient:
    def __init__(
        self,
        base_url: str,
        api_token: str | None = None,
        rest_token: str | None = None,
        timeout: float = 120,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_token = api_token
        self.rest_token = rest_token
        self.timeout = timeout

    def _api_url(self, path: str) -> str:
        url = f"{self.base_url}{path}"
        if self.api_token:
            url += ("&" if "?" in url else "?") + urllib.parse.urlencode({"token": self.api_token})
        return url

    def _post(self, url: str, body: Any, headers: dict[str, str] | None = None) -> Any:
        request = urllib.request.Request(
            url,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", **(headers or {})},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                raw = response.read()
        except urllib.error.HTTPError as exc:
            raise RasaUnavailableError(
                f"Rasa answered {exc.code} to POST {url.split('?')[0]}"
            ) from None
        except (urllib.error.URLError, OSError) as exc:
            raise RasaUnavailableError(
                f"cannot reach Rasa at {self.base_url} ({exc}); is `parley serve` running?"
            ) from None
        return json.loads(raw) if raw else None

    def append_events(self, sender_id: str, events: list[dict[str, Any]]) -> None:
        """Append events to the conversation's tracker (the one record)."""
        path = f"/conversations/{urllib.parse.quote(sender_id, safe=':+')}/tracker/events"
        self._post(self._api_url(path + "?include_events=NONE"), events)

    def pause(self, sender_id: str) -> None:
        """The bot stops predicting for this conversation (a person has it)."""
        self.append_events(sender_id, [{"event": "pause"}])

    def resume(self, sender_id: str) -> None:
        self.append_events(sender_id, [{"event": "resume"}])

    def record_operator_reply(self, sender_id: str, text: str, operator: str) -> None:
        """The person's reply, in the transcript as a bot utterance marked with who sent it."""
        self.append_events(
            sender_id, [{"event": "bot", "text": text, "metadata": {"operator": operator}}]
        )

    def chat(
        self, sender_id: str, text: str, metadata: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """One message over the REST channel; the bot's replies."""
        headers = {"Authorization": f"Bearer {self.rest_token}"} if self.rest_token else {}
        body: dict[str, Any] = {"sender": sender_id, "message": text}
        if metadata:
            body["metadata"] = metadata
        result = self._post(f"{self.base_url}/webhooks/rest/webhook", body, headers)
        return list(result or [])
