"""The concept lexicon and the analyzer the intent and emotion models read it with."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from bot.nlu.concepts import ConceptAnalyzer, LexiconError, load_lexicon, main


@pytest.fixture(scope="module")
def analyzer() -> ConceptAnalyzer:
    return ConceptAnalyzer()


def test_the_shipped_lexicon_loads_with_string_phrases_only() -> None:
    lexicon = load_lexicon()
    assert len(lexicon) >= 30
    for concept, phrases in lexicon.items():
        assert phrases, concept
        assert all(isinstance(p, str) and p == p.strip().lower() for p in phrases), concept


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("g2g", {"farewell"}),
        ("Howdy!", {"greeting"}),
        ("tysm", {"thanks"}),
        ("nope", {"no_word"}),
        ("I’m going through chemo", {"severe_illness"}),  # typographic apostrophe
        ("i  lost   my job", {"job_loss"}),  # any run of spaces
        ("nobody would miss me", {"crisis"}),
        ("my husband passed away in june", {"bereavement", "family"}),
        ("can i pay by bank transfer", {"pay_methods"}),
        ("yes i saw that meme", {"yes_word", "chatter"}),
    ],
)
def test_phrases_map_to_their_concepts(
    analyzer: ConceptAnalyzer, text: str, expected: set[str]
) -> None:
    assert expected <= set(analyzer.concepts(text))


@pytest.mark.parametrize(
    ("text", "absent"),
    [
        ("this is it", "greeting"),  # "hi" inside "this"
        ("nobody told me", "no_word"),  # "no" inside "nobody"
        ("the 1.2k payment", "yes_word"),  # "k" glued to a number
        ("paid", "pay_full"),
    ],
)
def test_only_whole_words_match(analyzer: ConceptAnalyzer, text: str, absent: str) -> None:
    assert absent not in analyzer.concepts(text)


def test_tokens_include_concept_pairs_and_a_token_for_none(analyzer: ConceptAnalyzer) -> None:
    tokens = analyzer("no thank you")
    assert {"c:no_word", "c:thanks", "c:no_word+thanks"} <= set(tokens)
    assert analyzer("qwzx") == ["c:none"]
    assert analyzer("") == ["c:none"]


def test_a_trained_model_keeps_the_lexicon_it_was_trained_with() -> None:
    analyzer = ConceptAnalyzer({"pets": ["cat", "dog"]})
    restored = pickle.loads(pickle.dumps(analyzer))
    assert restored("my DOG ate it") == ["c:pets"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("yes: [sure]\n", "concept name True"),
        ("agree: [sure, yes]\n", "every entry must be a non-empty string"),
        ("agree: []\n", "non-empty list"),
        ("- just a list\n", "mapping"),
    ],
)
def test_a_malformed_lexicon_is_a_clear_error(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "concepts.yml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(LexiconError, match=message):
        load_lexicon(path)


def test_the_command_line_shows_what_a_message_matches(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["see ya", "qwzx"]) == 0
    out = capsys.readouterr().out
    assert "'see ya': farewell" in out
    assert "'qwzx': (no concept)" in out
    assert main([]) == 2


def test_editing_the_lexicon_retrains_the_components_that_read_it(tmp_path: Path) -> None:
    from bot.nlu import concepts
    from bot.nlu.emotion import EmotionClassifier
    from bot.nlu.linear_intents import LinearIntentBlender

    for component in (LinearIntentBlender, EmotionClassifier):
        assert concepts.LEXICON_PATH in component.fingerprint_files

    lexicon = tmp_path / "concepts.yml"
    lexicon.write_text("pets: [cat]\n", encoding="utf-8")

    class Probe(LinearIntentBlender):
        fingerprint_files = (lexicon,)

    before = Probe.fingerprint_addon({})
    assert Probe.fingerprint_addon({}) == before
    lexicon.write_text("pets: [cat, dog]\n", encoding="utf-8")
    assert Probe.fingerprint_addon({}) != before


@pytest.mark.parametrize(
    ("text", "expected", "absent"),
    [
        ("85 bucks a month", {"figure", "frequency"}, {"lone_digit"}),
        ("$5 now", {"figure"}, {"lone_digit"}),
        ("i can do 1.2k", {"figure"}, set()),
        ("1,200", {"figure"}, {"lone_digit"}),
        ("fifty on friday", {"figure", "date_word"}, set()),
        ("on the 15th", {"day_of_month"}, {"figure", "lone_digit"}),
        ("2", {"lone_digit"}, {"figure"}),
        ("option 3 pls", {"lone_digit", "option_pick"}, set()),
        ("born 03/04/1985", set(), {"figure", "lone_digit"}),
        ("it's 9am", set(), {"lone_digit", "figure"}),
    ],
)
def test_figures_days_and_option_digits_are_recognised_by_shape(
    analyzer: ConceptAnalyzer, text: str, expected: set[str], absent: set[str]
) -> None:
    found = set(analyzer.concepts(text))
    assert expected <= found
    assert not absent & found


def test_the_patterns_are_the_same_in_every_process() -> None:
    # Rasa's training cache keys each NLU component on the saved output of the one before:
    # a pattern whose alternatives came in a set's order (PYTHONHASHSEED) made every new
    # training process miss the cache from ConceptRegexFeaturizer on.
    import os
    import subprocess
    import sys

    script = (
        "import hashlib; from bot.nlu.concepts import ConceptAnalyzer; "
        "print(hashlib.sha256(''.join(p.pattern for p in ConceptAnalyzer().patterns.values())"
        ".encode()).hexdigest())"
    )
    digests = {
        subprocess.run(
            [sys.executable, "-c", script],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for seed in ("1", "2", "3")
    }
    assert len(digests) == 1
