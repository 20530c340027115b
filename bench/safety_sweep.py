"""Choose the safety weights on development data: a sweep over LinearIntentBlender's weights.

A miss on a safety intent (a cease request, a wrong person, a dispute, a crisis) costs far
more than a false alarm, but false alarms on everyday messages cost too. This trains the
linear intent model (the 0.75 share of the blended ranking) once per fold of a 5-fold
cross-validation of data/nlu, and once on all of it for the development sets
(tests/nlu/holdout.yml, safety_dev.yml ... safety_dev4.yml), keeps the probabilities,
then applies every combination of weights of the grid (and bot.nlu.crisis_cues' second
look) to them and prints, per combination: recall on each safety intent and false alarms
(other intents read as one of them) out of fold and on each development set, plus the
messages read below the fallback threshold.

It never reads the frozen sets (tests/nlu/frozen/), which only bench.frozen_sets scores.

    .venv/bin/python -m bench.safety_sweep [--grid wrong_person=3,4,6 ...] [--extra more.yml]
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bench.emotion_loop import cached_embeddings, dev_sets
from bench.frozen_sets import SAFETY_INTENTS
from bench.intent_loop import (
    FROZEN,
    blender_pipeline,
    blender_settings,
    crisis_looks,
    decide,
    safety_counts,
    training_examples,
)
from bot.nlu.concepts import ConceptAnalyzer
from bot.settings import PROJECT_ROOT

DEFAULT_GRID = {
    "request_stop_contact": [3.0],
    "wrong_person": [3.0, 4.0, 6.0],
    "dispute_debt": [3.0, 4.0, 6.0],
    "express_vulnerability": [1.5, 2.0, 3.0, 4.0],
}
REPORT = PROJECT_ROOT / "reports" / "nlu" / "safety_sweep.json"


def decisions(
    classes: Sequence[str],
    rows: np.ndarray,
    weights: dict[str, float],
    concepts: Sequence[Sequence[str]],
    threshold: float,
    looks: dict[str, tuple[str, ...]],
) -> tuple[list[str], int]:
    """The top intent of each row (bench.intent_loop.decide), and how many tops are under
    the fallback threshold."""
    tops = [decide(classes, r, weights, c, looks) for r, c in zip(rows, concepts, strict=True)]
    return [name for name, _ in tops], sum(confidence < threshold for _, confidence in tops)


def main(argv: Sequence[str] | None = None) -> int:
    from sklearn.model_selection import StratifiedKFold

    from bench.nlu_crossval import log, quiet_rasa

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=PROJECT_ROOT / "config.yml")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument(
        "--grid", action="append", default=[], help="intent=w1,w2,... (replaces its default)"
    )
    parser.add_argument(
        "--extra",
        type=Path,
        action="append",
        default=[],
        help="candidate training data: added to every fold's training, never scored",
    )
    parser.add_argument("--threshold", type=float, default=0.5, help="the fallback threshold")
    parser.add_argument("--out", type=Path, default=REPORT)
    args = parser.parse_args(argv)
    grid = {k: list(v) for k, v in DEFAULT_GRID.items()}
    for item in args.grid:
        name, _, values = item.partition("=")
        if name not in SAFETY_INTENTS:
            parser.error(f"not a safety intent: {name}")
        grid[name] = [float(v) for v in values.split(",") if v]
    quiet_rasa()
    settings = blender_settings(args.config)
    for path in args.extra:
        if FROZEN in path.resolve().parents:
            parser.error("the frozen sets are never tuned on: use bench.frozen_sets on a model")
    texts, labels = training_examples([])
    extra_texts, extra_labels = training_examples(args.extra, base=False)
    dev = dev_sets()
    cached_embeddings(texts + extra_texts + [e.text for s in dev.values() for e in s])

    def fitted(train_texts: Sequence[str], train_labels: Sequence[str]):  # noqa: ANN202
        pipeline = blender_pipeline(settings)
        pipeline.fit(list(train_texts), list(train_labels))
        return pipeline

    analyzer = ConceptAnalyzer()
    looks = crisis_looks(args.config)
    pools: dict[str, tuple[list[str], list[str], np.ndarray]] = {}
    full = fitted(texts + extra_texts, labels + extra_labels)
    classes = [str(c) for c in full.classes_]
    for name, examples in dev.items():
        batch = [e.text for e in examples]
        pools[name] = (batch, [e.intent for e in examples], full.predict_proba(batch))
    oof = np.zeros((len(texts), len(classes)))
    splitter = StratifiedKFold(n_splits=args.folds, shuffle=True, random_state=42)
    for fold, (train, test) in enumerate(splitter.split(texts, labels), start=1):
        model = fitted(
            [texts[i] for i in train] + extra_texts, [labels[i] for i in train] + extra_labels
        )
        own = [str(c) for c in model.classes_]
        columns = [own.index(c) if c in own else None for c in classes]
        probabilities = model.predict_proba([texts[i] for i in test])
        for j, column in enumerate(columns):
            if column is not None:
                oof[test, j] = probabilities[:, column]
        log(f"fold {fold}/{args.folds} done")
    pools["out_of_fold"] = (texts, labels, oof)
    concepts = {name: [analyzer.concepts(t) for t in pool[0]] for name, pool in pools.items()}

    results = []
    names = list(grid)
    for values in itertools.product(*(grid[n] for n in names)):
        weights = dict(zip(names, values, strict=True))
        row: dict[str, object] = {"weights": weights}
        for name, (_, truth, probabilities) in pools.items():
            got, low = decisions(
                classes, probabilities, weights, concepts[name], args.threshold, looks
            )
            row[name] = {**safety_counts(truth, got), "below_threshold": low}
        results.append(row)
        short = " ".join(f"{n.split('_')[0][:5]}={v:g}" for n, v in weights.items())
        parts = []
        for name in ("out_of_fold", *dev):
            s = row[name]
            assert isinstance(s, dict)
            recall = "/".join(str(h) for h, _ in s["recall"].values())
            parts.append(f"{name} {recall} fa {s['false_alarms']} low {s['below_threshold']}")
        print(f"{short:<36} | " + " | ".join(parts), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
