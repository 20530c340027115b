"""A fast loop for the linear intent model: train it alone, score it on development sets.

Trains only `bot.nlu.linear_intents.build_intent_pipeline` (the logistic regression that
carries 0.75 of the blended intent ranking) on data/nlu, with the sentence embeddings
cached on disk (shared with bench/emotion_loop.py), applies the pipeline's safety weights,
and prints intent macro-F1, recall on the four safety intents and false alarms (other
intents read as one of them) on the development sets (bench.emotion_loop.DEV_SETS:
tests/nlu/holdout.yml, safety_dev.yml ... safety_dev4.yml) and, when given,
more files (`--dev`). Seconds instead of the minutes of `parley train`.

It never reads the frozen sets (tests/nlu/frozen/): those are scored only on a trained
model, by bench.frozen_sets, and nothing is tuned on them.

    .venv/bin/python -m bench.intent_loop [--extra more.yml] [--dev dev.yml] [--misses]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import yaml

from bench.emotion_loop import cached_embeddings, dev_sets
from bench.frozen_sets import SAFETY_INTENTS, Example, load, macro_f1
from bot.nlu import crisis_cues
from bot.nlu.concepts import ConceptAnalyzer
from bot.nlu.linear_intents import LinearIntentBlender, build_intent_pipeline, safety_weighted
from bot.settings import PROJECT_ROOT

FROZEN = PROJECT_ROOT / "tests" / "nlu" / "frozen"


def blender_settings(config: Path) -> dict:
    for step in (yaml.safe_load(config.read_text()) or {}).get("pipeline") or []:
        if str(step.get("name", "")).endswith("LinearIntentBlender"):
            return {**LinearIntentBlender.get_default_config(), **step}
    return LinearIntentBlender.get_default_config()


def crisis_looks(config: Path) -> dict[str, tuple[str, ...]]:
    """CrisisCues' `looks` in the pipeline of `config` (empty when it has no CrisisCues)."""
    for step in (yaml.safe_load(config.read_text()) or {}).get("pipeline") or []:
        if str(step.get("name", "")).endswith("CrisisCues"):
            return crisis_cues.checked_looks(step.get("looks") or crisis_cues.DEFAULT_LOOKS)
    return {}


def blender_pipeline(settings: dict, c: float | None = None):  # noqa: ANN201
    """The linear intent model `settings` (blender_settings) describe, unfitted."""
    return build_intent_pipeline(
        float(c if c is not None else settings["C"]),
        int(settings["random_seed"]),
        float(settings["concept_weight"]),
        float(settings["embedding_weight"]),
    )


def decide(
    classes: Sequence[str],
    row: Sequence[float],
    weights: dict[str, float],
    concepts: Sequence[str],
    looks: dict[str, tuple[str, ...]],
) -> tuple[str, float]:
    """The pipeline's decision on one message: its top intent and confidence after the
    safety weights and CrisisCues' second look."""
    ranked = safety_weighted(dict(zip(classes, map(float, row), strict=True)), weights)
    ranking = sorted(ranked.items(), key=lambda item: item[1], reverse=True)
    return crisis_cues.second_look(ranking, concepts, looks)[0]


def safety_counts(truth: Sequence[str], got: Sequence[str]) -> dict[str, object]:
    """Hits per safety intent ([hits, of]), false alarms (other intents read as one of
    them) and how many messages are of other intents."""
    pairs = list(zip(truth, got, strict=True))
    recall = {
        intent: [sum(g == intent for t, g in pairs if t == intent), sum(t == intent for t in truth)]
        for intent in SAFETY_INTENTS
    }
    return {
        "recall": recall,
        "misses": sum(n - h for h, n in recall.values()),
        "false_alarms": sum(g in SAFETY_INTENTS and t not in SAFETY_INTENTS for t, g in pairs),
        "others": sum(t not in SAFETY_INTENTS for t in truth),
    }


def training_examples(extra: Sequence[Path], base: bool = True) -> tuple[list[str], list[str]]:
    """The texts and intents of data/nlu (unless not `base`) and of the `extra` files."""
    from rasa.shared.nlu.training_data.loading import load_data

    texts, labels = [], []
    for source in [*([PROJECT_ROOT / "data" / "nlu"] if base else []), *extra]:
        for message in load_data(str(source)).intent_examples:
            texts.append(str(message.get("text")))
            labels.append(str(message.get("intent")))
    return texts, labels


def main(argv: Sequence[str] | None = None) -> int:
    from bench.nlu_crossval import quiet_rasa

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=PROJECT_ROOT / "config.yml")
    parser.add_argument(
        "--extra", type=Path, action="append", default=[], help="more training data"
    )
    parser.add_argument("--dev", type=Path, action="append", default=[], help="more dev sets")
    parser.add_argument("--C", type=float, default=None)
    parser.add_argument(
        "--weight", action="append", default=[], help="safety weight override: intent=value"
    )
    parser.add_argument("--misses", action="store_true", help="print the safety misses")
    parser.add_argument(
        "--no-crisis-cues", action="store_true", help="without bot.nlu.crisis_cues' second look"
    )
    args = parser.parse_args(argv)
    for path in [*args.extra, *args.dev]:
        if FROZEN in path.resolve().parents:
            parser.error("the frozen sets are never tuned on: use bench.frozen_sets on a model")
    quiet_rasa()
    settings = blender_settings(args.config)
    weights = {str(k): float(v) for k, v in (settings.get("safety_weights") or {}).items()}
    for item in args.weight:
        name, _, value = item.partition("=")
        weights[name] = float(value)
    texts, labels = training_examples(args.extra)
    sets: dict[str, list[Example]] = dev_sets()
    for path in args.dev:
        sets[path.stem] = load(path)
    cached_embeddings(texts + [e.text for s in sets.values() for e in s])
    pipeline = blender_pipeline(settings, args.C)
    pipeline.fit(texts, labels)
    classes = [str(c) for c in pipeline.classes_]
    analyzer = ConceptAnalyzer()
    looks = {} if args.no_crisis_cues else crisis_looks(args.config)
    print(f"trained on {len(texts)} examples; safety weights {weights}")
    for name, examples in sets.items():
        probabilities = pipeline.predict_proba([e.text for e in examples])
        got = [
            decide(classes, row, weights, analyzer.concepts(example.text), looks)[0]
            for example, row in zip(examples, probabilities, strict=True)
        ]
        truth = [e.intent for e in examples]
        counts = safety_counts(truth, got)
        recall = counts["recall"]
        assert isinstance(recall, dict)
        alarms, others = counts["false_alarms"], counts["others"]
        recall_text = ", ".join(f"{i.split('_')[0]} {h}/{n}" for i, (h, n) in recall.items() if n)
        print(
            f"{name:>10}: macro-F1 {macro_f1(truth, got, sorted(set(truth))):.4f} (n={len(truth)});"
            f" safety recall {recall_text}; false alarms {alarms}/{others}"
        )
        if args.misses:
            for e, g in zip(examples, got, strict=True):
                if g != e.intent and (e.intent in SAFETY_INTENTS or g in SAFETY_INTENTS):
                    print(f"    {e.intent:>22} -> {g:<22} {e.text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
