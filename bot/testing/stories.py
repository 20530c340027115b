"""Run the Rasa test stories end to end: user text → NLU → intent → predicted actions.

`rasa test core --e2e --fail-on-prediction-errors` with one adjustment: a story is graded
on the entity types it annotates. Every parse carries an `emotion` entity and rule-based
amount/date entities; a story that does not annotate them is not about them (the
NLU tests and `make crossval` grade those), so unannotated types are not compared.

    python -m bot.testing.stories [--stories tests/stories] [--out reports/stories]
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from bot.settings import PROJECT_ROOT


def _grade_annotated_entities_only() -> None:
    import rasa.core.test as rasa_test

    original = rasa_test._collect_user_uttered_predictions

    def collect(event: Any, predicted: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        annotated = {e.get("entity") for e in (event.entities or [])}
        predicted = {
            **predicted,
            "entities": [
                e for e in predicted.get("entities") or [] if e.get("entity") in annotated
            ],
        }
        return original(event, predicted, *args, **kwargs)

    rasa_test._collect_user_uttered_predictions = collect


def count_test_stories(path: Path) -> int:
    """Stories Rasa will evaluate; any other .yml there is an error (Rasa skips it silently)."""
    files = [path] if path.is_file() else sorted(path.rglob("*.yml"))
    skipped = [f for f in files if not f.name.startswith("test_")]
    if skipped:
        raise SystemExit(
            f"Rasa only runs test stories from files named test_*.yml: rename {skipped[0]}"
        )
    return sum(len((yaml.safe_load(f.read_text()) or {}).get("stories") or []) for f in files)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stories", default=str(PROJECT_ROOT / "tests" / "stories"))
    parser.add_argument("--model", default=str(PROJECT_ROOT / "models" / "parley.tar.gz"))
    parser.add_argument("--out", default=str(PROJECT_ROOT / "reports" / "stories"))
    args = parser.parse_args(argv)
    count = count_test_stories(Path(args.stories))
    if count == 0:
        print(
            f"No test stories found in {args.stories} (files must be named test_*.yml)",
            file=sys.stderr,
        )
        return 1
    print(f"Running {count} test stories from {args.stories}", flush=True)
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    os.chdir(PROJECT_ROOT)  # the model's spaCy pipeline path is relative to the repo
    _grade_annotated_entities_only()
    from rasa.__main__ import main as rasa_main

    sys.argv = [
        "rasa", "test", "core", "--e2e", "--fail-on-prediction-errors",
        "--stories", args.stories, "--model", args.model, "--out", args.out,
    ]  # fmt: skip
    try:
        rasa_main()
    except SystemExit as exc:
        return int(exc.code or 0)
    failed = os.path.join(args.out, "failed_test_stories.yml")
    if os.path.exists(failed) and "None of the test stories failed" not in Path(failed).read_text():
        print(f"Some test stories failed: see {failed}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
