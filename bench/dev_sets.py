"""The trained model on the development sets: what the whole pipeline misses there.

bench.intent_loop and bench.safety_sweep fit the linear intent model alone, in seconds;
this parses every development set (bench.emotion_loop.DEV_SETS, plus any `--dev` file)
with a trained model, so DIET's share of the blend, the second look (CrisisCues) and the
fallback threshold are all in. It prints, per set, recall on the four safety intents, the
other messages read as one of them, fallbacks, and with `--misses` every safety miss with
its top three intents. The frozen sets are never scored here (only bench.frozen_sets
scores them, and nobody reads their misses).

The development sets hold few everyday replies, and a change that raised safety recall
there once turned "been better. ok lets talk" into a crisis check. So it also parses every
turn of the debtor scripts (tests/e2e/scripts) whose behaviour is not a safe path, and
counts the everyday turns read as a safety intent or unclear with one among the top three
(the dialogue then asks the debtor about it: actions.safety_check.candidate_to_check).

    .venv/bin/python -m bench.dev_sets [--model models/parley.tar.gz] [--dev f.yml] [--misses]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from actions.safety_check import candidate_to_check
from bench.emotion_loop import DEV_SETS
from bench.frozen_sets import FALLBACK, SAFETY_INTENTS, Example, load, macro_f1
from bot.settings import PROJECT_ROOT
from bot.testing.debtor_scripts import SCRIPTS_DIR, load_scripts

# Debtor-script behaviours whose turns are meant to reach a safety intent or its check.
SAFE_PATH_BEHAVIOURS = frozenset(
    {"dispute", "low_confidence_safety", "stop_contact", "vulnerability", "wrong_person"}
)


def everyday_turns(directory: Path = SCRIPTS_DIR) -> list[str]:
    """Every message (`say`, `else` or a plain turn) of the debtor scripts that are not
    about a safe path, once each, in file order."""
    texts: dict[str, None] = {}
    for script in load_scripts(directory):
        if script.behaviour not in SAFE_PATH_BEHAVIOURS:
            for turn in script.turns:
                texts.update({t: None for t in (turn.say, turn.otherwise) if t})
    return list(texts)


def safety_reading(parse: dict[str, Any]) -> str | None:
    """How the dialogue would treat a parse as a safety matter: the safety intent it was
    read as, "unclear, asks about <intent>" for a fallback with one to ask about
    (actions.safety_check), or None."""
    intent = str((parse.get("intent") or {}).get("name"))
    if intent in SAFETY_INTENTS:
        return intent
    checked = candidate_to_check(parse)
    return f"unclear, asks about {checked}" if checked else None


def safety_readings(texts: Sequence[str], parsed: Sequence[dict[str, Any]]) -> list[str]:
    """The everyday texts the dialogue would treat as a safety matter, each with how."""
    readings = (safety_reading(parse) for parse in parsed)
    return [f"{how}: {text}" for text, how in zip(texts, readings, strict=True) if how]


def summary(examples: Sequence[Example], parsed: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Safety recall (hits of how many), false alarms, other intents that fell back with a
    safety intent for the dialogue to ask about, fallbacks and the safety misses."""
    got = [str((p.get("intent") or {}).get("name")) for p in parsed]
    recall = {}
    for intent in SAFETY_INTENTS:
        rows = [g for e, g in zip(examples, got, strict=True) if e.intent == intent]
        recall[intent] = (sum(g == intent for g in rows), len(rows))
    others = [(e, g) for e, g in zip(examples, got, strict=True) if e.intent not in SAFETY_INTENTS]
    misses = []
    checks = 0
    for e, p, g in zip(examples, parsed, got, strict=True):
        # An everyday message the fallback left unclear, with a safety intent to ask about.
        everyday = e.intent not in SAFETY_INTENTS and g not in SAFETY_INTENTS
        checked = safety_reading(p) if everyday else None
        if checked:
            checks += 1
            g = checked
        if g != e.intent and (e.intent in SAFETY_INTENTS or g in SAFETY_INTENTS or checked):
            ranking = [
                f"{r['name']} {float(r['confidence']):.2f}"
                for r in (p.get("intent_ranking") or [])[:3]
            ]
            misses.append({"text": e.text, "true": e.intent, "got": g, "ranking": ranking})
    truth = [e.intent for e in examples]
    return {
        "count": len(examples),
        "intent_macro_f1": macro_f1(truth, got, sorted(set(truth))),
        "recall": recall,
        "false_alarms": (sum(g in SAFETY_INTENTS for _, g in others), len(others)),
        "safety_checks": checks,
        "fallbacks": sum(g == FALLBACK for g in got),
        "misses": misses,
    }


def main(argv: Sequence[str] | None = None) -> int:
    from bench.nlu_crossval import parse_all, quiet_rasa

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=PROJECT_ROOT / "models" / "parley.tar.gz")
    parser.add_argument("--dev", type=Path, action="append", default=[], help="another dev set")
    parser.add_argument("--misses", action="store_true", help="print every safety miss")
    args = parser.parse_args(argv)
    if not args.model.exists():
        print(f"no trained model at {args.model}: run `make model` first", file=sys.stderr)
        return 2
    quiet_rasa()
    sets = {name: load(path) for name, path in DEV_SETS.items()}
    sets.update({path.stem: load(path) for path in args.dev})
    everyday = everyday_turns()
    every = [e.text for examples in sets.values() for e in examples]
    parsed = iter(parse_all(args.model, every + everyday))
    short = dict(zip(SAFETY_INTENTS, ("stop", "wrong", "dispute", "crisis"), strict=True))
    for name, examples in sets.items():
        result = summary(examples, [next(parsed) for _ in examples])
        hits = "".join(
            f"{short[intent]} {hit}/{total}, "
            for intent, (hit, total) in result["recall"].items()
            if total
        )
        alarms, others = result["false_alarms"]
        print(
            f"{name} ({result['count']}): intent F1 {result['intent_macro_f1']:.3f}; {hits}"
            f"others read as safety {alarms}/{others}, asked about one "
            f"{result['safety_checks']}; fallbacks {result['fallbacks']}"
        )
        if args.misses:
            for miss in result["misses"]:
                print(f"    {miss['true']} -> {miss['got']} [{', '.join(miss['ranking'])}]")
                print(f"        {miss['text']}")
    readings = safety_readings(everyday, [next(parsed) for _ in everyday])
    print(f"debtor scripts' everyday turns ({len(everyday)}): {len(readings)} taken for safety")
    for reading in readings:
        print(f"    {reading}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
