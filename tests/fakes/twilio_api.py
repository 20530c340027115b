"""A fake of Twilio's Messages API on loopback: records requests, answers as told.

Only Twilio's cloud is faked; everything on our side (client, retries, outbox, database)
is the real code talking HTTP to this server.
"""

from __future__ import annotations

import base64
import itertools
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl


@dataclass
class RecordedRequest:
    path: str
    form: dict[str, str]
    headers: dict[str, str]
    account_sid: str | None


@dataclass
class FakeTwilioApi:
    """Start with `with FakeTwilioApi() as api:`; `api.base_url` goes in TWILIO_API_BASE."""

    requests: list[RecordedRequest] = field(default_factory=list)
    # Scripted answers, used in order; when empty every message is accepted.
    script: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _counter: itertools.count = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_next(
        self, status: int, code: int | None = None, message: str = "scripted failure"
    ) -> None:
        self.script.append((status, {"code": code, "message": message, "status": status}))

    @property
    def base_url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def messages(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.endswith("/Messages.json")]

    def __enter__(self) -> FakeTwilioApi:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode()
                auth = self.headers.get("Authorization", "")
                sid = None
                if auth.startswith("Basic "):
                    sid = base64.b64decode(auth[6:]).decode().split(":", 1)[0]
                with api._lock:
                    api.requests.append(
                        RecordedRequest(
                            self.path,
                            dict(parse_qsl(body, keep_blank_values=True)),
                            dict(self.headers),
                            sid,
                        )
                    )
                    status, payload = api.script.pop(0) if api.script else (201, None)
                    if payload is None:
                        payload = {"sid": f"SMfake{next(api._counter):06d}", "status": "queued"}
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()
