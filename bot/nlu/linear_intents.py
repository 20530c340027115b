"""A linear intent model blended with DIET's ranking, and safety-weighted decisions.

On this data (short, varied texts) a logistic regression over word and character n-grams
generalises better than DIET alone, and the average of the two beats either (see
reports/nlu/ from `make crossval`). With `embedding_weight` > 0 the regression also reads
the pretrained sentence embedding (bot/nlu/sentence_encoder.py), which knows paraphrases
the n-grams have never seen. DIET stays the primary classifier; this component re-ranks
its intents.

Missing some intents costs far more than missing others: a lost stop request or wrong
person breaks the law, a crisis read as ordinary hardship harms a person, while a missed
`inform` costs a question. `safety_weights` makes the decision reflect that (a
minimum-expected-cost choice): each intent's blended probability is multiplied by its
weight and the ranking renormalised, so a stop request at 0.3 beats an `inform` at 0.5
when its weight is 3, and its confidence clears the fallback threshold more often.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

from bot.nlu import concepts, sentence_encoder
from bot.nlu.concepts import ConceptAnalyzer
from bot.nlu.sentence_encoder import SentenceEmbedding
from bot.nlu.sklearn_component import SklearnComponent

logger = logging.getLogger(__name__)

_MAX_CHARS = 2000


_NUMBER = re.compile(r"\d+")


def number_shape(text: str) -> str:
    """Lower-case, and write numbers of two or more digits by their length only.

    Which amount or year a debtor writes says nothing about what they mean ("40" and "55"
    are the same kind of answer), but single digits do: "2" picks option 2.
    """
    return _NUMBER.sub(
        lambda m: m.group() if len(m.group()) == 1 else "9" * min(len(m.group()), 4),
        text.lower(),
    )


def safety_weighted(probabilities: dict[str, float], weights: dict[str, float]) -> dict[str, float]:
    """`probabilities` with each intent's multiplied by its weight (1 when not listed),
    renormalised to the same total."""
    if not weights or not probabilities:
        return dict(probabilities)
    total = sum(probabilities.values())
    scaled = {n: p * float(weights.get(n, 1.0)) for n, p in probabilities.items()}
    norm = sum(scaled.values())
    if norm <= 0:
        return dict(probabilities)
    return {n: p * total / norm for n, p in scaled.items()}


def build_intent_pipeline(
    c: float,
    random_seed: int,
    concept_weight: float = concepts.DEFAULT_WEIGHT,
    embedding_weight: float = 0.0,
) -> Pipeline:
    """Word and character n-grams, the concepts of bot/nlu/concepts.yml at
    `concept_weight` (see concepts.DEFAULT_WEIGHT) and, when `embedding_weight` > 0, the
    sentence embedding at that weight."""
    embedding: list[tuple[str, Any]] = (
        [("embedding", SentenceEmbedding(embedding_weight))] if embedding_weight > 0 else []
    )
    features = FeatureUnion(
        [
            (
                "words",
                # Single characters count as words too: "u", "k", an option digit.
                TfidfVectorizer(
                    ngram_range=(1, 2),
                    sublinear_tf=True,
                    preprocessor=number_shape,
                    token_pattern=r"(?u)\b\w+\b",
                ),
            ),
            (
                "chars",
                TfidfVectorizer(
                    analyzer="char_wb",
                    ngram_range=(2, 5),
                    sublinear_tf=True,
                    preprocessor=number_shape,
                ),
            ),
            ("concepts", TfidfVectorizer(analyzer=ConceptAnalyzer(), sublinear_tf=True)),
            *embedding,
        ],
        transformer_weights={"words": 1.0, "chars": 1.0, "concepts": concept_weight},
    )
    return Pipeline(
        [
            ("features", features),
            ("classifier", LogisticRegression(C=c, max_iter=5000, random_state=random_seed)),
        ]
    )


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class LinearIntentBlender(SklearnComponent):
    """Blends `weight` × logistic regression with (1 − weight) × DIET's intent ranking."""

    model_file = "linear_intents.joblib"
    missing_model = "no linear intent model found; DIET's ranking is used as it is"
    fingerprint_files = (*concepts.FILES, sentence_encoder.SOURCE)

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "C": 20.0,
            "weight": 0.5,
            "concept_weight": concepts.DEFAULT_WEIGHT,
            # 0: n-grams and concepts only; > 0: the sentence embedding too, at this weight.
            "embedding_weight": 0.0,
            # intent -> cost of missing it relative to the others (see the module docstring).
            "safety_weights": {},
            "random_seed": 42,
        }

    def train(self, training_data: TrainingData) -> Resource:
        examples = [m for m in training_data.intent_examples if m.get(TEXT) and m.get(INTENT)]
        intents = {m.get(INTENT) for m in examples}
        if len(intents) < 2:
            logger.warning("fewer than two intents: the linear intent model is not trained")
            return self._resource
        pipeline = build_intent_pipeline(
            float(self._config["C"]),
            int(self._config["random_seed"]),
            float(self._config["concept_weight"]),
            float(self._config["embedding_weight"]),
        )
        pipeline.fit(
            [str(m.get(TEXT))[:_MAX_CHARS] for m in examples], [m.get(INTENT) for m in examples]
        )
        return self._store(pipeline)

    def process(self, messages: list[Message]) -> list[Message]:
        if self._pipeline is None:
            return messages
        weight = float(self._config["weight"])
        safety = {str(k): float(v) for k, v in (self._config["safety_weights"] or {}).items()}
        classes = [str(c) for c in self._pipeline.classes_]
        for message in messages:
            text = str(message.get(TEXT) or "")
            if not text.strip():
                continue
            linear = dict(
                zip(classes, self._pipeline.predict_proba([text[:_MAX_CHARS]])[0], strict=True)
            )
            diet = {
                r[INTENT_NAME_KEY]: float(r[PREDICTED_CONFIDENCE_KEY])
                for r in message.get(INTENT_RANKING_KEY) or []
            }
            names = set(linear) | set(diet)
            blended = safety_weighted(
                {
                    n: weight * float(linear.get(n, 0.0)) + (1 - weight) * diet.get(n, 0.0)
                    for n in names
                },
                safety,
            )
            ranking = sorted(blended.items(), key=lambda item: item[1], reverse=True)[:10]
            message.set(
                INTENT,
                {INTENT_NAME_KEY: ranking[0][0], PREDICTED_CONFIDENCE_KEY: ranking[0][1]},
                add_to_output=True,
            )
            message.set(
                INTENT_RANKING_KEY,
                [{INTENT_NAME_KEY: n, PREDICTED_CONFIDENCE_KEY: c} for n, c in ranking],
                add_to_output=True,
            )
        return messages
