"""NLU ablation: what the sentence encoder, the safety weights and the second look each add.

Trains the project (`rasa train`, sharing Rasa's cache with `parley train`, so only the
components a variant changes retrain) with four pipelines derived from config.yml:

- `ngrams`: no sentence encoder (DIET, the linear intent model and the emotion model read
  word and character n-grams and the concept lexicon only), no safety weights, no second
  look;
- `embeddings`: config.yml's pipeline without the safety weights and the second look;
- `safety`: with the safety weights, without the second look (bot.nlu.crisis_cues);
- `final`: config.yml as it is.

Each model is then loaded in a fresh process, which parses the frozen sets (scored as
bench.frozen_sets does), the development sets (holdout and safety_dev), and reports the
median and p95 parse time per message and the resident memory of the loaded model. Writes
reports/nlu/ablation.json and ablation.md.

    python -m bench.nlu_ablation [--variants ngrams embeddings safety final] [--keep DIR]
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from bot.settings import PROJECT_ROOT

REPORT_DIR = PROJECT_ROOT / "reports" / "nlu"
VARIANTS = ("ngrams", "embeddings", "safety", "final")
ENCODER = "SentenceEncoderFeaturizer"
SECOND_LOOK = "CrisisCues"


def log(message: str) -> None:
    print(f"[ablation {time.strftime('%H:%M:%S')}] {message}", flush=True)


def variant_config(base: dict[str, Any], variant: str) -> dict[str, Any]:
    """config.yml's settings with the parts `variant` leaves out removed."""
    config = copy.deepcopy(base)
    if variant == "final":
        return config
    pipeline = []
    for step in config["pipeline"]:
        name = str(step["name"])
        if name.endswith(SECOND_LOOK):
            continue
        if variant == "ngrams" and name.endswith(ENCODER):
            continue
        if name.endswith("LinearIntentBlender") and variant in ("ngrams", "embeddings"):
            step["safety_weights"] = {}
        if variant == "ngrams" and "embedding_weight" in step:
            step["embedding_weight"] = 0.0
        pipeline.append(step)
    config["pipeline"] = pipeline
    return config


def train(config: dict[str, Any], out: Path, name: str) -> Path:
    config_path = out / f"{name}.yml"
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))
    command = [
        sys.executable, "-m", "bot.runtime.rasa_train",
        "--config", str(config_path), "--domain", "domain.yml", "--data", "data",
        "--out", str(out), "--fixed-model-name", name,
    ]  # fmt: skip
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false"}
    started = time.monotonic()
    result = subprocess.run(
        command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, check=False
    )
    (out / f"{name}.log").write_text(result.stdout + result.stderr)
    if result.returncode != 0:
        raise RuntimeError(f"training {name} failed:\n{(result.stdout + result.stderr)[-2000:]}")
    log(f"trained {name} in {time.monotonic() - started:.0f} s")
    return out / f"{name}.tar.gz"


