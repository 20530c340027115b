"""A fake of Twilio's Messages API on loopback: records requests, answers as told.

Only Twilio's cloud is faked; everything on our side (client, retries, outbox, database)
is the real code talking HTTP to this server.

Besides answering with a scripted status, it can misbehave the ways the real API does
under trouble: `hang_next()` (no answer until the client gives up; nothing created) and
`accept_then_drop_next()` (the message is created, then the connection drops before the
answer). `GET .../Messages.json` lists what it created, as Twilio's list does, so a
sender can check whether an unanswered request went through.
"""

from __future__ import annotations

import base64
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit


@dataclass
class RecordedRequest:
    path: str
    form: dict[str, str]
    headers: dict[str, str]
    account_sid: str | None
    received_at: float = 0.0  # time.monotonic() when it arrived


@dataclass
class CreatedMessage:
    """A message the fake accepted (what a real account would be billed for)."""

    sid: str
    to: str
    from_: str
    body: str | None
    idempotency_key: str | None
    date_created: datetime


# A scripted answer: (HTTP status, JSON payload), or ("hang", seconds) / ("drop", None).
Answer = tuple[Any, Any]


@dataclass
class FakeTwilioApi:
    """Start with `with FakeTwilioApi() as api:`; `api.base_url` goes in TWILIO_API_BASE."""

    requests: list[RecordedRequest] = field(default_factory=list)
    created: list[CreatedMessage] = field(default_factory=list)
    lookups: list[dict[str, str]] = field(default_factory=list)
    # Scripted answers, used in order; when empty every message is accepted.
    script: list[Answer] = field(default_factory=list)
    # How many list requests (GET) answer 503 before the list works.
    list_failures: int = 0
    _server: ThreadingHTTPServer | None = None
    _counter: itertools.count = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_next(
        self, status: int, code: int | None = None, message: str = "scripted failure"
    ) -> None:
        self.script.append((status, {"code": code, "message": message, "status": status}))

    def hang_next(self, seconds: float = 5.0) -> None:
        """The next create gets no answer for `seconds`, then the connection closes;
        nothing is created (a request lost on the way in)."""
        self.script.append(("hang", seconds))

    def accept_then_drop_next(self) -> None:
        """The next create succeeds, then the connection drops before the answer."""
        self.script.append(("drop", None))

    @property
    def base_url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def messages(self) -> list[RecordedRequest]:
        """Every create request that reached the fake (including failed ones)."""
        return [r for r in self.requests if r.path.endswith("/Messages.json")]

    def created_to(self, to: str) -> list[CreatedMessage]:
        with self._lock:
            return [m for m in self.created if m.to == to]

    def _create(self, form: dict[str, str], headers: dict[str, str]) -> dict[str, Any]:
        sid = f"SMfake{next(self._counter):06d}"
        self.created.append(
            CreatedMessage(
                sid,
                form.get("To", ""),
                form.get("From", ""),
                form.get("Body"),
                headers.get("I-Twilio-Idempotency-Token"),
                datetime.now(timezone.utc),
            )
        )
        return {"sid": sid, "status": "queued"}

    def _list(self, query: dict[str, str]) -> dict[str, Any]:
        to, from_ = query.get("To"), query.get("From")
        found = [
            m
            for m in reversed(self.created)
            if (to is None or m.to == to) and (from_ is None or m.from_ == from_)
        ]
        return {
            "messages": [
                {
                    "sid": m.sid,
                    "to": m.to,
                    "from": m.from_,
                    "body": m.body,
                    "status": "sent",
                    "date_created": format_datetime(m.date_created),
                }
                for m in found
            ]
        }

    def __enter__(self) -> FakeTwilioApi:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                parts = urlsplit(self.path)
                query = dict(parse_qsl(parts.query, keep_blank_values=True))
                with api._lock:
                    api.lookups.append(query)
                    if api.list_failures > 0:
                        api.list_failures -= 1
                        status, payload = 503, {"code": None, "message": "scripted outage"}
                    else:
                        status, payload = 200, api._list(query)
                self._answer(status, payload)

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode()
                auth = self.headers.get("Authorization", "")
                sid = None
                if auth.startswith("Basic "):
                    sid = base64.b64decode(auth[6:]).decode().split(":", 1)[0]
                form = dict(parse_qsl(body, keep_blank_values=True))
                headers = dict(self.headers)
                with api._lock:
                    api.requests.append(
                        RecordedRequest(self.path, form, headers, sid, time.monotonic())
                    )
                    status, payload = api.script.pop(0) if api.script else (201, None)
                    if status == "drop":
                        api._create(form, headers)
                    elif status != "hang" and payload is None:
                        payload = api._create(form, headers)
                if status == "hang":
                    time.sleep(float(payload))
                if status in ("hang", "drop"):
                    self.close_connection = True
                    return
                self._answer(int(status), payload)

            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()
