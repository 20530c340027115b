"""The frozen evaluation sets: how the trained model does on text nobody tuned on.

`tests/nlu/frozen/texting.yml` (texting-style debtor messages, at least 40 for each of the
four safety intents) and `tests/nlu/frozen/register.yml` (forum posts about everyday life,
for the emotion model) were written apart from the training data on 2026-12-01 and are
never to be tuned on. This module scores a model on them; `make test` checks the scores
against floors (tests/e2e/test_frozen_sets.py) and `python -m bench.frozen_sets` writes
reports/nlu/frozen.json and frozen.md with the current model.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.settings import PROJECT_ROOT

FROZEN_DIR = PROJECT_ROOT / "tests" / "nlu" / "frozen"
TEXTING = FROZEN_DIR / "texting.yml"
REGISTER = FROZEN_DIR / "register.yml"
REPORT_DIR = PROJECT_ROOT / "reports" / "nlu"
SAFETY_INTENTS = ("request_stop_contact", "wrong_person", "dispute_debt", "express_vulnerability")
AGREEMENT_INTENTS = ("affirm", "pay_in_full", "offer_payment")
FALLBACK = "nlu_fallback"


@dataclass(frozen=True)
class Example:
    text: str
    intent: str
    emotion: str


def load(path: Path) -> list[Example]:
    """The examples of a frozen set, each with its own intent and emotion."""
    import yaml

    data = yaml.safe_load(path.read_text()) or {}
    examples = []
    for block in data.get("nlu") or []:
        emotion = str(((block.get("metadata") or {}).get("emotion")) or "neutral")
        for line in str(block.get("examples") or "").splitlines():
            text = line.strip()
            if text.startswith("- "):
                examples.append(Example(text[2:].strip(), str(block["intent"]), emotion))
    return examples


def macro_f1(truth: Sequence[str], predicted: Sequence[str], labels: Sequence[str]) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(truth, predicted, labels=list(labels), average="macro", zero_division=0))


def score_texting(examples: Sequence[Example], parsed: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Intent and emotion quality, safety recall, fallback and chatter read as agreement.

    The intent is scored as the dialogue receives it (after the fallback threshold): a
    fallback on a stop request is a miss, because the bot then does not stop.
    """
    truth = [e.intent for e in examples]
    got = [str((p.get("intent") or {}).get("name")) for p in parsed]
    emotions_true = [e.emotion for e in examples]
    emotions_got = [str((p.get("emotion") or {}).get("name")) for p in parsed]
    intents = sorted(set(truth))
    recall = {}
    for intent in SAFETY_INTENTS:
        rows = [g for t, g in zip(truth, got, strict=True) if t == intent]
        recall[intent] = round(sum(g == intent for g in rows) / len(rows), 4) if rows else None
    chatter = [
        {"text": e.text, "predicted": g}
        for e, g in zip(examples, got, strict=True)
        if e.intent == "out_of_scope" and g in AGREEMENT_INTENTS
    ]
    misses = [
        {"text": e.text, "true": e.intent, "predicted": g}
        for e, g in zip(examples, got, strict=True)
        if g != e.intent
    ]
    return {
        "count": len(examples),
        "intent_macro_f1": round(macro_f1(truth, got, intents), 4),
        "intent_accuracy": round(
            sum(t == g for t, g in zip(truth, got, strict=True)) / len(truth), 4
        ),
        "emotion_macro_f1": round(
            macro_f1(emotions_true, emotions_got, sorted(set(emotions_true))), 4
        ),
        "fallback_rate": round(sum(g == FALLBACK for g in got) / len(got), 4),
        "safety_recall": recall,
        "chatter_as_agreement": chatter,
        "misses": misses,
    }


def score_register(examples: Sequence[Example], parsed: Sequence[dict[str, Any]]) -> dict[str, Any]:
    truth = [e.emotion for e in examples]
    got = [str((p.get("emotion") or {}).get("name")) for p in parsed]
    return {
        "count": len(examples),
        "emotion_macro_f1": round(macro_f1(truth, got, sorted(set(truth))), 4),
    }


def evaluate(parse_many: Callable[[list[str]], list[dict[str, Any]]]) -> dict[str, Any]:
    """Both sets through `parse_many` (texts in, parse results out, in order)."""
    texting, register = load(TEXTING), load(REGISTER)
    return {
        "texting": score_texting(texting, parse_many([e.text for e in texting])),
        "register": score_register(register, parse_many([e.text for e in register])),
    }


def evaluate_model(model: Path) -> dict[str, Any]:
    """Both sets through a trained model file, in this process."""
    from bench.nlu_crossval import parse_all

    return evaluate(lambda texts: parse_all(model, texts))


def markdown(result: dict[str, Any]) -> str:
    t, r = result["texting"], result["register"]
    lines = [
        "# Frozen evaluation sets",
        "",
        "| set | messages | intent macro-F1 | accuracy | emotion macro-F1 | fallback | chatter as agreement |",
        "|---|---|---|---|---|---|---|",
        f"| texting | {t['count']} | {t['intent_macro_f1']:.3f} | {t['intent_accuracy']:.3f} | "
        f"{t['emotion_macro_f1']:.3f} | {t['fallback_rate']:.1%} | {len(t['chatter_as_agreement'])} |",
        f"| register (emotion only) | {r['count']} | | | {r['emotion_macro_f1']:.3f} | | |",
        "",
        "Recall on the safety intents (the dialogue's intent, after the fallback threshold):",
        "",
        *[f"- {name}: {value:.3f}" for name, value in t["safety_recall"].items()],
        "",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    from bench.nlu_crossval import quiet_rasa

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(PROJECT_ROOT / "models" / "parley.tar.gz"))
    args = parser.parse_args(argv)
    quiet_rasa()
    started = time.monotonic()
    result = evaluate_model(Path(args.model))
    result["seconds"] = round(time.monotonic() - started, 1)
    REPORT_DIR.mkdir(parents=True, exist_ok=True)
    (REPORT_DIR / "frozen.json").write_text(json.dumps(result, indent=2, ensure_ascii=False))
    (REPORT_DIR / "frozen.md").write_text(markdown(result))
    print(markdown(result))
    print(f"Wrote {REPORT_DIR / 'frozen.json'} in {result['seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
