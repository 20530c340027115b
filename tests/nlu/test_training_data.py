"""The training data meets the label contract (../shared/spec/nlu-labels.md) and stays
apart from the held-out set."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from rasa.shared.nlu.training_data.loading import load_data
from rasa.shared.nlu.training_data.training_data import TrainingData

from bench.nlu_inventory import digest, inventory, located_entries, repeated_texts
from bot.settings import PROJECT_ROOT

CONTRACT = PROJECT_ROOT.parent / "shared" / "spec" / "nlu-labels.md"
EMOTIONS = {"angry", "anxious", "sad", "positive", "neutral"}
# The negotiation and hardship intents need more than the minimum (issue: NLU).
RICHER = {
    "offer_payment": 80,
    "ask_installments": 80,
    "ask_deferral": 80,
    "explain_hardship": 80,
    "express_vulnerability": 80,
}


# The 27 intents of the label contract, kept here so the test runs in any checkout; when
# the spec is beside the repository the list is also checked against it.
CONTRACT_INTENTS = {
    "greet", "goodbye", "thank", "affirm", "deny", "inform", "bot_challenge", "out_of_scope",
    "wrong_person", "ask_debt_details", "ask_payment_methods", "ask_consequences",
    "question_legitimacy", "dispute_debt", "already_paid", "request_stop_contact",
    "refuse_to_talk", "request_later", "request_human", "complain", "explain_hardship",
    "express_vulnerability", "ask_installments", "ask_deferral", "ask_settlement",
    "offer_payment", "pay_in_full",
}  # fmt: skip


def contract_intents() -> set[str]:
    if CONTRACT.exists():
        text = CONTRACT.read_text(encoding="utf-8")
        section = text.split("## Intents", 1)[1].split("## Entities", 1)[0]
        listed = set(re.findall(r"^\| ([a-z_]+) \|", section, flags=re.MULTILINE)) - {"intent"}
        assert listed == CONTRACT_INTENTS, listed ^ CONTRACT_INTENTS
    return CONTRACT_INTENTS


@pytest.fixture(scope="module")
def training() -> TrainingData:
    return load_data(str(PROJECT_ROOT / "data" / "nlu"))


def normalised(text: str) -> str:
    return " ".join(text.lower().split())


def test_every_contract_intent_has_enough_varied_examples(training: TrainingData) -> None:
    counts = Counter(m.get("intent") for m in training.intent_examples)
    intents = contract_intents()
    assert len(intents) == 27
    short = {
        intent: counts[intent] for intent in intents if counts[intent] < RICHER.get(intent, 40)
    }
    assert not short, f"intents below their minimum number of examples: {short}"


def test_every_example_carries_one_contract_emotion(training: TrainingData) -> None:
    from bot.nlu.emotion import emotion_label

    labels = Counter(emotion_label(m) for m in training.intent_examples)
    assert set(labels) <= EMOTIONS, set(labels) - EMOTIONS
    assert None not in labels
    # Every emotion is learnt from a real share of the data, not a handful of examples.
    assert min(labels[e] for e in EMOTIONS) >= 150, labels


def test_no_text_is_written_twice() -> None:
    # Read file by file before Rasa drops identical copies: a text written twice with the
    # same label is as much a slip as one written with two labels.
    repeated = repeated_texts(located_entries(PROJECT_ROOT / "data"))
    described = {
        text: [f"{p.entry.name}/{p.entry.emotion} in {p.source}" for p in places]
        for text, places in repeated.items()
    }
    assert not described, f"{len(described)} texts occur more than once: {described}"


def test_each_intent_lives_in_one_topic_file() -> None:
    # docs/trainers.md names the file of every intent; only inform is split (dates of
    # birth in identity.yml, other facts in finances.yml).
    files: dict[str, set[str]] = {}
    for located in located_entries(PROJECT_ROOT / "data"):
        if located.entry.kind == "example":
            files.setdefault(located.entry.name, set()).add(located.source)
    assert files.pop("inform") == {"nlu/identity.yml", "nlu/finances.yml"}
    scattered = {intent: sorted(found) for intent, found in files.items() if len(found) > 1}
    assert not scattered, scattered


NLU_A = """version: "3.1"
nlu:
- intent: greet
  metadata:
    emotion: neutral
  examples: |
    - hi
    - Hello  there
- intent: greet
  metadata:
    emotion: positive
  examples: |
    - hi! 🙂
- lookup: names
  examples: |
    - ann