def measure(model: Path) -> dict[str, Any]:
    """Score `model` in a fresh process (so its memory is its own)."""
    result = subprocess.run(
        [sys.executable, "-m", "bench.nlu_ablation", "--measure", str(model)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"measuring {model} failed:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def measure_here(model: Path) -> dict[str, Any]:
    import asyncio

    from rasa.core.agent import Agent

    from bench import frozen_sets
    from bench.emotion_loop import DEV_SETS
    from bench.nlu_crossval import quiet_rasa

    quiet_rasa()
    before = _rss_mb()
    agent = Agent.load(str(model))
    loaded = _rss_mb()
    times: list[float] = []

    def parse_many(texts: list[str]) -> list[dict[str, Any]]:
        async def run() -> list[dict[str, Any]]:
            out = []
            for text in texts:
                started = time.perf_counter()
                out.append(await agent.parse_message(text))
                times.append(time.perf_counter() - started)
            return out

        return asyncio.run(run())

    parse_many(["warm up", "hello"])
    times.clear()
    frozen = frozen_sets.evaluate(parse_many)
    development = {}
    for name, path in DEV_SETS.items():
        examples = frozen_sets.load(path)
        scored = frozen_sets.score_texting(examples, parse_many([e.text for e in examples]))
        development[name] = {k: scored[k] for k in ("intent_macro_f1", "safety_recall")}
    ordered = sorted(times)
    texting = frozen["texting"]
    return {
        "texting": {k: v for k, v in texting.items() if k != "misses"},
        "register_emotion_macro_f1": frozen["register"]["emotion_macro_f1"],
        "development": development,
        "other_intents_as_safety": sum(
            m["predicted"] in frozen_sets.SAFETY_INTENTS
            and m["true"] not in frozen_sets.SAFETY_INTENTS
            for m in texting["misses"]
        ),
        "parse_ms_median": round(1000 * ordered[len(ordered) // 2], 1),
        "parse_ms_p95": round(1000 * ordered[int(len(ordered) * 0.95)], 1),
        "parsed": len(ordered),
        "rss_mb_loaded": loaded,
        "rss_mb_before_load": before,
        "rss_mb_after_parsing": _rss_mb(),
    }


def markdown(rows: dict[str, dict[str, Any]], load: str) -> str:
    labels = {
        "ngrams": "n-grams only",
        "embeddings": "+ sentence embeddings",
        "safety": "+ safety weights",
        "final": "+ second look (final)",
    }
    lines = [
        "# NLU ablation (frozen sets; never tuned on)",
        "",
        f"Generated {time.strftime('%Y-%m-%d %H:%M')} UTC by `python -m bench.nlu_ablation`; "
        f"load average {load}. Latency is one parse at a time in one process.",
        "",
        "| pipeline | intent F1 | emotion F1 | forum emotion F1 | fallback | stop | wrong person "
        "| dispute | crisis | others read as safety | chatter as agreement | parse ms p50 / p95 "
        "| RSS loaded |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, row in rows.items():
        t = row["texting"]
        r = t["safety_recall"]
        lines.append(
            f"| {labels[name]} | {t['intent_macro_f1']:.3f} | {t['emotion_macro_f1']:.3f} | "
            f"{row['register_emotion_macro_f1']:.3f} | {t['fallback_rate']:.1%} | "
            f"{r['request_stop_contact']:.3f} | {r['wrong_person']:.3f} | "
            f"{r['dispute_debt']:.3f} | {r['express_vulnerability']:.3f} | "
            f"{row['other_intents_as_safety']} | {len(t['chatter_as_agreement'])} | "
            f"{row['parse_ms_median']} / {row['parse_ms_p95']} | {row['rss_mb_loaded']:.0f} MB |"
        )
    sets = list(next(iter(rows.values()))["development"]) if rows else []
    lines += ["", f"Development sets (tuned on): intent macro-F1 {' / '.join(sets)}", ""]
    for name, row in rows.items():
        d = row["development"]
        scores = " / ".join(f"{d[s]['intent_macro_f1']:.3f}" for s in sets if s in d)
        lines.append(f"- {labels[name]}: {scores}")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS))
    parser.add_argument("--keep", type=Path, help="keep the models in this directory")
    parser.add_argument("--final-model", type=Path, help="use this trained model as `final`")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        print(json.dumps(measure_here(args.measure)))
        return 0
    from bot.training import build_spacy_model_if_needed

    build_spacy_model_if_needed()
    base = yaml.safe_load((PROJECT_ROOT / "config.yml").read_text())
    out = args.keep or Path(tempfile.mkdtemp(prefix="parley-ablation-"))
    out.mkdir(parents=True, exist_ok=True)
    rows: dict[str, dict[str, Any]] = {}
    load_start = " ".join(f"{x:.1f}" for x in os.getloadavg())
    try:
        for name in args.variants:
            if name == "final" and args.final_model:
                model = args.final_model
            else:
                log(f"training {name} ...")
                model = train(variant_config(base, name), out, name)
            log(f"measuring {name} ...")
            rows[name] = measure(model)
            t = rows[name]["texting"]
            log(
                f"{name}: intent {t['intent_macro_f1']}, emotion {t['emotion_macro_f1']}, "
                f"recall {t['safety_recall']}, {rows[name]['parse_ms_median']} ms, "
                f"{rows[name]['rss_mb_loaded']} MB"
            )
    finally:
        if not args.keep:
            shutil.rmtree(out, ignore_errors=True)
    load = f"{load_start} at the start, " + " ".join(f"{x:.1f}" for x in os.getloadavg())
    REPORT_DIR.mkdir(parents=True, exist_ok=True)
    (REPORT_DIR / "ablation.json").write_text(json.dumps(rows, indent=2, ensure_ascii=False))
    (REPORT_DIR / "ablation.md").write_text(markdown(rows, load + " at the end"))
    print(markdown(rows, load))
    return 0


if __name__ == "__main__":
    sys.exit(main())
