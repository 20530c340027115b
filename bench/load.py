"""Concurrent conversations against a running bot, over the REST channel or the signed
Twilio webhook.

Each of N clients holds CONVERSATIONS conversations one after the other (a new sender
each time), each of the five MESSAGES, waiting for every answer before the next message,
so N is the number of conversations in flight. Per message the client-side latency is
kept; throughput is messages answered per second of wall time for the whole level.

    python -m bench.load --url http://127.0.0.1:5005 --token TOKEN --concurrency 10

Used by `bench/run_all.py` (`make bench`), which starts the servers itself.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from twilio.request_validator import RequestValidator

from bench.stats import load_summary

# A debtor's first five messages: who is this, the date of birth (the identity check and
# the disclosure), a hardship (listening, the budget form), income and expenses (offers).
MESSAGES = (
    "hi who is this",
    "march 14 1985",
    "i lost my job in may and things have been really hard",
    "about 2000",
    "1700",
)
CONVERSATIONS = 4
REQUEST_TIMEOUT_S = 120
TWILIO_PATH = "/webhooks/twilio/webhook"
REST_PATH = "/webhooks/rest/webhook"


@dataclass
class Target:
    """Where the messages go: one or more servers (round robin per message)."""

    urls: Sequence[str]
    channel: str = "rest"  # or "twilio"
    rest_token: str | None = None
    twilio_token: str | None = None
    # The URL Twilio signs (PUBLIC_BASE_URL), per server; defaults to the server's URL.
    public_urls: Sequence[str] = ()
    _next: Any = field(default=None, repr=False)

    def pick(self) -> tuple[str, str]:
        if self._next is None:
            publics = list(self.public_urls) or list(self.urls)
            self._next = itertools.cycle(list(zip(self.urls, publics, strict=True)))
        url, public = next(self._next)
        return str(url), str(public)


@dataclass
class Outcome:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    silent: int = 0
    error_samples: list[str] = field(default_factory=list)

    def fail(self, what: str) -> None:
        self.errors += 1
        if len(self.error_samples) < 5:
            self.error_samples.append(what)


def twilio_form(sender: str, body: str) -> dict[str, str]:
    sid = "SM" + uuid.uuid4().hex
    return {
        "MessageSid": sid,
        "SmsMessageSid": sid,
        "AccountSid": "ACbench",
        "From": sender,
        "To": "+15005550006",
        "Body": body,
        "NumMedia": "0",
    }


async def send(
    session: aiohttp.ClientSession, target: Target, sender: str, text: str, outcome: Outcome
) -> None:
    url, public = target.pick()
    begin = time.perf_counter()
    try:
        if target.channel == "twilio":
            form = twilio_form(sender, text)
            signature = RequestValidator(target.twilio_token or "").compute_signature(
                public + TWILIO_PATH, form
            )
            async with session.post(
                url + TWILIO_PATH, data=form, headers={"X-Twilio-Signature": signature}
            ) as response:
                body = await response.text()
                ok = response.status == 200
                answered = "<Message>" in body
        else:
            headers = {"Authorization": f"Bearer {target.rest_token}"} if target.rest_token else {}
            async with session.post(
                url + REST_PATH, json={"sender": sender, "message": text}, headers=headers
            ) as response:
                body = await response.text()
                ok = response.status == 200
                answered = ok and bool(json.loads(body))
    except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
        outcome.fail(f"{type(exc).__name__}: {exc}")
        return
    elapsed = time.perf_counter() - begin
    if not ok:
        outcome.fail(f"HTTP {response.status}: {body[:200]}")
        return
    outcome.latencies.append(elapsed)
    if not answered:
        outcome.silent += 1


async def run_level(
    target: Target,
    concurrency: int,
    senders: Callable[[int], str],
    *,
    conversations: int = CONVERSATIONS,
    messages: Sequence[str] = MESSAGES,
) -> dict[str, Any]:
    """One load level: `concurrency` clients, each `conversations` conversations.

    `senders(k)` names the k-th conversation (0 <= k < concurrency * conversations).
    """
    outcome = Outcome()
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
    connector = aiohttp.TCPConnector(limit=0, force_close=False)

    async def client(n: int, session: aiohttp.ClientSession) -> None:
        for c in range(conversations):
            sender = senders(n * conversations + c)
            for text in messages:
                await send(session, target, sender, text, outcome)

    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        begin = time.perf_counter()
        await asyncio.gather(*(client(n, session) for n in range(concurrency)))
        wall = time.perf_counter() - begin
    summary = load_summary(outcome.latencies, wall, outcome.errors)
    summary["concurrency"] = concurrency
    summary["unanswered"] = outcome.silent
    if outcome.error_samples:
        summary["error_samples"] = outcome.error_samples
    return summary


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", action="append", required=True, help="server URL (repeatable)")
    parser.add_argument("--channel", choices=("rest", "twilio"), default="rest")
    parser.add_argument("--token", help="REST bearer token (PARLEY_REST_TOKEN)")
    parser.add_argument("--twilio-token", help="TWILIO_AUTH_TOKEN, to sign webhooks")
    parser.add_argument("--concurrency", type=int, action="append", default=None)
    parser.add_argument("--sender-prefix", default="+1202555", help="senders: PREFIX + 4 digits")
    parser.add_argument("--first-sender", type=int, default=0)
    args = parser.parse_args(argv)
    target = Target(args.url, args.channel, args.token, args.twilio_token)
    offset = args.first_sender
    for level in args.concurrency or [1, 10, 50]:
        start = offset

        def senders(k: int, start: int = start) -> str:
            return f"{args.sender_prefix}{start + k:04d}"

        result = asyncio.run(run_level(target, level, senders))
        offset += level * CONVERSATIONS
        print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
