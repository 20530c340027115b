"""The trainers' inbox: reviewed examples kept in a file under var/, never in data/.

The console lists messages the bot was unsure about; a trainer picks the right intent and
emotion, and the example is appended here (card numbers masked again on the way in).
`parley inbox export` prints the reviewed examples in `data/nlu/` format for a trainer to
merge by hand: the console never writes to `data/`, which would retrain the model and put
debtors' words in the repository.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

import yaml

from bot.privacy import mask_card_numbers
from bot.settings import PROJECT_ROOT

DEFAULT_REVIEW_FILE = PROJECT_ROOT / "var" / "inbox" / "reviewed.jsonl"
EMOTIONS = ("neutral", "angry", "anxious", "sad", "positive")


class InboxError(ValueError):
    """A review cannot be recorded; the message says why."""


@dataclass(frozen=True)
class ReviewedExample:
    """One message a trainer labelled: its text (masked) and the right intent and emotion."""

    text: str
    intent: str
    emotion: str
    sender_id: str
    event_id: int
    predicted_intent: str | None
    reviewer: str
    reviewed_at: str


def review_file() -> Path:
    """PARLEY_INBOX_FILE, or var/inbox/reviewed.jsonl."""
    configured = os.environ.get("PARLEY_INBOX_FILE", "").strip()
    return Path(configured) if configured else DEFAULT_REVIEW_FILE


def record_review(example: ReviewedExample, path: Path | None = None) -> ReviewedExample:
    """Append one reviewed example; the file is created (mode 0600) on first use."""
    if not example.intent:
        raise InboxError("choose an intent")
    if example.emotion not in EMOTIONS:
        raise InboxError(f"emotion must be one of {', '.join(EMOTIONS)}")
    masked = ReviewedExample(**{**asdict(example), "text": mask_card_numbers(example.text)[0]})
    target = path or review_file()
    target.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(asdict(masked), ensure_ascii=False) + "\n")
    return masked


def reviewed_examples(path: Path | None = None) -> list[ReviewedExample]:
    """Every review, the latest per message (a relabel replaces the earlier label)."""
    target = path or review_file()
    if not target.exists():
        return []
    latest: dict[tuple[str, int], ReviewedExample] = {}
    for line in target.read_text(encoding="utf-8").splitlines():
        if line.strip():
            example = ReviewedExample(**json.loads(line))
            latest[(example.sender_id, example.event_id)] = example
    return list(latest.values())


def export_nlu_yaml(examples: list[ReviewedExample]) -> str:
    """The examples as `data/nlu/` YAML: one block per intent and emotion, texts deduplicated."""
    blocks: dict[tuple[str, str], list[str]] = {}
    for example in sorted(examples, key=lambda e: (e.intent, e.emotion, e.reviewed_at)):
        texts = blocks.setdefault((example.intent, example.emotion), [])
        if example.text not in texts:
            texts.append(example.text)
    nlu = [
        {
            "intent": intent,
            "metadata": {"emotion": emotion},
            "examples": "".join(f"- {_one_line(text)}\n" for text in texts),
        }
        for (intent, emotion), texts in blocks.items()
    ]
    header = (
        f"# Reviewed in the console's inbox; exported {datetime.now():%Y-%m-%d %H:%M}.\n"
        "# Check each example, then merge it into the right file under data/nlu/.\n"
    )
    return header + yaml.dump(
        {"version": "3.1", "nlu": nlu}, Dumper=_LiteralDumper, sort_keys=False, allow_unicode=True
    )


def _one_line(text: str) -> str:
    return " ".join(text.split())


class _LiteralDumper(yaml.SafeDumper):
    """Writes the examples as a `|` block, as the files in data/nlu/ do."""


def _literal(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_LiteralDumper.add_representer(str, _literal)
