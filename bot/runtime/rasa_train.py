"""`python -m bot.runtime.rasa_train ARGS`: `rasa train ARGS`, with a response change kept
out of the NLU's cache keys.

Rasa 3.6 puts the domain's responses into the NLU training data (its ResponsesSyncImporter,
for ResponseSelector) and into that data's fingerprint (`TrainingData.fingerprint`), which
every NLU component's cache key is made of. So a trainer who edits one response, a change
no NLU component reads unless the pipeline has a ResponseSelector, retrained the whole NLU
(about 8 minutes on 2 cores) instead of only the dialogue policies. When the pipeline of
`--config` (default config.yml) has no response selector, the fingerprint is taken without
the responses; the training data itself, and what every component is trained on, are
unchanged. With a response selector in the pipeline nothing is patched.

Rasa's cache (RASA_CACHE_DIRECTORY, `.rasa/cache` by default) records where each cached
result lies as the path it was given: relative by default, so a result cached by a
training in the project could not be restored by one started elsewhere (trainer-check's
copy, with the same cache), which then retrained it. The directory is made absolute
before Rasa reads it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import MutableMapping, Sequence
from pathlib import Path
from typing import Any

import yaml

RESPONSE_SELECTOR = "ResponseSelector"
CACHE_DIRECTORY = "RASA_CACHE_DIRECTORY"
DEFAULT_CACHE = ".rasa/cache"  # rasa.engine.caching.DEFAULT_CACHE_LOCATION


def config_path(argv: Sequence[str]) -> Path:
    """The `--config` of a `rasa train` command line (config.yml when not given)."""
    for i, arg in enumerate(argv):
        if arg == "--config" and i + 1 < len(argv):
            return Path(argv[i + 1])
        if arg.startswith("--config="):
            return Path(arg.split("=", 1)[1])
    return Path("config.yml")


def reads_responses(config: Path) -> bool:
    """Whether the NLU pipeline of `config` has a component that learns from responses
    (unreadable or missing: assume it does, and patch nothing)."""
    try:
        pipeline = (yaml.safe_load(config.read_text()) or {}).get("pipeline") or []
    except (OSError, yaml.YAMLError):
        return True
    return any(RESPONSE_SELECTOR in str(step.get("name", "")) for step in pipeline)


def fingerprint_without_responses(training_data: Any) -> str:
    """`TrainingData.fingerprint` (Rasa 3.6.21) without its `responses`."""
    import rasa.shared.utils.io

    relevant_attributes = {
        "training_examples": sorted(e.fingerprint() for e in training_data.training_examples),
        "entity_synonyms": training_data.entity_synonyms,
        "regex_features": training_data.regex_features,
        "lookup_tables": [
            training_data._load_lookup_table(table) for table in training_data.lookup_tables
        ],
    }
    return rasa.shared.utils.io.deep_container_fingerprint(relevant_attributes)


def apply(config: Path) -> bool:
    """Patch the NLU data's fingerprint when `config`'s pipeline reads no responses; returns
    whether it did."""
    if reads_responses(config):
        return False
    from rasa.shared.nlu.training_data.training_data import TrainingData

    TrainingData.fingerprint = fingerprint_without_responses  # type: ignore[method-assign]
    return True


def absolute_cache_directory(environ: MutableMapping[str, str]) -> Path:
    """Sets RASA_CACHE_DIRECTORY (Rasa's default when unset) to an absolute path."""
    directory = Path(environ.get(CACHE_DIRECTORY, DEFAULT_CACHE)).resolve()
    environ[CACHE_DIRECTORY] = str(directory)
    return directory


def main() -> None:
    args = sys.argv[1:]
    absolute_cache_directory(os.environ)
    apply(config_path(args))
    sys.argv = ["rasa", "train", *args]
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
