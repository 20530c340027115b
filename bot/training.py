"""Train the Rasa model only when its inputs changed (data, config, domain or NLU code)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path

from bot.settings import PROJECT_ROOT

MODEL_DIR = PROJECT_ROOT / "models"
MODEL_NAME = "parley"
MODEL_PATH = MODEL_DIR / f"{MODEL_NAME}.tar.gz"
FINGERPRINT_PATH = MODEL_DIR / f"{MODEL_NAME}.fingerprint.json"
SPACY_MODEL_DIR = PROJECT_ROOT / "build" / "spacy" / "parley_en"
SPACY_FINGERPRINT_PATH = SPACY_MODEL_DIR.parent / "parley_en.fingerprint"

# What the trained model depends on. Code under bot/nlu is part of the model: Rasa only
# fingerprints a component's config, so a change in our component code forces a retrain.
_DATA_INPUTS = ("config.yml", "domain.yml", "domain", "data")
_CODE_INPUTS = ("bot/nlu",)


class TrainingError(RuntimeError):
    """Training failed; the message says where to look."""


def _files(paths: Iterable[str]) -> list[Path]:
    found: list[Path] = []
    for name in paths:
        path = PROJECT_ROOT / name
        if path.is_file():
            found.append(path)
        elif path.is_dir():
            found.extend(
                p
                for p in sorted(path.rglob("*"))
                if p.is_file()
                and "__pycache__" not in p.parts
                and p.suffix in {".py", ".yml", ".yaml", ".json", ".txt"}
            )
    return found


def fingerprint(paths: Iterable[str]) -> str:
    """A hash of the files' relative paths and contents."""
    digest = hashlib.sha256()
    for path in _files(paths):
        digest.update(str(path.relative_to(PROJECT_ROOT)).encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def build_spacy_model_if_needed() -> bool:
    """Build the project's spaCy pipeline when missing or when its code changed."""
    from bot.nlu import spacy_pipeline

    wanted = fingerprint(_CODE_INPUTS)
    current = SPACY_FINGERPRINT_PATH.read_text().strip() if SPACY_FINGERPRINT_PATH.exists() else ""
    if SPACY_MODEL_DIR.is_dir() and current == wanted:
        return False
    SPACY_MODEL_DIR.parent.mkdir(parents=True, exist_ok=True)
    spacy_pipeline.build(SPACY_MODEL_DIR)
    SPACY_FINGERPRINT_PATH.write_text(wanted + "\n")
    print(f"Built the spaCy pipeline in {SPACY_MODEL_DIR.relative_to(PROJECT_ROOT)}", flush=True)
    return True


def _read_fingerprint() -> dict[str, str]:
    try:
        return dict(json.loads(FINGERPRINT_PATH.read_text()))
    except (OSError, ValueError):
        return {}


def model_is_current() -> bool:
    """True when models/parley.tar.gz was trained from exactly the current inputs."""
    stored = _read_fingerprint()
    return (
        MODEL_PATH.exists()
        and stored.get("data") == fingerprint(_DATA_INPUTS)
        and stored.get("code") == fingerprint(_CODE_INPUTS)
    )


def train_if_needed(force: bool = False) -> Path:
    """Train unless the stored model matches the inputs; returns the model path."""
    build_spacy_model_if_needed()
    wanted = {"data": fingerprint(_DATA_INPUTS), "code": fingerprint(_CODE_INPUTS)}
    stored = _read_fingerprint()
    if not force and MODEL_PATH.exists() and stored == wanted:
        print(f"Model is up to date: {MODEL_PATH.relative_to(PROJECT_ROOT)} (nothing changed).")
        return MODEL_PATH
    # Rasa's own cache reuses unchanged parts; a code change invalidates all of it.
    rasa_force = force or stored.get("code") != wanted["code"]
    command = [
        sys.executable,
        "-m",
        # `rasa train`, with its cache directory made absolute (trainer-check shares it).
        "bot.runtime.rasa_train",
        "--config",
        "config.yml",
        "--domain",
        "domain.yml",
        "--data",
        "data",
        "--out",
        str(MODEL_DIR),
        "--fixed-model-name",
        MODEL_NAME,
    ]
    if rasa_force:
        command.append("--force")
    print(
        f"Training the model ({'full' if rasa_force else 'incremental'}); this takes a few minutes on 2 cores...",
        flush=True,
    )
    started = time.monotonic()
    env = {
        **os.environ,
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "RASA_TELEMETRY_ENABLED": "false",
    }
    result = subprocess.run(command, cwd=PROJECT_ROOT, env=env, check=False)
    if result.returncode != 0 or not MODEL_PATH.exists():
        raise TrainingError(f"rasa train failed (exit {result.returncode}); see its output above")
    FINGERPRINT_PATH.write_text(json.dumps(wanted, indent=2) + "\n")
    print(f"Trained {MODEL_PATH.relative_to(PROJECT_ROOT)} in {time.monotonic() - started:.0f} s.")
    return MODEL_PATH
