"""Same conversations, two code trees: are the stored turns the same?

A speed-up must not change what the bot does. This plays the same messages against
`parley serve` from each tree (a clean checkout of main and a branch, say), one
conversation at a time over REST, and compares what each stored in its tracker store, event
by event: the intents and emotions read, the actions run, every slot set and its value,
the response each bot message came from (its wording may be any of the response's
variations), and what the REST channel answered (the egress guard's verdict: which
messages left, blocked or not). Timestamps and message ids are left out.

The messages are every turn of the debtor scripts (tests/e2e/scripts, each `say` and
`else` sent whatever the bot said) plus the benchmark conversation.

    python -m bench.tracker_ab --tree /tmp/base --tree . [--limit 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiohttp
import yaml

from bench.cpu_per_message import ACCOUNTS, inside
from bench.load import MESSAGES, REST_PATH
from bench.servers import bench_phone, log, newest_model, start_parley
from bot.settings import PROJECT_ROOT

SCRIPTS = PROJECT_ROOT / "tests" / "e2e" / "scripts"
EXTRA = (
    ["hi", "my card number is 4111 1111 1111 1111", "YOU PEOPLE ARE A JOKE", "STOP IT NOW"],
    ["who is this", "wrong number", "i said wrong number"],
    ["hi", "march 14 1985", "WHY DO YOU KEEP TEXTING ME", "THIS IS HARASSMENT", "ok fine"],
)


def conversations() -> list[list[str]]:
    found: list[list[str]] = [list(MESSAGES), *map(list, EXTRA)]
    for path in sorted(SCRIPTS.glob("*.yml")):
        for script in (yaml.safe_load(path.read_text()) or {}).get("scripts") or []:
            turns = []
            for turn in script.get("turns") or []:
                if isinstance(turn, str):
                    turns.append(turn)
                else:
                    turns += [str(turn[k]) for k in ("say", "else") if turn.get(k)]
            if turns:
                found.append(turns)
    return found


async def talk(url: str, token: str, plan: list[list[str]]) -> dict[str, list[Any]]:
    answers: dict[str, list[Any]] = {}
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as session:
        for n, texts in enumerate(plan):
            sender = bench_phone(n)
            said = answers.setdefault(sender, [])
            for text in texts:
                async with session.post(
                    url + REST_PATH, json={"sender": sender, "message": text}, headers=headers
                ) as response:
                    body = await response.json()
                said.append([m.get("text") is not None for m in body])
    return answers


def stored_turns(db: Path) -> dict[str, list[Any]]:
    turns: dict[str, list[Any]] = {}
    with sqlite3.connect(db) as connection:
        rows = connection.execute("SELECT sender_id, type_name, data FROM events ORDER BY id")
        for sender, type_name, raw in rows:
            data = json.loads(raw)
            if type_name == "user":
                parse = data.get("parse_data") or {}
                item: Any = (
                    "user",
                    data.get("text"),
                    (parse.get("intent") or {}).get("name"),
                    (parse.get("emotion") or {}).get("name"),
                )
            elif type_name == "bot":
                item = ("bot", (data.get("metadata") or {}).get("utter_action"))
            elif type_name == "slot":
                item = ("slot", data.get("name"), json.dumps(data.get("value"), sort_keys=True))
            elif type_name == "action":
                item = ("action", data.get("name"), data.get("policy"))
            else:
                item = (type_name, data.get("name"))
            turns.setdefault(sender, []).append(item)
    return turns


def play(tree: Path, workdir: Path, model: Path, plan: list[list[str]]) -> dict[str, Any]:
    from tests.fakes.twilio_api import FakeTwilioApi

    db = workdir / tree.name / "parley.db"
    with FakeTwilioApi() as twilio, inside(tree) as env:
        log(f"{tree.name}: {len(plan)} conversations")
        bot = start_parley(
            workdir / tree.name,
            f"sqlite:///{db}",
            twilio.base_url,
            model=model,
            accounts=ACCOUNTS,
            extra_env=env,
        )
        try:
            answers = asyncio.run(talk(bot.rasa_urls[0], bot.rest_token, plan))
        finally:
            bot.stop()
    return {"answers": answers, "stored": stored_turns(db)}


def differences(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    found = []
    for what in ("answers", "stored"):
        for sender in sorted(set(a[what]) | set(b[what])):
            left, right = a[what].get(sender, []), b[what].get(sender, [])
            if left != right:
                at = next(
                    (i for i, (x, y) in enumerate(zip(left, right, strict=False)) if x != y),
                    min(len(left), len(right)),
                )
                found.append(
                    f"{what} {sender} at {at}: {left[at : at + 3]} != {right[at : at + 3]}"
                )
    return found


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", type=Path, action="append", required=True)
    parser.add_argument("--model", type=Path)
    parser.add_argument("--limit", type=int, help="at most this many conversations")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/parley-tracker-ab"))
    args = parser.parse_args(argv)
    if len(args.tree) != 2:
        parser.error("give two trees")
    plan = conversations()[: args.limit]
    model = (args.model or newest_model()).resolve()
    first, second = (play(t.resolve(), args.workdir, model, plan) for t in args.tree)
    found = differences(first, second)
    events = sum(len(v) for v in first["stored"].values())
    print(
        f"{len(plan)} conversations, {sum(map(len, plan))} messages, {events} stored events: "
        f"{len(found)} conversation(s) differ"
    )
    for line in found:
        print("  " + line)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
