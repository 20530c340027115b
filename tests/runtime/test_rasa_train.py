"""bot.runtime.rasa_train: a response change is kept out of the NLU's cache keys, and only
when no component of the pipeline learns from responses."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.runtime import rasa_train
from bot.settings import PROJECT_ROOT


@pytest.fixture
def original_fingerprint() -> Iterator[None]:
    saved = TrainingData.fingerprint
    yield
    TrainingData.fingerprint = saved  # type: ignore[method-assign]


def data(responses: dict, text: str = "stop texting me") -> TrainingData:
    examples = [Message(data={"text": text, "intent": "request_stop_contact"})]
    return TrainingData(training_examples=examples, responses=responses)


def write_config(tmp_path: Path, *names: str) -> Path:
    path = tmp_path / "config.yml"
    steps = "".join(f"  - name: {n}\n" for n in names)
    path.write_text(f"recipe: default.v1\nlanguage: en\npipeline:\n{steps}")
    return path


ONE = {"utter_greet": [{"text": "Hello."}]}
TWO = {"utter_greet": [{"text": "Hi there, thanks for replying."}]}


def test_a_response_change_keeps_the_nlu_fingerprint(
    tmp_path: Path, original_fingerprint: None
) -> None:
    # Rasa's own fingerprint changes with a response: every NLU component would retrain.
    assert data(ONE).fingerprint() != data(TWO).fingerprint()
    assert rasa_train.apply(write_config(tmp_path, "WhitespaceTokenizer", "DIETClassifier"))
    assert data(ONE).fingerprint() == data(TWO).fingerprint()
    # The examples still count: a changed example is a changed fingerprint.
    assert data(ONE).fingerprint() != data(ONE, "dont contact me again").fingerprint()


def test_a_response_selector_keeps_rasas_fingerprint(
    tmp_path: Path, original_fingerprint: None
) -> None:
    assert not rasa_train.apply(write_config(tmp_path, "DIETClassifier", "ResponseSelector"))
    assert data(ONE).fingerprint() != data(TWO).fingerprint()


def test_an_unreadable_config_patches_nothing(tmp_path: Path, original_fingerprint: None) -> None:
    assert not rasa_train.apply(tmp_path / "missing.yml")
    assert data(ONE).fingerprint() != data(TWO).fingerprint()


def test_the_projects_pipeline_reads_no_responses() -> None:
    assert not rasa_train.reads_responses(PROJECT_ROOT / "config.yml")


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--config", "other.yml", "--out", "models"], "other.yml"),
        (["--config=other.yml"], "other.yml"),
        (["--out", "models"], "config.yml"),
    ],
)
def test_the_config_comes_from_the_command_line(argv: list[str], expected: str) -> None:
    assert rasa_train.config_path(argv) == Path(expected)


def test_the_cache_directory_is_made_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A relative result location only resolves from the directory it was cached from.
    monkeypatch.chdir(tmp_path)
    environ: dict[str, str] = {}
    assert rasa_train.absolute_cache_directory(environ) == tmp_path.resolve() / ".rasa" / "cache"
    assert environ["RASA_CACHE_DIRECTORY"] == str(tmp_path.resolve() / ".rasa" / "cache")
    environ = {"RASA_CACHE_DIRECTORY": "shared/cache"}
    rasa_train.absolute_cache_directory(environ)
    assert environ["RASA_CACHE_DIRECTORY"] == str(tmp_path.resolve() / "shared" / "cache")


def test_the_default_cache_directory_is_rasas() -> None:
    from rasa.engine.caching import DEFAULT_CACHE_LOCATION

    assert Path(rasa_train.DEFAULT_CACHE) == DEFAULT_CACHE_LOCATION
