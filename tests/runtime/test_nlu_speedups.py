"""The NLU classifiers' weights laid out for one-message predictions: same probabilities."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.emotion import build_emotion_pipeline
from bot.nlu.linear_intents import LinearIntentBlender, build_intent_pipeline
from bot.nlu.sklearn_component import SklearnComponent
from bot.runtime import nlu_speedups

TEXTS = [
    "stop texting me",
    "please stop messaging this number",
    "i can pay 50 a month",
    "can i do 40 every friday",
    "wrong number, i don't know them",
    "this is not maria",
    "hi who is this",
    "hello?",
]
INTENTS = ["stop", "stop", "offer", "offer", "wrong", "wrong", "greet", "greet"]
EMOTIONS = ["angry", "angry", "neutral", "neutral", "neutral", "anxious", "neutral", "anxious"]
PROBES = ["STOP", "i could pay 45 weekly", "who r u", "", "🙂", "not me!!", "x" * 3000]


def test_the_laid_out_weights_give_the_same_probabilities_to_the_last_bit() -> None:
    for pipeline, labels in (
        (build_intent_pipeline(20.0, 42), INTENTS),
        (build_emotion_pipeline(16.0, 42, texting_spelling=True), EMOTIONS),
    ):
        pipeline.fit(TEXTS, labels)
        classifier = pipeline.steps[-1][1]
        assert not classifier.coef_.T.flags.c_contiguous  # as fitted: copied per message
        before = [pipeline.predict_proba([text]) for text in PROBES]
        nlu_speedups.lay_out_for_prediction(pipeline)
        assert classifier.coef_.T.flags.c_contiguous
        after = [pipeline.predict_proba([text]) for text in PROBES]
        assert all(np.array_equal(a, b) for a, b in zip(before, after, strict=True))


def test_components_loaded_by_rasa_get_the_layout(tmp_path: Path) -> None:
    storage = LocalModelStorage(tmp_path)
    context = ExecutionContext(GraphSchema({}), "test")
    blender = LinearIntentBlender.create({}, storage, Resource("linear"), context)
    blender.train(
        TrainingData(
            [Message(data={"text": t, "intent": i}) for t, i in zip(TEXTS, INTENTS, strict=True)]
        )
    )
    original = SklearnComponent.__dict__["load"]
    try:
        nlu_speedups.apply()
        nlu_speedups.apply()
        loaded = LinearIntentBlender.load({}, storage, Resource("linear"), context)
    finally:
        SklearnComponent.load = original  # type: ignore[method-assign]
    assert loaded._pipeline is not None
    assert loaded._pipeline.steps[-1][1].coef_.T.flags.c_contiguous
    missing = LinearIntentBlender.load({}, storage, Resource("missing"), context)
    assert missing._pipeline is None
