"""The entity-ruler pipeline: build, save, load (plainly and through Rasa), and label."""

from __future__ import annotations

import random
import subprocess
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import spacy
from spacy.language import Language

from bot.nlu.normalize import (
    HARDSHIP_PHRASES,
    parse_amount,
    parse_date,
    parse_duration_days,
    parse_frequency,
    parse_hardship,
)
from bot.nlu.spacy_pipeline import (
    LABELS,
    RULER_SKIPS_PHRASES,
    build,
    build_pipeline,
    patterns,
)

REPO = Path(__file__).resolve().parents[2]
TODAY = date(2026, 11, 28)  # a Saturday

NORMALISERS: dict[str, Callable[[str], Any]] = {
    "amount": lambda text: None if (v := parse_amount(text)) is None else str(v),
    "date": lambda text: None if (v := parse_date(text, TODAY)) is None else v.isoformat(),
    "frequency": parse_frequency,
    "duration": parse_duration_days,
    "hardship": parse_hardship,
}


@pytest.fixture(scope="module")
def pipeline_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("spacy") / "parley_entities")


@pytest.fixture(scope="module")
def nlp(pipeline_dir: Path) -> Language:
    """The pipeline as Rasa gets it: loaded from disk, not the object that was built."""
    return spacy.load(pipeline_dir)


def entities(nlp: Language, text: str) -> list[tuple[str, str, Any]]:
    return [(e.label_, e.text, NORMALISERS[e.label_](e.text)) for e in nlp(text).ents]


# ---------------------------------------------------------------------------
# Building and saving
# ---------------------------------------------------------------------------


def test_build_pipeline_is_blank_english_plus_ruler() -> None:
    nlp = build_pipeline()
    assert nlp.lang == "en"
    assert nlp.pipe_names == ["entity_ruler"]
    ruler = nlp.get_pipe("entity_ruler")
    assert (
        set(ruler.labels) == set(LABELS) == {"amount", "date", "frequency", "duration", "hardship"}
    )
    assert ruler.overwrite is True  # type: ignore[attr-defined]
    assert nlp.get_pipe_config("entity_ruler")["phrase_matcher_attr"] == "LOWER"


def test_patterns_use_lower_regex_like_num_and_is_digit() -> None:
    keys = set()
    for pattern in patterns():
        if isinstance(pattern["pattern"], list):
            for token in pattern["pattern"]:
                keys.update(token)
    assert {"LOWER", "LIKE_NUM", "IS_DIGIT"} <= keys
    assert any(
        isinstance(t.get("LOWER"), dict) and "REGEX" in t["LOWER"]
        for p in patterns()
        if isinstance(p["pattern"], list)
        for t in p["pattern"]
    )
    assert any(isinstance(p["pattern"], str) for p in patterns())  # phrase patterns too


def test_build_writes_only_the_pipeline(pipeline_dir: Path) -> None:
    assert sorted(p.name for p in pipeline_dir.iterdir()) == [
        "config.cfg",
        "entity_ruler",
        "meta.json",
        "tokenizer",
        "vocab",
    ]


def _snapshot(path: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()
    }


def test_build_is_idempotent(tmp_path: Path) -> None:
    target = tmp_path / "model"
    assert build(target) == target
    first = _snapshot(target)
    (target / "leftover.txt").write_text("from an older build")
    build(str(target))  # a str path works too
    assert _snapshot(target) == first  # wiped and rewritten, identically


def test_build_refuses_to_wipe_unrelated_directories(tmp_path: Path) -> None:
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me")
    with pytest.raises(ValueError, match="not a spaCy pipeline"):
        build(precious)
    assert (precious / "notes.txt").read_text() == "keep me"
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(ValueError, match="not a directory"):
        build(a_file)


def test_build_into_existing_empty_directory(tmp_path: Path) -> None:
    build(tmp_path)
    assert (tmp_path / "config.cfg").is_file()