"""

NLU_B = """version: "3.1"
nlu:
- intent: greet
  metadata:
    emotion: neutral
  examples: |
    - hello there
"""


def test_the_inventory_finds_identical_copies_across_files(tmp_path: Path) -> None:
    (tmp_path / "nlu").mkdir()
    (tmp_path / "nlu" / "a.yml").write_text(NLU_A, encoding="utf-8")
    (tmp_path / "nlu" / "b.yml").write_text(NLU_B, encoding="utf-8")
    (tmp_path / "stories.yml").write_text('version: "3.1"\nstories: []\n', encoding="utf-8")

    repeated = repeated_texts(located_entries(tmp_path))

    assert list(repeated) == ["hello there"]
    assert sorted(p.source for p in repeated["hello there"]) == ["nlu/a.yml", "nlu/b.yml"]


def test_the_inventory_ignores_which_file_and_block_an_example_sits_in(
    tmp_path: Path,
) -> None:
    split, merged = tmp_path / "split", tmp_path / "merged"
    (split / "nlu").mkdir(parents=True)
    merged.mkdir()
    (split / "nlu" / "a.yml").write_text(NLU_A, encoding="utf-8")
    (split / "nlu" / "b.yml").write_text(NLU_B.replace("hello there", "hey"), encoding="utf-8")
    together = NLU_A.replace("    - hi\n", "    - hey\n    - hi\n", 1)
    (merged / "all.yml").write_text(together, encoding="utf-8")

    before, after = inventory(located_entries(split)), inventory(located_entries(merged))

    assert before == after
    assert digest(before) == digest(after)
    assert sum(before.values()) == 5  # four examples and one lookup element
    emotions = {e.text: e.emotion for e in before if e.kind == "example"}
    assert emotions == {"hi": "neutral", "Hello  there": "neutral", "hey": "neutral",
                        "hi! 🙂": "positive"}  # fmt: skip


def test_the_inventory_tells_a_relabelled_example_apart(tmp_path: Path) -> None:
    (tmp_path / "a.yml").write_text(NLU_A, encoding="utf-8")
    before = digest(inventory(located_entries(tmp_path)))
    (tmp_path / "a.yml").write_text(NLU_A.replace("positive", "anxious"), encoding="utf-8")

    assert digest(inventory(located_entries(tmp_path))) != before


def test_most_held_out_messages_are_unseen_in_training(training: TrainingData) -> None:
    # Short common messages ("yes", "stop") and the contract's own examples occur in both;
    # `make crossval` skips those. What remains must be enough to measure anything.
    holdout = load_data(str(Path(__file__).parent / "holdout.yml"))
    trained = {normalised(m.get("text")) for m in training.intent_examples}
    unseen = [m for m in holdout.intent_examples if normalised(m.get("text")) not in trained]
    assert len(unseen) >= 350, f"only {len(unseen)} held-out messages are not in the training data"
    assert {m.get("intent") for m in unseen} >= contract_intents() - {"inform"}


def test_evaluation_and_development_sets_share_no_text_with_training(
    training: TrainingData,
) -> None:
    # The frozen sets are never trained or tuned on; the safety and everyday development sets
    # are tuned on (bench/intent_loop.py, bench/dev_sets.py) but never trained on, or their
    # scores would flatter the model.
    trained = {normalised(m.get("text")) for m in training.intent_examples}
    here = Path(__file__).parent
    development = sorted(here.glob("*_dev*.yml"))
    assert len(development) >= 5, development
    for path in [*development, *sorted((here / "frozen").glob("*.yml"))]:
        texts = [normalised(m.get("text")) for m in load_data(str(path)).intent_examples]
        assert len(texts) >= 100, path
        assert not trained & set(texts), (path.name, sorted(trained & set(texts))[:5])


def test_frozen_sets_share_no_text_with_the_development_sets() -> None:
    # A message that is also in a set tuned on (the holdout, the safety, everyday and
    # texting development sets) would have steered choices before it was scored "unseen".
    here = Path(__file__).parent
    tuned = {
        normalised(m.get("text"))
        for path in [here / "holdout.yml", *sorted(here.glob("*_dev*.yml"))]
        for m in load_data(str(path)).intent_examples
    }
    for path in sorted((here / "frozen").glob("*.yml")):
        texts = {normalised(m.get("text")) for m in load_data(str(path)).intent_examples}
        assert not tuned & texts, (path.name, sorted(tuned & texts)[:5])
