"""Trainable Rasa component that reads the debtor's emotional state from each message."""

from __future__ import annotations

import logging
import re
from typing import Any

import numpy as np
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import ENTITIES, METADATA, METADATA_EXAMPLE, METADATA_INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import FunctionTransformer

from bot.nlu import concepts, sentence_encoder
from bot.nlu.concepts import ConceptAnalyzer
from bot.nlu.sentence_encoder import SentenceEmbedding
from bot.nlu.sklearn_component import SklearnComponent

logger = logging.getLogger(__name__)

EMOTIONS = ("angry", "anxious", "sad", "positive", "neutral")
EMOTION_KEY = "emotion"  # parse-result key, entity name and slot name
_MAX_CHARS = 2000  # the gist of a message is in its first lines; caps the cost of huge ones

_ANGRY_EMOJI = set("😡😠🤬👿💢🖕")
_SAD_EMOJI = set("😢😭😞😔☹🙁💔😿😥")
_ANXIOUS_EMOJI = set("😰😟😨😬😱🥺😣😖")
_POSITIVE_EMOJI = set("🙂😊😀😃😄👍🙏❤💕😍🥰✅👌🤝😁")


class EmotionTrainingError(ValueError):
    """The NLU data does not carry enough emotion labels to train on."""


def style_features(texts: Any) -> np.ndarray:
    """Cues that word n-grams miss: shouting, exclamation, question marks and emoji."""
    rows = []
    for text in texts:
        letters = [ch for ch in text if ch.isalpha()]
        upper = sum(ch.isupper() for ch in letters)
        caps = upper / len(letters) if len(letters) >= 4 else 0.0
        rows.append(
            [
                caps,
                1.0 if caps > 0.7 and len(letters) >= 6 else 0.0,
                min(text.count("!"), 5) / 5,
                min(text.count("?"), 5) / 5,
                1.0 if any(ch in _ANGRY_EMOJI for ch in text) else 0.0,
                1.0 if any(ch in _SAD_EMOJI for ch in text) else 0.0,
                1.0 if any(ch in _ANXIOUS_EMOJI for ch in text) else 0.0,
                1.0 if any(ch in _POSITIVE_EMOJI for ch in text) else 0.0,
            ]
        )
    return np.asarray(rows, dtype=float)


def _lowercase(texts: Any) -> list[str]:
    return [t.lower() for t in texts]


_APOSTROPHES = re.compile(r"['’`]")
_WORD = re.compile(r"\b\w+\b")
# Debtors text "im", "dont", "u", "ur", "pls"; the training data is often written out
# ("i'm", "don't", "you", "your", "please"). One spelling for both, for the n-grams only
# (the sentence encoder reads the text as written).
_TEXTING_FORMS = {
    "you": "u",
    "your": "ur",
    "youre": "ur",
    "yours": "urs",
    "are": "r",
    "please": "pls",
    "plz": "pls",
    "thanks": "ty",
    "thank": "ty",
    "okay": "ok",
    "tomorrow": "tmrw",
}


def texting_form(text: str) -> str:
    """Lowercased, without apostrophes, common words in their texting spelling."""
    bare = _APOSTROPHES.sub("", text.lower())
    return _WORD.sub(lambda m: _TEXTING_FORMS.get(m.group(0), m.group(0)), bare)


def build_emotion_pipeline(
    c: float,
    random_seed: int,
    concept_weight: float = concepts.DEFAULT_WEIGHT,
    embedding_weight: float = 0.0,
    texting_spelling: bool = False,
) -> Pipeline:
    """Word and character n-grams, style cues and the concepts of bot/nlu/concepts.yml
    (anger, worry, sadness, crisis, ...) into a balanced logistic regression; with
    `embedding_weight` > 0, the pretrained sentence embedding too (it carries how people
    word feelings well beyond our data: forum posts, not only debt texts). With
    `texting_spelling`, the word and character n-grams read :func:`texting_form`."""
    preprocessor = texting_form if texting_spelling else None
    embedding: list[tuple[str, Any]] = (
        [("embedding", SentenceEmbedding(embedding_weight))] if embedding_weight > 0 else []
    )
    features = FeatureUnion(
        [
            (
                "words",
                TfidfVectorizer(
                    analyzer="word",
                    ngram_range=(1, 2),
                    token_pattern=r"(?u)\b\w+\b|[!?]+",
                    sublinear_tf=True,
                    lowercase=True,
                    preprocessor=preprocessor,
                ),
            ),
            (
                "chars",
                TfidfVectorizer(
                    analyzer="char_wb",
                    ngram_range=(2, 5),
                    sublinear_tf=True,
                    lowercase=True,
                    preprocessor=preprocessor,
                ),
            ),
            ("style", FunctionTransformer(style_features)),
            ("concepts", TfidfVectorizer(analyzer=ConceptAnalyzer(), sublinear_tf=True)),
            *embedding,
        ],
        transformer_weights={"words": 1.0, "chars": 1.0, "style": 1.0, "concepts": concept_weight},
    )
    classifier = LogisticRegression(
        C=c, class_weight="balanced", max_iter=5000, random_state=random_seed
    )
    return Pipeline([("features", features), ("classifier", classifier)])