def test_command_line(tmp_path: Path) -> None:
    target = tmp_path / "cli_model"
    result = subprocess.run(
        [sys.executable, "-m", "bot.nlu.spacy_pipeline", str(target)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    assert str(target.resolve()) in lines[0]
    assert spacy.load(target).pipe_names == ["entity_ruler"]


def test_command_line_error(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("keep me")
    result = subprocess.run(
        [sys.executable, "-m", "bot.nlu.spacy_pipeline", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 2
    assert "not a spaCy pipeline" in result.stderr
    assert (tmp_path / "notes.txt").exists()


def test_loaded_pipeline_keeps_the_phone_tokenizer_rule(nlp: Language) -> None:
    assert [t.text for t in nlp("call 555-123-4567 now")] == ["call", "555-123-4567", "now"]
    # Dashed dates still split, so the date patterns see their parts.
    assert [t.text for t in nlp("03-04-85")] == ["03", "-", "04", "-", "85"]


# ---------------------------------------------------------------------------
# Labelling: spans and their normalised values
# ---------------------------------------------------------------------------

A, D, F, U, H = "amount", "date", "frequency", "duration", "hardship"

EXAMPLES: list[tuple[str, list[tuple[str, str, Any]]]] = [
    # Amounts.
    ("$50", [(A, "$50", "50.00")]),
    ("50 bucks", [(A, "50 bucks", "50.00")]),
    ("fifty dollars", [(A, "fifty dollars", "50.00")]),
    ("1.2k", [(A, "1.2k", "1200.00")]),
    ("2K", [(A, "2K", "2000.00")]),  # spaCy splits a capital K off; still one amount
    ("$1.5K", [(A, "$1.5K", "1500.00")]),
    ("£40", [(A, "£40", "40.00")]),
    ("€20", [(A, "€20", "20.00")]),
    ("40 quid", [(A, "40 quid", "40.00")]),
    ("75 cents", [(A, "75 cents", "0.75")]),
    ("50p", [(A, "50p", "0.50")]),
    ("$1,234.56", [(A, "$1,234.56", "1234.56")]),
    ("i can pay 50", [(A, "50", "50.00")]),
    ("about 1800", [(A, "1800", "1800.00")]),
    ("like 2 grand", [(A, "2 grand", "2000.00")]),
    ("a hundred and fifty", [(A, "a hundred and fifty", "150.00")]),
    ("rent is like 1.2k", [(A, "1.2k", "1200.00")]),
    # Amount with frequency or date.
    ("I can do 50 a month", [(A, "50", "50.00"), (F, "a month", "monthly")]),
    ("100 on friday", [(A, "100", "100.00"), (D, "on friday", "2026-12-04")]),
    ("two hundred fifty a month", [(A, "two hundred fifty", "250.00"), (F, "a month", "monthly")]),
    ("i can do twenty five a week", [(A, "twenty five", "25.00"), (F, "a week", "weekly")]),
    (
        "i make about 1800 a month after tax",
        [(A, "1800", "1800.00"), (F, "a month", "monthly")],
    ),
    ("i get 1,234.56 per month", [(A, "1,234.56", "1234.56"), (F, "per month", "monthly")]),
    ("50/mo", [(A, "50", "50.00"), (F, "/mo", "monthly")]),
    ("i can pay 20 weekly", [(A, "20", "20.00"), (F, "weekly", "weekly")]),
    (
        "i can do 40 quid every fortnight",
        [(A, "40 quid", "40.00"), (F, "every fortnight", "biweekly")],
    ),
    (
        "i can pay 200 bi-weekly starting the 1st of next month",
        [
            (A, "200", "200.00"),
            (F, "bi-weekly", "biweekly"),
            (D, "the 1st of next month", "2026-12-01"),
        ],
    ),
    (
        "can i pay 75 dollars on friday at 5pm",
        [(A, "75 dollars", "75.00"), (D, "on friday at 5pm", "2026-12-04")],
    ),
    (
        "in 2 weeks i can send 2 grand",
        [(D, "in 2 weeks", "2026-12-12"), (A, "2 grand", "2000.00")],
    ),
    ("Can I pay $50 Next Friday?", [(A, "$50", "50.00"), (D, "Next Friday", "2026-12-04")]),
    (
        "i can pay 100 now and 100 on the 15th",
        [(A, "100", "100.00"), (A, "100", "100.00"), (D, "the 15th", "2026-12-15")],
    ),
    # Dates: numbers in them are never amounts.
    ("the 15th", [(D, "the 15th", "2026-12-15")]),
    ("on the 15 i can pay", [(D, "on the 15", "2026-12-15")]),
    ("next friday", [(D, "next friday", "2026-12-04")]),
    ("tmrw", [(D, "tmrw", "2026-11-29")]),
    ("tomorrow at 10am", [(D, "tomorrow at 10am", "2026-11-29")]),
    ("the day after tomorrow", [(D, "the day after tomorrow", "2026-11-30")]),
    ("yesterday", [(D, "yesterday", "2026-11-27")]),
    ("friday after next", [(D, "friday after next", "2026-12-11")]),
    ("on sat", [(D, "on sat", "2026-11-28")]),
    ("this weekend", [(D, "this weekend", "2026-11-28")]),
    ("next week", [(D, "next week", "2026-11-30")]),
    ("end of the month", [(D, "end of the month", "2026-11-30")]),
    ("in a month", [(D, "in a month", "2026-12-28")]),
    ("2 weeks ago", [(D, "2 weeks ago", "2026-11-14")]),
    ("at 5pm", [(D, "at 5pm", "2026-11-28")]),
    ("03/04/1985", [(D, "03/04/1985", "1985-03-04")]),
    ("march 3 1985", [(D, "march 3 1985", "1985-03-03")]),
    ("march 3, 1985", [(D, "march 3, 1985", "1985-03-03")]),
    ("the 3rd of march", [(D, "the 3rd of march", "2027-03-03")]),
    ("dob 12 july 1990", [(D, "12 july 1990", "1990-07-12")]),
    ("1985-03-04", [(D, "1985-03-04", "1985-03-04")]),
    ("03-04-85", [(D, "03-04-85", "1985-03-04")]),
    ("born on 7.8.1979", [(D, "7.8.1979", "1979-07-08")]),
    ("25/12/1990", [(D, "25/12/1990", "1990-12-25")]),
    ("3/4", [(D, "3/4", "2027-03-04")]),
    # Frequencies.
    ("every 2 weeks", [(F, "every 2 weeks", "biweekly")]),
    ("biweekly", [(F, "biweekly", "biweekly")]),
    ("every other week", [(F, "every other week", "biweekly")]),
    ("twice a month", [(F, "twice a month", "biweekly")]),
    # Durations.
    ("3 months", [(U, "3 months", 90)]),
    ("two weeks", [(U, "two weeks", 14)]),
    ("a couple of weeks", [(U, "a couple of weeks", 14)]),
    ("6 wks", [(U, "6 wks", 42)]),
    ("1 year", [(U, "1 year", 365)]),
    ("10 days", [(U, "10 days", 10)]),
    ("a few days", [(U, "a few days", 3)]),
    ("for a week", [(U, "for a week", 7)]),
    # Hardship.
    ("lost my job", [(H, "lost my job", "job_loss")]),
    ("I LOST MY JOB LAST MONTH", [(H, "LOST MY JOB", "job_loss")]),
    ("hours got cut", [(H, "hours got cut", "reduced_income")]),
    ("in the hospital", [(H, "in the hospital", "illness")]),
    (
        "i was in the hospital for a month",
        [(H, "in the hospital", "illness"), (U, "for a month", 30)],
    ),
    (
        "my hours got cut so only part time now",
        [(H, "hours got cut", "reduced_income"), (H, "only part time now", "reduced_income")],
    ),
    ("i have 2 kids and i make 1800", [(H, "2 kids", "family"), (A, "1800", "1800.00")]),
    (
        "i got laid off 3 months ago",
        [(H, "got laid off", "job_loss"), (D, "3 months ago", "2026-08-28")],
    ),
    ("my mom passed away", [(H, "my mom passed away", "family")]),
    ("car broke down", [(H, "car broke down", "other")]),
    ("business is slow", [(H, "business is slow", "reduced_income")]),
    ("i was sick", [(H, "was sick", "illness")]),
    # Nothing to label.
    ("call me at 555-123-4567", []),
    ("sick of this", []),
    ("hello who is this", []),
    ("after payday", []),
    ("", []),
]


@pytest.mark.parametrize(("text", "expected"), EXAMPLES, ids=[t or "<empty>" for t, _ in EXAMPLES])
def test_examples(nlp: Language, text: str, expected: list[tuple[str, str, Any]]) -> None:
    assert entities(nlp, text) == expected


@pytest.mark.parametrize(("text", "expected"), EXAMPLES, ids=[t or "<empty>" for t, _ in EXAMPLES])
def test_case_does_not_matter(
    nlp: Language, text: str, expected: list[tuple[str, str, Any]]
) -> None:
    # Rasa's SpacyNLP lower-cases by default; people also type in capitals.
    for variant in (text.lower(), text.upper()):
        got = [(label, value) for label, _, value in entities(nlp, variant)]
        assert got == [(label, value) for label, _, value in expected]


def test_ent_ids_carry_the_normalised_kind(nlp: Language) -> None:
    doc = nlp("lost my job, hours got cut, 2 kids. i can pay 20 a week or every other week")
    seen = {(e.label_, e.ent_id_) for e in doc.ents}
    assert {(H, "job_loss"), (H, "reduced_income"), (H, "family")} <= seen
    assert {(F, "weekly"), (F, "biweekly")} <= seen
    for ent in doc.ents:
        if ent.label_ == H:
            assert ent.ent_id_ == parse_hardship(ent.text)
        if ent.label_ == F:
            assert ent.ent_id_ == parse_frequency(ent.text)


@pytest.mark.parametrize(
    ("kind", "phrase"),
    [
        (kind, phrase)
        for kind, phrases in HARDSHIP_PHRASES.items()
        for phrase in phrases
        if phrase not in RULER_SKIPS_PHRASES
    ],
)
def test_every_hardship_phrase_is_labelled(nlp: Language, kind: str, phrase: str) -> None:
    ents = [(e.label_, e.ent_id_, parse_hardship(e.text)) for e in nlp(phrase).ents]
    assert ents and all(e == (H, kind, kind) for e in ents), ents


# Words that build every kind of span, glued at random: whatever the ruler labels in such
# word salad must still normalise, not just the hand-picked examples above.
_SALAD_TEXT = (
    "i can pay do 50 $ £ € 1.2k 2k 1,234.56 fifty twenty five hundred and a an couple grand "
    "thousand bucks dollars quid cents 75 100 1800 on the 15th 3rd 1st of next this month week "
    "weeks months days year every other 2 two biweekly bi - weekly monthly per / mo fortnight "
    "twice friday fri sat next last tmrw tomorrow today end march 3 1985 , 03/04/1985 7.8.1979 "
    "03 04 85 in ago from now at 5 pm 5:30 lost my job hours got cut sick of hospital kids for "
    "about few half 12 july 1990 by until weekend eom 31st 30th 2024 june may 0 ~50 50ish 50p "
    "00 99 999 13 32 2/30 13/13 12.5 1.234 10000001 99999999 0th 32nd feb 13:00 25:00 13:00pm "
    "2/29/2027 02-29-2027 feb 29 2027 31st april every weds 1.2K 2K tues thurs"
)
_SALAD = _SALAD_TEXT.split()


def test_every_labelled_span_normalises(nlp: Language) -> None:
    rnd = random.Random(20261128)
    failures = []
    labelled = 0
    for _ in range(3000):
        text = " ".join(rnd.choice(_SALAD) for _ in range(rnd.randint(1, 8)))
        for ent in nlp(text).ents:
            labelled += 1
            if NORMALISERS[ent.label_](ent.text) is None:
                failures.append((ent.label_, ent.text, text))
    assert labelled > 3000
    assert failures == []


def test_every_example_span_normalises(nlp: Language) -> None:
    for text, _ in EXAMPLES:
        for ent in nlp(text).ents:
            assert NORMALISERS[ent.label_](ent.text) is not None, (text, ent.text)


@pytest.mark.parametrize(
    "text",
    [
        "march 3 1985",
        "3/4/1985",
        "03-04-85",
        "the 15th",
        "3 months",
        "2 weeks ago",
        "at 5pm",
        "2/29",
    ],
)
def test_numbers_inside_dates_and_durations_are_not_amounts(nlp: Language, text: str) -> None:
    assert [e.label_ for e in nlp(text).ents if e.label_ == A] == []


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("2/29/2028", "2028-02-29"),
        ("29/02/2028", "2028-02-29"),
        ("02-29-2028", "2028-02-29"),
        ("2028-02-29", "2028-02-29"),
        ("feb 29 2028", "2028-02-29"),
        ("feb 29", "2028-02-29"),  # the next leap day
        ("2/29/00", "2000-02-29"),
        ("12/31/2026", "2026-12-31"),
        ("31-12-1990", "1990-12-31"),
        ("12.25.1990", "1990-12-25"),
        ("1985/03/04", "1985-03-04"),
        ("april 30 1990", "1990-04-30"),
    ],
)
def test_valid_calendar_dates_are_labelled(nlp: Language, text: str, iso: str) -> None:
    assert entities(nlp, text) == [(D, text, iso)]


@pytest.mark.parametrize(
    "text",
    ["9/31/2027", "2/29/2027", "29/02/2027", "02-29-2027", "2027-02-29", "2/30", "13/13/2020",
     "feb 30", "feb 29 2027", "april 31 1990", "31-04-1990", "00/00/0000"],
)  # fmt: skip
def test_impossible_calendar_dates_are_not_labelled_whole(nlp: Language, text: str) -> None:
    assert all(ent.text != text for ent in nlp(text).ents)
    for ent in nlp(text).ents:
        assert NORMALISERS[ent.label_](ent.text) is not None


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "😀" * 50,
        "\x00\x01\x02\x1b",
        "\u200b\u202e",
        "Привет 日本語 مرحبا",
        "x" * 5000,
        "50 " * 1666,
        "4111 1111 1111 1111 " * 250,
        "i can pay 50 a month starting the 15th " * 125,
    ],
    ids=lambda s: repr(s[:12]),
)
def test_untrusted_input(nlp: Language, text: str) -> None:
    # Must not raise, and labels only what a normaliser reads. (Not timed: no wall clock
    # in `make test`; counting Python steps says nothing here, spaCy's work is in C and
    # its tokenizer caches what it saw.)
    doc = nlp(text)
    for ent in doc.ents:
        assert ent.label_ in NORMALISERS


# ---------------------------------------------------------------------------
# Rasa
# ---------------------------------------------------------------------------


@pytest.mark.slow
def test_rasa_spacy_nlp_loads_the_directory(pipeline_dir: Path, tmp_path: Path) -> None:
    """Rasa 3.6's SpacyNLP takes `model: <path>`; its extractor reports the ruler's spans."""
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.nlu.extractors.spacy_entity_extractor import SpacyEntityExtractor
    from rasa.nlu.tokenizers.spacy_tokenizer import SpacyTokenizer
    from rasa.nlu.utils.spacy_utils import SpacyNLP
    from rasa.shared.nlu.training_data.message import Message

    loaded = SpacyNLP.load_model(str(pipeline_dir))
    SpacyNLP.ensure_proper_language_model(loaded.model)  # raises if it is an unusable stub
    assert loaded.model.pipe_names == ["entity_ruler"]

    storage = LocalModelStorage(tmp_path)
    context = ExecutionContext(GraphSchema({}), "test")
    spacy_nlp = SpacyNLP.create(
        {**SpacyNLP.get_default_config(), "model": str(pipeline_dir)},
        storage,
        Resource("nlp"),
        context,
    )
    tokenizer = SpacyTokenizer.create(
        SpacyTokenizer.get_default_config(), storage, Resource("tok"), context
    )
    extractor = SpacyEntityExtractor.create(
        SpacyEntityExtractor.get_default_config(), storage, Resource("ext"), context
    )
    messages = [
        Message.build(text="I can do $50 a month starting Next Friday"),
        Message.build(text="I LOST MY JOB 3 months ago"),
        Message.build(text="call 555-123-4567"),
    ]
    model = spacy_nlp.provide()
    spacy_nlp.process(messages, model)
    tokenizer.process(messages)
    extractor.process(messages, model)
    found = [
        [(e["entity"], e["value"], NORMALISERS[e["entity"]](e["value"])) for e in m.get("entities")]
        for m in messages
    ]
    assert found == [
        [(A, "$50", "50.00"), (F, "a month", "monthly"), (D, "Next Friday", "2026-12-04")],
        [(H, "LOST MY JOB", "job_loss"), (D, "3 months ago", "2026-08-28")],
        [],
    ]
