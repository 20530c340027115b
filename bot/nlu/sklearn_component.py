"""What Parley's scikit-learn Rasa components share: config, persistence, fingerprint."""

from __future__ import annotations

import hashlib
import inspect
import logging
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import joblib
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from sklearn.pipeline import Pipeline

logger = logging.getLogger(__name__)

C = TypeVar("C", bound="SklearnComponent")


def code_fingerprint(*paths: Path) -> str:
    """A digest of the files a trained component depends on besides its config and data."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.read_bytes())
    return digest.hexdigest()


class SklearnComponent(GraphComponent):
    """A trainable component whose model is one fitted scikit-learn pipeline.

    Subclasses set ``model_file`` (its name in the model storage) and ``missing_model``
    (the warning logged when a model has none), and call ``_store`` after fitting.
    """

    model_file: ClassVar[str]
    missing_model: ClassVar[str]
    # Files the trained model depends on besides the code (e.g. the concept lexicon).
    fingerprint_files: ClassVar[tuple[Path, ...]] = ()

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        # Rasa caches trained components by config; retrain when their code changes too.
        return code_fingerprint(Path(__file__), Path(inspect.getfile(cls)), *cls.fingerprint_files)

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        pipeline: Pipeline | None = None,
    ) -> None:
        self._config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self._pipeline = pipeline

    @classmethod
    def create(
        cls: type[C],
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> C:
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls: type[C],
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> C:
        pipeline = None
        try:
            with model_storage.read_from(resource) as directory:
                pipeline = joblib.load(Path(directory) / cls.model_file)
        except (ValueError, FileNotFoundError):
            logger.warning(cls.missing_model)
        return cls(config, model_storage, resource, pipeline)

    def _store(self, pipeline: Pipeline) -> Resource:
        self._pipeline = pipeline
        with self._model_storage.write_to(self._resource) as directory:
            joblib.dump(pipeline, Path(directory) / self.model_file)
        return self._resource
