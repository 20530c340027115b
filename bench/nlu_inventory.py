"""What the training data holds, as a multiset, so a reorganisation can prove it lost nothing.

Every NLU item of every YAML file under `data/` is read with Rasa's own YAML reader, before
Rasa drops repeated examples: one entry per example (text, intent, emotion, entity
annotations, any other metadata), per lookup-table element, per regex and per synonym.
Which file or block an entry sits in is not part of it, so moving examples between files
or merging blocks keeps the multiset (and its hash) unchanged.

    .venv/bin/python -m bench.nlu_inventory                 # the working tree
    .venv/bin/python -m bench.nlu_inventory --rev HEAD~1    # data/ as committed there
    .venv/bin/python -m bench.nlu_inventory --duplicates    # texts written more than once

`tests/nlu/test_training_data.py` uses :func:`repeated_texts` to keep every text unique.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.settings import PROJECT_ROOT

DATA_DIR = PROJECT_ROOT / "data"
NLU_DIR = DATA_DIR / "nlu"


@dataclass(frozen=True, order=True)
class Entry:
    """One element of the training data, independent of where it is written."""

    kind: str  # "example", "lookup", "regex" or "synonym"
    name: str  # the intent, lookup table, regex or synonym value
    text: str
    emotion: str = ""
    entities: str = ""  # canonical JSON of the entity annotations
    metadata: str = ""  # canonical JSON of any metadata besides the emotion

    def canonical(self) -> str:
        return json.dumps(
            [self.kind, self.name, self.text, self.emotion, self.entities, self.metadata],
            ensure_ascii=False,
        )


@dataclass(frozen=True)
class Located:
    entry: Entry
    source: str  # file path relative to the data directory


def _canonical_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True) if value else ""


def _without_emotion(metadata: dict[str, Any]) -> dict[str, Any]:
    rest: dict[str, Any] = {}
    for level, value in metadata.items():
        if isinstance(value, dict):
            value = {k: v for k, v in value.items() if k != "emotion"}
        if value:
            rest[level] = value
    return rest


def read_file(text: str, source: str) -> Iterator[Located]:
    """The entries of one YAML file (nothing for files without an `nlu` key)."""
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader
    from rasa.shared.utils.io import read_yaml

    from bot.nlu.emotion import emotion_label

    content = read_yaml(text)
    if not isinstance(content, dict) or not content.get("nlu"):
        return
    reader = RasaYAMLReader()
    reader.reads(text)
    for message in reader.training_examples:
        entities = [
            {
                k: e[k]
                for k in sorted(e)
                if k in {"start", "end", "value", "entity", "role", "group"}
            }
            for e in message.get("entities") or []
        ]
        yield Located(
            Entry(
                kind="example",
                name=str(message.get("intent")),
                text=str(message.get("text")),
                emotion=emotion_label(message) or "",
                entities=_canonical_json(entities),
                metadata=_canonical_json(_without_emotion(message.get("metadata") or {})),
            ),
            source,
        )
    for table in reader.lookup_tables:
        for element in table["elements"]:
            yield Located(Entry("lookup", table["name"], str(element)), source)
    for regex in reader.regex_features:
        yield Located(Entry("regex", regex["name"], regex["pattern"]), source)
    for text_value, value in reader.entity_synonyms.items():
        yield Located(Entry("synonym", str(value), str(text_value)), source)


def _yaml_files_on_disk(data_dir: Path) -> Iterator[tuple[str, str]]:
    for path in sorted(data_dir.rglob("*")):
        if path.suffix in {".yml", ".yaml"} and path.is_file():
            yield str(path.relative_to(data_dir)), path.read_text(encoding="utf-8")


def _yaml_files_at(rev: str, data_dir: Path) -> Iterator[tuple[str, str]]:
    relative = data_dir.relative_to(PROJECT_ROOT).as_posix()

    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", *args], cwd=PROJECT_ROOT, capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise SystemExit(f"git {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout

    for name in sorted(git("ls-tree", "-r", "--name-only", rev, "--", relative).splitlines()):
        if name.endswith((".yml", ".yaml")):
            yield name[len(relative) + 1 :], git("show", f"{rev}:{name}")


def located_entries(data_dir: Path = DATA_DIR, rev: str | None = None) -> list[Located]:
    """Every entry of the YAML files under `data_dir` (at git revision `rev` if given)."""
    files = _yaml_files_at(rev, data_dir) if rev else _yaml_files_on_disk(data_dir)
    return [located for source, text in files for located in read_file(text, source)]


def inventory(entries: Iterable[Located]) -> Counter[Entry]:
    return Counter(located.entry for located in entries)


def digest(multiset: Counter[Entry]) -> str:
    """sha256 over the sorted entries, one canonical JSON line each (repeats included)."""
    lines = sorted(entry.canonical() for entry in multiset.elements())
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


def normalised(text: str) -> str:
    """How two texts are compared for repetition: case and whitespace ignored."""
    return " ".join(text.lower().split())


def repeated_texts(entries: Iterable[Located]) -> dict[str, list[Located]]:
    """Example texts written more than once (normalised), with every place they occur."""
    places: dict[str, list[Located]] = defaultdict(list)
    for located in entries:
        if located.entry.kind == "example":
            places[normalised(located.entry.text)].append(located)
    return {text: found for text, found in places.items() if len(found) > 1}


def summary(entries: Sequence[Located]) -> dict[str, Any]:
    multiset = inventory(entries)
    kinds = Counter(entry.kind for entry in multiset.elements())
    return {
        "entries": sum(multiset.values()),
        "by_kind": dict(sorted(kinds.items())),
        "files": len({located.source for located in entries}),
        "sha256": digest(multiset),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.nlu_inventory",
        description="Count and hash the multiset of NLU training entries under data/.",
    )
    parser.add_argument("--rev", help="read data/ as committed at this git revision")
    parser.add_argument("--data", type=Path, default=DATA_DIR, help="data directory")
    parser.add_argument(
        "--duplicates", action="store_true", help="list example texts written more than once"
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = parser.parse_args(argv)

    entries = located_entries(args.data.resolve(), args.rev)
    info = summary(entries)
    if args.json:
        print(json.dumps(info, indent=2))
    else:
        where = f"data/ at {args.rev}" if args.rev else str(args.data)
        kinds = ", ".join(f"{n} {kind}" for kind, n in info["by_kind"].items())
        print(f"{where}: {info['entries']} entries ({kinds}) in {info['files']} files")
        print(f"sha256 {info['sha256']}")
    if args.duplicates:
        repeated = repeated_texts(entries)
        for text, found in sorted(repeated.items()):
            labels = "; ".join(f"{p.entry.name}/{p.entry.emotion} in {p.source}" for p in found)
            print(f"{text!r}: {labels}")
        print(f"{len(repeated)} texts written more than once")
    return 0


if __name__ == "__main__":
    sys.exit(main())
