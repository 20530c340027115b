"""The egress guard's turn reader before and after issue 15's fix, side by side in one
process on one database: conversations of 5, 25, 100 and 300 turns are stored through
Parley's tracker store (a private SQLite file), then the last turn is read alternately
with the old reader (bench/legacy.py: every event of the sender) and the new one
(bot.channels.egress: three indexed queries), checking that both judge it the same.

    python -m bench.egress_ab   # writes reports/bench/egress_ab.json
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

from bench.stats import latency_summary, write_json
from bot.settings import PROJECT_ROOT

LENGTHS = (5, 25, 100, 300)
ROUNDS = 30


def _conversation(sender: str, turns: int) -> Any:
    from rasa.shared.core.events import (
        ActionExecuted,
        BotUttered,
        SessionStarted,
        SlotSet,
        UserUttered,
    )
    from rasa.shared.core.trackers import DialogueStateTracker

    ranking = [{"name": f"intent_{k}", "confidence": 0.05} for k in range(10)]
    events: list[Any] = [SessionStarted(), ActionExecuted("action_listen")]
    for n in range(turns):
        events.append(
            UserUttered(
                f"message {n} about my budget and what i can pay each month",
                intent={"name": "inform", "confidence": 0.9},
                parse_data={"intent_ranking": ranking, "entities": []},
                message_id=f"{sender}-m{n}",
            )
        )
        events += [SlotSet(f"slot_{k}", n) for k in range(6)]
        if n == 1:
            events.append(SlotSet("verified", True))
        events += [
            ActionExecuted("utter_reply"),
            BotUttered(f"reply {n}", metadata={"utter_action": "utter_reply"}),
            ActionExecuted("action_listen"),
        ]
    return DialogueStateTracker.from_events(sender, events)


def _time(call: Callable[[], Any]) -> float:
    begin = time.perf_counter()
    call()
    return time.perf_counter() - begin


def run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="parley-egress-ab-") as tmp:
        os.environ["DATABASE_URL"] = f"sqlite:///{tmp}/ab.db"
        from bench.legacy import turn_utterances_full_scan
        from bot.channels.egress import turn_utterances
        from bot.storage import get_database
        from bot.storage.tracker_store import ParleyTrackerStore

        get_database()
        store = ParleyTrackerStore()
        results: dict[str, Any] = {}
        for turns in LENGTHS:
            sender = f"+1202555{turns:04d}"
            tracker = _conversation(sender, turns)
            asyncio.run(store.save(tracker))
            message_id = f"{sender}-m{turns - 1}"
            new = turn_utterances(sender, message_id)
            old = turn_utterances_full_scan(sender, message_id)
            if new != old:
                raise AssertionError(f"readers disagree at {turns} turns: {new} != {old}")
            old_s, new_s = [], []
            for _ in range(ROUNDS):  # alternate, so both see the same machine
                old_s.append(_time(lambda s=sender, m=message_id: turn_utterances_full_scan(s, m)))
                new_s.append(_time(lambda s=sender, m=message_id: turn_utterances(s, m)))
            results[f"{turns} turns ({len(tracker.events)} events)"] = {
                "before": latency_summary(old_s, digits=2),
                "after": latency_summary(new_s, digits=2),
                "same_judgement": True,
            }
        return results


def main() -> int:
    result = {
        "run_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "load_average": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "rounds": ROUNDS,
        "conversations": run(),
    }
    path = write_json(PROJECT_ROOT / "reports" / "bench" / "egress_ab.json", result)
    for name, data in result["conversations"].items():
        print(
            f"[bench] egress guard, {name}: before p50 {data['before']['p50_ms']} ms, "
            f"after p50 {data['after']['p50_ms']} ms"
        )
    print(f"[bench] written to {path.relative_to(PROJECT_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
