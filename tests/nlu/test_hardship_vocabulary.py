"""One hardship vocabulary: the entity's phrases (bot/nlu/normalize/hardship.py) feed the
concept lexicon, crisis phrases stay with the crisis concepts, nothing is listed twice."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bench.nlu_inventory import located_entries
from bot.nlu import concepts
from bot.nlu.concepts import CRISIS_CONCEPTS, HARDSHIP_CONCEPTS, ConceptAnalyzer, load_lexicon
from bot.nlu.normalize import HARDSHIP_KINDS, HARDSHIP_PHRASES, parse_hardship
from bot.nlu.normalize.hardship import CRISIS_PHRASES
from bot.settings import PROJECT_ROOT

ALL_PHRASES = {phrase for phrases in HARDSHIP_PHRASES.values() for phrase in phrases}


@pytest.fixture(scope="module")
def analyzer() -> ConceptAnalyzer:
    return ConceptAnalyzer()


def test_the_hardship_concepts_are_hardship_kinds() -> None:
    assert set(HARDSHIP_CONCEPTS) <= set(HARDSHIP_KINDS)
    assert set(HARDSHIP_CONCEPTS) | set(CRISIS_CONCEPTS) <= set(load_lexicon())


@pytest.mark.parametrize("kind", HARDSHIP_CONCEPTS)
def test_every_ordinary_hardship_phrase_marks_its_concept(
    analyzer: ConceptAnalyzer, kind: str
) -> None:
    missed = [
        phrase
        for phrase in HARDSHIP_PHRASES[kind]
        if phrase not in CRISIS_PHRASES and kind not in analyzer.concepts(phrase)
    ]
    assert not missed, missed


def test_crisis_phrases_are_hardship_phrases_and_stay_out_of_the_ordinary_concepts() -> None:
    assert CRISIS_PHRASES <= ALL_PHRASES, CRISIS_PHRASES - ALL_PHRASES
    lexicon = load_lexicon()
    leaked = {
        kind: sorted(CRISIS_PHRASES & set(lexicon[kind]))
        for kind in HARDSHIP_CONCEPTS
        if CRISIS_PHRASES & set(lexicon[kind])
    }
    assert not leaked, leaked


def test_every_entity_phrase_a_crisis_concept_matches_is_a_crisis_phrase(
    analyzer: ConceptAnalyzer,
) -> None:
    unmarked = sorted(
        phrase
        for phrase in ALL_PHRASES - CRISIS_PHRASES
        if set(analyzer.concepts(phrase)) & set(CRISIS_CONCEPTS)
    )
    assert not unmarked, f"add these to CRISIS_PHRASES: {unmarked}"


@pytest.mark.parametrize(
    ("text", "present", "absent"),
    [
        ("got laid off in may", "job_loss", None),
        ("my husband lost his job", "job_loss", None),  # from the entity's templates
        ("they cut our hours", "reduced_income", None),
        ("going through chemo", "severe_illness", "illness"),
        ("my dad died last month", "bereavement", None),
        ("fighting for custody", "family", None),
    ],
)
def test_concepts_of_hardship_messages(
    analyzer: ConceptAnalyzer, text: str, present: str, absent: str | None
) -> None:
    found = analyzer.concepts(text)
    assert present in found
    assert absent is None or absent not in found
    assert parse_hardship(text) is not None


def test_concepts_yml_does_not_repeat_an_entity_phrase() -> None:
    raw = yaml.safe_load(concepts.LEXICON_PATH.read_text(encoding="utf-8"))
    repeated = {
        kind: sorted(set(raw[kind]) & set(concepts.hardship_phrases_for(kind)))
        for kind in HARDSHIP_CONCEPTS
    }
    assert not any(repeated.values()), repeated


def test_the_hardship_vocabulary_is_part_of_the_models_fingerprint() -> None:
    assert Path(concepts.hardship.__file__).resolve() in {p.resolve() for p in concepts.FILES}


def test_the_training_data_keeps_no_lookup_of_hardship_words() -> None:
    # A lookup table would be a third copy of the vocabulary; DIET sees the concepts.
    restated = [
        (located.entry.name, located.entry.text)
        for located in located_entries(PROJECT_ROOT / "data")
        if located.entry.kind == "lookup" and located.entry.text.lower() in ALL_PHRASES
    ]
    assert not restated, restated
