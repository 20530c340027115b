"""NLU quality benchmark: 5-fold cross-validation and a held-out set, into reports/nlu/.

For each fold the full NLU pipeline in config.yml is trained on 4/5 of data/nlu and
parses the other 1/5; intents and emotions are scored with macro-F1 and confusion
matrices. Then a model trained on all of data/nlu parses tests/nlu/holdout.yml, messages
written independently of the training data, including unrelated chatter that must never
read as agreement (affirm, pay_in_full, offer_payment).

    make crossval            # or: python -m bench.nlu_crossval [--folds 5] [--skip-cv]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")

from bot.settings import PROJECT_ROOT  # noqa: E402

REPORT_DIR = PROJECT_ROOT / "reports" / "nlu"
# `--config` lets a trainer compare a candidate pipeline before changing config.yml.
CONFIG = {"path": PROJECT_ROOT / "config.yml"}
AGREEMENT_INTENTS = ("affirm", "pay_in_full", "offer_payment")


def quiet_rasa() -> None:
    """Rasa logs every parse at debug level; a benchmark prints its own progress."""
    import logging

    logging.getLogger().setLevel(logging.WARNING)
    for name in ("rasa", "tensorflow", "absl", "matplotlib"):
        logging.getLogger(name).setLevel(logging.WARNING)
    try:
        import structlog

        structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    except (ImportError, AttributeError):
        pass


def log(message: str) -> None:
    print(f"[crossval {time.strftime('%H:%M:%S')}] {message}", flush=True)


def load_examples(path: Path) -> list[Any]:
    from rasa.shared.nlu.training_data.loading import load_data

    return list(load_data(str(path)).intent_examples)


def emotion_of(message: Any) -> str:
    from bot.nlu.emotion import emotion_label

    return emotion_label(message) or "neutral"


def write_training_file(examples: Sequence[Any], extra: Any, path: Path) -> None:
    """A training file with these examples plus the lookup tables/regexes of the full data."""
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLWriter
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData

    # Rasa's writer keeps only the first example's intent-level metadata for a whole
    # intent, which would relabel every emotion; give each example its own label instead.
    labelled = [
        Message(data={**m.data, "metadata": {"example": {"emotion": emotion_of(m)}}})
        for m in examples
    ]
    data = TrainingData(
        training_examples=labelled,
        lookup_tables=extra.lookup_tables,
        regex_features=extra.regex_features,
        entity_synonyms=extra.entity_synonyms,
    )
    path.write_text(RasaYAMLWriter().dumps(data))


def train_nlu_model(data_file: Path, out_dir: Path, name: str) -> Path:
    from rasa.model_training import train_nlu

    model = train_nlu(
        config=str(CONFIG["path"]),
        nlu_data=str(data_file),
        output=str(out_dir),
        fixed_model_name=name,
        domain=str(PROJECT_ROOT / "domain.yml"),
    )
    if not model:
        raise RuntimeError(f"training on {data_file} produced no model")
    return Path(model)


def parse_all(model_path: Path, texts: Sequence[str]) -> list[dict[str, Any]]:
    """Parse results; `classifier_intent` is DIET's choice before the fallback threshold
    (how Rasa's own NLU evaluation scores intents), `intent` what the dialogue receives."""
    from rasa.core.agent import Agent
    from rasa.nlu.classifiers import fallback_classifier

    agent = Agent.load(str(model_path))

    async def run() -> list[dict[str, Any]]:
        results = []
        for text in texts:
            result = await agent.parse_message(text)
            undone = (
                fallback_classifier.undo_fallback_prediction(dict(result))
                if fallback_classifier.is_fallback_classifier_prediction(result)
                else result
            )
            result["classifier_intent"] = (undone.get("intent") or {}).get("name")
            results.append(result)
        return results

    return asyncio.run(run())


def scores(y_true: Sequence[str], y_pred: Sequence[str]) -> dict[str, Any]:
    from sklearn.metrics import accuracy_score, classification_report, f1_score

    labels = sorted(set(y_true) | set(y_pred))
    return {
        "macro_f1": round(
            float(f1_score(y_true, y_pred, labels=sorted(set(y_true)), average="macro")), 4
        ),
        "accuracy": round(float(accuracy_score(y_true, y_pred)), 4),
        "per_label": classification_report(
            y_true, y_pred, labels=labels, output_dict=True, zero_division=0
        ),
    }


def confusion_png(y_true: Sequence[str], y_pred: Sequence[str], title: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import ConfusionMatrixDisplay

    labels = sorted(set(y_true) | set(y_pred))
    size = max(6, len(labels) * 0.45)
    fig, ax = plt.subplots(figsize=(size, size))
    ConfusionMatrixDisplay.from_predictions(
        y_true, y_pred, labels=labels, ax=ax, xticks_rotation="vertical", colorbar=False
    )
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def evaluate(examples: Sequence[Any], parsed: Sequence[dict[str, Any]]) -> dict[str, list[Any]]:
    rows: dict[str, list[Any]] = {
        "intent_true": [],
        "intent_pred": [],
        "emotion_true": [],
        "emotion_pred": [],
        "errors": [],
        "fallbacks": [],
    }
    for message, result in zip(examples, parsed, strict=True):
        intent_true, emotion_true = message.get("intent"), emotion_of(message)
        intent_pred = result.get("classifier_intent") or "none"
        rows["fallbacks"].append((result.get("intent") or {}).get("name") == "nlu_fallback")
        emotion_pred = (result.get("emotion") or {}).get("name") or "none"
        rows["intent_true"].append(intent_true)
        rows["intent_pred"].append(intent_pred)
        rows["emotion_true"].append(emotion_true)
        rows["emotion_pred"].append(emotion_pred)
        if intent_pred != intent_true or emotion_pred != emotion_true:
            rows["errors"].append(
                {
                    "text": message.get("text"),
                    "intent": [intent_true, intent_pred],
                    "emotion": [emotion_true, emotion_pred],
                }
            )
    return rows


def cross_validate(folds: int, workdir: Path) -> dict[str, Any]:
    from rasa.shared.nlu.training_data.loading import load_data
    from sklearn.model_selection import StratifiedKFold

    full = load_data(str(PROJECT_ROOT / "data" / "nlu"))
    examples = list(full.intent_examples)
    labels = [m.get("intent") for m in examples]
    log(f"{len(examples)} examples, {len(set(labels))} intents, {folds} folds")
    totals: dict[str, list[Any]] = {
        "intent_true": [],
        "intent_pred": [],
        "emotion_true": [],
        "emotion_pred": [],
        "errors": [],
        "fallbacks": [],
    }
    per_fold = []
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=42)
    for fold, (train_idx, test_idx) in enumerate(splitter.split(examples, labels), start=1):
        started = time.monotonic()
        data_file = workdir / f"fold{fold}.yml"
        write_training_file([examples[i] for i in train_idx], full, data_file)
        log(f"fold {fold}/{folds}: training on {len(train_idx)} examples")
        model = train_nlu_model(data_file, workdir, f"fold{fold}")
        test = [examples[i] for i in test_idx]
        rows = evaluate(test, parse_all(model, [m.get("text") for m in test]))
        for key in totals:
            totals[key] += rows[key]
        fold_scores = {
            "fold": fold,
            "intent_macro_f1": scores(rows["intent_true"], rows["intent_pred"])["macro_f1"],
            "emotion_macro_f1": scores(rows["emotion_true"], rows["emotion_pred"])["macro_f1"],
            "seconds": round(time.monotonic() - started),
        }
        per_fold.append(fold_scores)
        log(
            f"fold {fold}: intent macro-F1 {fold_scores['intent_macro_f1']}, emotion macro-F1 {fold_scores['emotion_macro_f1']} ({fold_scores['seconds']} s)"
        )
        shutil.rmtree(model, ignore_errors=True) if model.is_dir() else model.unlink(
            missing_ok=True
        )
    return {"totals": totals, "per_fold": per_fold}


def holdout(workdir: Path) -> dict[str, Any]:
    from bot.training import MODEL_PATH, model_is_current

    if model_is_current() and CONFIG["path"] == PROJECT_ROOT / "config.yml":
        model = MODEL_PATH
        log(f"held-out set: using the current model {MODEL_PATH.name}")
    else:
        log("held-out set: the model in models/ is stale; training an NLU model on all data")
        model = train_nlu_model(PROJECT_ROOT / "data" / "nlu", workdir, "full")
    # A held-out message that also occurs in the training data (short ones like "yes",
    # or the label contract's own examples) measures memory, not generalisation: skip it.
    seen = {m.get("text").strip().lower() for m in load_examples(PROJECT_ROOT / "data" / "nlu")}
    all_examples = load_examples(PROJECT_ROOT / "tests" / "nlu" / "holdout.yml")
    examples = [m for m in all_examples if m.get("text").strip().lower() not in seen]
    log(
        f"held-out set: {len(examples)} messages ({len(all_examples) - len(examples)} also in the training data, skipped)"
    )
    parsed = parse_all(model, [m.get("text") for m in examples])
    rows = evaluate(examples, parsed)
    chatter_as_agreement = [
        {"text": m.get("text"), "predicted": p["intent"]["name"]}
        for m, p in zip(examples, parsed, strict=True)
        if m.get("intent") == "out_of_scope"
        and (p.get("intent") or {}).get("name") in AGREEMENT_INTENTS
    ]
    agreement_false_positives = [
        {"text": m.get("text"), "true": m.get("intent"), "predicted": p["intent"]["name"]}
        for m, p in zip(examples, parsed, strict=True)
        if (p.get("intent") or {}).get("name") in AGREEMENT_INTENTS
        and m.get("intent") not in AGREEMENT_INTENTS
    ]
    return {
        "skipped_as_seen": len(all_examples) - len(examples),
        "rows": rows,
        "chatter_as_agreement": chatter_as_agreement,
        "agreement_false_positives": agreement_false_positives,
        "count": len(examples),
    }


def blender_config(path: Path) -> dict[str, Any]:
    """LinearIntentBlender's settings in the pipeline of `path` (empty when it has none), so
    the quick cross-validation scores the linear model the pipeline trains (with the sentence
    embedding when config.yml gives it one)."""
    import yaml

    for step in (yaml.safe_load(path.read_text()) or {}).get("pipeline") or []:
        if str(step.get("name", "")).endswith("LinearIntentBlender"):
            return {k: v for k, v in step.items() if k != "name"}
    return {}


def linear_only(folds: int) -> int:
    """Cross-validates LinearIntentBlender's logistic regression alone (no DIET, no Rasa
    training): two minutes instead of half an hour, and about 0.007 below the full pipeline."""
    from collections import Counter

    from sklearn.model_selection import StratifiedKFold

    from bot.nlu.linear_intents import LinearIntentBlender, build_intent_pipeline

    examples = load_examples(PROJECT_ROOT / "data" / "nlu")
    texts = [str(m.get("text")) for m in examples]
    labels = [str(m.get("intent")) for m in examples]
    config = {**LinearIntentBlender.get_default_config(), **blender_config(CONFIG["path"])}
    predicted = [""] * len(texts)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=42)
    for fold, (train, test) in enumerate(splitter.split(texts, labels), start=1):
        pipeline = build_intent_pipeline(
            float(config["C"]),
            int(config["random_seed"]),
            float(config["concept_weight"]),
            float(config["embedding_weight"]),
        )
        pipeline.fit([texts[i] for i in train], [labels[i] for i in train])
        for i, label in zip(test, pipeline.predict([texts[i] for i in test]), strict=True):
            predicted[i] = str(label)
        log(f"fold {fold}/{folds} done")
    result = scores(labels, predicted)
    confused = Counter((t, p) for t, p in zip(labels, predicted, strict=True) if t != p)
    print(f"linear intent model, {folds}-fold CV on {len(texts)} examples:")
    print(f"  macro-F1 {result['macro_f1']}, accuracy {result['accuracy']}")
    print("  most confused (true -> predicted):")
    for (true, pred), count in confused.most_common(10):
        print(f"    {count:4d}  {true} -> {pred}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="NLU cross-validation and held-out evaluation")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--skip-cv", action="store_true", help="only the held-out evaluation")
    parser.add_argument("--config", type=Path, default=CONFIG["path"], help="pipeline to evaluate")
    parser.add_argument(
        "--linear-only",
        action="store_true",
        help="a quick look (about two minutes): cross-validate only the linear intent model",
    )
    args = parser.parse_args(argv)
    if args.linear_only:
        return linear_only(args.folds)
    CONFIG["path"] = args.config.resolve()
    os.chdir(PROJECT_ROOT)
    quiet_rasa()
    from bot.training import build_spacy_model_if_needed

    build_spacy_model_if_needed()
    REPORT_DIR.mkdir(parents=True, exist_ok=True)
    summary: dict[str, Any] = {
        "generated": time.strftime("%Y-%m-%d %H:%M:%S"),
        "config": "config.yml",
    }
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="parley-cv-") as tmp:
        workdir = Path(tmp)
        if not args.skip_cv:
            cv = cross_validate(args.folds, workdir)
            t = cv["totals"]
            intent, emotion = (
                scores(t["intent_true"], t["intent_pred"]),
                scores(t["emotion_true"], t["emotion_pred"]),
            )
            (REPORT_DIR / "intent_report.json").write_text(json.dumps(intent, indent=2))
            (REPORT_DIR / "emotion_report.json").write_text(json.dumps(emotion, indent=2))
            (REPORT_DIR / "cv_errors.json").write_text(
                json.dumps(t["errors"], indent=2, ensure_ascii=False)
            )
            confusion_png(
                t["intent_true"],
                t["intent_pred"],
                "Intents, 5-fold CV",
                REPORT_DIR / "intent_confusion.png",
            )
            confusion_png(
                t["emotion_true"],
                t["emotion_pred"],
                "Emotions, 5-fold CV",
                REPORT_DIR / "emotion_confusion.png",
            )
            summary["cross_validation"] = {
                "folds": args.folds,
                "examples": len(t["intent_true"]),
                "intent_macro_f1": intent["macro_f1"],
                "intent_accuracy": intent["accuracy"],
                "emotion_macro_f1": emotion["macro_f1"],
                "emotion_accuracy": emotion["accuracy"],
                "fallback_rate": round(sum(t["fallbacks"]) / len(t["fallbacks"]), 4),
                "per_fold": cv["per_fold"],
            }
        result = holdout(workdir)
        rows = result["rows"]
        intent, emotion = (
            scores(rows["intent_true"], rows["intent_pred"]),
            scores(rows["emotion_true"], rows["emotion_pred"]),
        )
        (REPORT_DIR / "holdout_intent_report.json").write_text(json.dumps(intent, indent=2))
        (REPORT_DIR / "holdout_emotion_report.json").write_text(json.dumps(emotion, indent=2))
        (REPORT_DIR / "holdout_errors.json").write_text(
            json.dumps(rows["errors"], indent=2, ensure_ascii=False)
        )
        confusion_png(
            rows["intent_true"],
            rows["intent_pred"],
            "Intents, held-out",
            REPORT_DIR / "holdout_intent_confusion.png",
        )
        summary["holdout"] = {
            "examples": result["count"],
            "skipped_as_also_in_training_data": result["skipped_as_seen"],
            "intent_macro_f1": intent["macro_f1"],
            "intent_accuracy": intent["accuracy"],
            "emotion_macro_f1": emotion["macro_f1"],
            "emotion_accuracy": emotion["accuracy"],
            "fallback_rate": round(sum(rows["fallbacks"]) / len(rows["fallbacks"]), 4),
            "out_of_scope_read_as_agreement": result["chatter_as_agreement"],
            "any_message_wrongly_read_as_agreement": result["agreement_false_positives"],
        }
        # The frozen sets (never tuned on): scored with the model trained on all the data.
        from bench import frozen_sets
        from bot.training import MODEL_PATH, model_is_current

        if model_is_current() and CONFIG["path"] == PROJECT_ROOT / "config.yml":
            frozen = frozen_sets.evaluate_model(MODEL_PATH)
            (REPORT_DIR / "frozen.json").write_text(
                json.dumps(frozen, indent=2, ensure_ascii=False)
            )
            summary["frozen"] = {
                "texting": {k: v for k, v in frozen["texting"].items() if k != "misses"},
                "register": frozen["register"],
            }
    summary["seconds"] = round(time.monotonic() - started)
    (REPORT_DIR / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False))
    lines = [
        "# NLU quality",
        "",
        "Intent scores are the classifier's choice before the fallback threshold (as in",
        "`rasa test nlu`); agreement checks use what the dialogue actually receives.",
        "",
    ]
    if "cross_validation" in summary:
        cv_summary = summary["cross_validation"]
        lines += [
            f"5-fold cross-validation on {cv_summary['examples']} examples:",
            f"- intent macro-F1 **{cv_summary['intent_macro_f1']}** (accuracy {cv_summary['intent_accuracy']})",
            f"- emotion macro-F1 **{cv_summary['emotion_macro_f1']}** (accuracy {cv_summary['emotion_accuracy']})",
            f"- messages below the fallback threshold: {cv_summary['fallback_rate']:.1%}",
            "",
        ]
    h = summary["holdout"]
    lines += [
        f"Held-out set ({h['examples']} messages written apart from the training data; "
        f"{h['skipped_as_also_in_training_data']} that also occur in it are left out):",
        f"- intent macro-F1 **{h['intent_macro_f1']}** (accuracy {h['intent_accuracy']})",
        f"- emotion macro-F1 **{h['emotion_macro_f1']}** (accuracy {h['emotion_accuracy']})",
        f"- messages below the fallback threshold: {h['fallback_rate']:.1%}",
        f"- unrelated chatter read as agreement: {len(h['out_of_scope_read_as_agreement'])}",
        f"- any message wrongly read as agreement: {len(h['any_message_wrongly_read_as_agreement'])}",
        "",
        f"Took {summary['seconds']} s. Details: the JSON reports and confusion matrices beside this file.",
    ]
    if "frozen" in summary:
        lines += ["", frozen_sets.markdown(summary["frozen"])]
    else:
        lines += ["", "Frozen sets: not scored (models/ is stale or another config was given)."]
    (REPORT_DIR / "summary.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
