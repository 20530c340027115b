"""A fast loop for the emotion classifier: train it alone on data/nlu, score it on both sets.

Trains only `bot.nlu.emotion.build_emotion_pipeline` (the same features and classifier the
Rasa component fits) on the emotion-labelled NLU examples, with the sentence embeddings
cached on disk (var/emotion_embeddings.npz), and prints macro-F1 and the per-class
confusion on the development sets (tests/nlu/holdout.yml and tests/nlu/safety_dev.yml).
Seconds instead of the minutes of `parley train`. It does not score the frozen sets: they
are never tuned on, and only bench.frozen_sets scores them, on a trained model.

    .venv/bin/python -m bench.emotion_loop [--C 8] [--embedding-weight 1.0] [--confusion]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bench.frozen_sets import Example, load, macro_f1
from bot.nlu import emotion, sentence_encoder
from bot.settings import PROJECT_ROOT

CACHE = PROJECT_ROOT / "var" / "emotion_embeddings.npz"
HOLDOUT = PROJECT_ROOT / "tests" / "nlu" / "holdout.yml"
SAFETY_DEV = PROJECT_ROOT / "tests" / "nlu" / "safety_dev.yml"
SAFETY_DEV2 = PROJECT_ROOT / "tests" / "nlu" / "safety_dev2.yml"
SAFETY_DEV3 = PROJECT_ROOT / "tests" / "nlu" / "safety_dev3.yml"
SAFETY_DEV4 = PROJECT_ROOT / "tests" / "nlu" / "safety_dev4.yml"
EVERYDAY_DEV = PROJECT_ROOT / "tests" / "nlu" / "everyday_dev.yml"
# The first edition of the frozen texting set (2026-12-01), development data since 2026-12-03.
TEXTING_DEV = PROJECT_ROOT / "tests" / "nlu" / "texting_dev.yml"
# Crises told indirectly and their everyday neighbours (2026-12-03, written blind).
CRISIS_DEV = PROJECT_ROOT / "tests" / "nlu" / "crisis_dev.yml"
# The development sets: tuned on, never trained on (tests/nlu/test_training_data.py).
DEV_SETS = {
    "holdout": HOLDOUT,
    "safety_dev": SAFETY_DEV,
    "safety_dev2": SAFETY_DEV2,
    "safety_dev3": SAFETY_DEV3,
    "safety_dev4": SAFETY_DEV4,
    "everyday_dev": EVERYDAY_DEV,
    "texting_dev": TEXTING_DEV,
    "crisis_dev": CRISIS_DEV,
}


def dev_sets() -> dict[str, list[Example]]:
    """Every development set's examples, by name (DEV_SETS)."""
    return {name: load(path) for name, path in DEV_SETS.items()}


def training_examples(extra: Sequence[Path] = ()) -> tuple[list[str], list[str]]:
    from rasa.shared.nlu.training_data.loading import load_data

    messages = []
    for source in [PROJECT_ROOT / "data" / "nlu", *extra]:
        messages += load_data(str(source)).intent_examples
    texts, labels = [], []
    for message in messages:
        label = emotion.emotion_label(message)
        if label in emotion.EMOTIONS:
            texts.append(str(message.get("text"))[: emotion._MAX_CHARS])
            labels.append(label)
    return texts, labels


def cached_embeddings(texts: Sequence[str]) -> None:
    """Fill the shared encoder's cache from disk (and disk from the encoder)."""
    encoder = sentence_encoder.shared_encoder()
    stored: dict[str, np.ndarray] = {}
    if CACHE.exists():
        with np.load(CACHE, allow_pickle=False) as npz:
            stored = dict(zip(npz["texts"].tolist(), npz["vectors"], strict=True))
    missing = [t for t in dict.fromkeys(texts) if t not in stored]
    if missing:
        encoder._cache.clear()
        for start in range(0, len(missing), 512):
            batch = missing[start : start + 512]
            stored.update(zip(batch, encoder._run(batch), strict=True))
        CACHE.parent.mkdir(parents=True, exist_ok=True)
        keys = sorted(stored)
        np.savez(CACHE, texts=np.asarray(keys), vectors=np.vstack([stored[k] for k in keys]))

    def embed(batch: Sequence[str]) -> np.ndarray:
        rows = []
        for text in batch:
            row = stored.get(text)
            if row is None:
                row = encoder._run([text])[0]
                stored[text] = row
            rows.append(row)
        return np.vstack(rows) if rows else np.zeros((0, sentence_encoder.DIMENSIONS))

    sentence_encoder.embed = embed  # type: ignore[assignment]


def confusion(truth: Sequence[str], got: Sequence[str]) -> str:
    labels = list(emotion.EMOTIONS)
    lines = ["true\\pred " + " ".join(f"{x[:7]:>7}" for x in labels)]
    for t in labels:
        counts = [sum(a == t and b == p for a, b in zip(truth, got, strict=True)) for p in labels]
        total = sum(counts)
        lines.append(f"{t[:9]:>9} " + " ".join(f"{c:>7}" for c in counts) + f"   n={total}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    from bench.nlu_crossval import quiet_rasa

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--C", type=float, default=8.0)
    parser.add_argument("--embedding-weight", type=float, default=1.0)
    parser.add_argument("--concept-weight", type=float, default=None)
    parser.add_argument("--texting-spelling", action="store_true")
    parser.add_argument("--confusion", action="store_true")
    parser.add_argument(
        "--extra", type=Path, action="append", default=[], help="more training data"
    )
    parser.add_argument(
        "--misses", default="", help=f"print misses of this set ({'/'.join(DEV_SETS)})"
    )
    args = parser.parse_args(argv)
    quiet_rasa()
    texts, labels = training_examples(args.extra)
    sets = dev_sets()
    cached_embeddings(texts + [e.text for s in sets.values() for e in s])
    kwargs = {} if args.concept_weight is None else {"concept_weight": args.concept_weight}
    pipeline = emotion.build_emotion_pipeline(
        args.C,
        42,
        embedding_weight=args.embedding_weight,
        texting_spelling=args.texting_spelling,
        **kwargs,
    )
    pipeline.fit(texts, labels)
    print(f"trained on {len(texts)} examples")
    for name, examples in sets.items():
        truth = [e.emotion for e in examples]
        got = [str(x) for x in pipeline.predict([e.text for e in examples])]
        print(
            f"{name:>8}: emotion macro-F1 {macro_f1(truth, got, sorted(set(truth))):.4f} (n={len(truth)})"
        )
        if args.confusion:
            print(confusion(truth, got))
        if args.misses == name:
            for e, g in zip(examples, got, strict=True):
                if g != e.emotion:
                    print(f"   {e.emotion:>8} -> {g:<8} {e.text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
