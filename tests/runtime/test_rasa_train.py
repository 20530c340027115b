"""bot.runtime.rasa_train: Rasa's cache directory is absolute, so a result cached by a
training in one directory can be restored by a training started in another."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.runtime import rasa_train


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


def test_a_cached_result_is_found_from_another_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Rasa's own cache, as rasa train builds it: an entry written from the project...
    from rasa.engine.caching import LocalTrainingCache
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource

    project, copy = tmp_path / "project", tmp_path / "copy"
    project.mkdir()
    copy.mkdir()
    (tmp_path / "storage").mkdir()
    storage = LocalModelStorage(tmp_path / "storage")
    resource = Resource("train_Something0")
    with storage.write_to(resource) as directory:
        (directory / "weights").write_text("trained")
    monkeypatch.chdir(project)
    environ: dict[str, str] = {}
    rasa_train.absolute_cache_directory(environ)
    monkeypatch.setenv("RASA_CACHE_DIRECTORY", environ["RASA_CACHE_DIRECTORY"])
    LocalTrainingCache().cache_output("key", resource, "output", storage)
    # ...is restored by a training started in the copy, pointed at the same cache (as
    # trainer-check does, by an absolute path).
    monkeypatch.chdir(copy)
    monkeypatch.setenv("RASA_CACHE_DIRECTORY", str(project / ".rasa" / "cache"))
    restored = LocalTrainingCache().get_cached_result("output", "train_Something0", storage)
    assert restored is not None