def emotion_label(message: Message) -> str | None:
    """The emotion a training example is labelled with (example metadata wins)."""
    metadata = message.get(METADATA) or {}
    for key in (METADATA_EXAMPLE, METADATA_INTENT):
        value = (metadata.get(key) or {}) if isinstance(metadata.get(key), dict) else {}
        label = value.get(EMOTION_KEY)
        if label:
            return str(label)
    return None


_WORDLESS = re.compile(r"^[\W_]*$", re.UNICODE)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class EmotionClassifier(SklearnComponent):
    """Adds `emotion: {name, confidence}` to the parse result and an `emotion` entity.

    Trained on the `emotion` metadata of the NLU examples (see docs/trainers.md).
    """

    model_file = "emotion.joblib"
    missing_model = "No trained emotion model found; every message reads as neutral."
    fingerprint_files = (*concepts.FILES, sentence_encoder.SOURCE)

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "C": 8.0,
            "concept_weight": concepts.DEFAULT_WEIGHT,
            # 0: n-grams, style and concepts only; > 0: the sentence embedding at this weight.
            "embedding_weight": 0.0,
            # The n-grams read texting spelling ("im", "u", "pls") for both the data and
            # the messages (texting_form).
            "texting_spelling": False,
            "random_seed": 42,
        }

    def train(self, training_data: TrainingData) -> Resource:
        texts: list[str] = []
        labels: list[str] = []
        unknown: set[str] = set()
        for message in training_data.intent_examples:
            label = emotion_label(message)
            if label is None:
                continue
            if label not in EMOTIONS:
                unknown.add(label)
                continue
            texts.append(str(message.get(TEXT))[:_MAX_CHARS])
            labels.append(label)
        if unknown:
            raise EmotionTrainingError(
                f"unknown emotion label(s) {sorted(unknown)} in the NLU data; "
                f"use one of {', '.join(EMOTIONS)}"
            )
        if len(set(labels)) < 2:
            raise EmotionTrainingError(
                "the NLU data needs examples labelled with at least two emotions "
                "(metadata: {emotion: ...}); see docs/trainers.md"
            )
        pipeline = build_emotion_pipeline(
            float(self._config["C"]),
            int(self._config["random_seed"]),
            float(self._config["concept_weight"]),
            float(self._config["embedding_weight"]),
            bool(self._config["texting_spelling"]),
        )
        pipeline.fit(texts, labels)
        logger.info("Trained the emotion classifier on %d labelled examples.", len(texts))
        return self._store(pipeline)

    def predict(self, text: str) -> tuple[str, float]:
        """The emotion of one text and the classifier's confidence in it."""
        if (
            self._pipeline is None
            or not text
            or _WORDLESS.match(text)
            and not style_features([text])[0, 4:].any()
        ):
            return "neutral", 1.0
        probabilities = self._pipeline.predict_proba([text[:_MAX_CHARS]])[0]
        best = int(np.argmax(probabilities))
        return str(self._pipeline.classes_[best]), float(probabilities[best])

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            name, confidence = self.predict(text)
            message.set(
                EMOTION_KEY, {"name": name, "confidence": round(confidence, 4)}, add_to_output=True
            )
            entity = {
                "entity": EMOTION_KEY,
                "value": name,
                "start": 0,
                "end": len(text),
                "confidence_entity": round(confidence, 4),
                "extractor": self.__class__.__name__,
            }
            message.set(ENTITIES, [*(message.get(ENTITIES) or []), entity], add_to_output=True)
        return messages
