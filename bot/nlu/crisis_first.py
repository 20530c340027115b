"""Rasa component: an unclear message that may be a crisis is read as a crisis.

FallbackClassifier replaces the intent with `nlu_fallback` when the top confidence is
under its threshold or the top two are close. A crisis told in few or indirect words
("nobody would even notice if i wasnt here", "please dont ring, if he sees ur calls hell
hurt me") is exactly such a message: the vulnerability shares the vote with a wrong
person or a stop request, or with a hardship, and the bot would ask the debtor to say it
again, or ask about the other candidate first. Per the label contract a crisis outranks
every other reading, and the two mistakes are not alike: a false crisis costs a gentler
reply and a person reading the conversation (collection pauses, the conversation is
queued for a trained human), a missed one can cost a life. So when the NLU falls back and
`express_vulnerability` is one of the first `within` candidates with at least
`min_confidence`, the vulnerability becomes the intent (with its own confidence, so the
console still shows the message as uncertain) and the fallback leaves the ranking.

A message the classifiers read with confidence is left alone: this decides between a
crisis and "say that again", never between a crisis and a clear reading. Place it right
after FallbackClassifier.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
)
from rasa.shared.nlu.training_data.message import Message

VULNERABILITY = "express_vulnerability"


def crisis_before_fallback(
    ranking: Sequence[tuple[str, float]], within: int, min_confidence: float
) -> list[tuple[str, float]] | None:
    """The ranking with the vulnerability on top, when `ranking` (best first) is a
    fallback's and the vulnerability is among its first `within` real candidates with at
    least `min_confidence`; otherwise None (the fallback stands)."""
    if not ranking or ranking[0][0] != DEFAULT_NLU_FALLBACK_INTENT_NAME:
        return None
    candidates = [(n, c) for n, c in ranking if n != DEFAULT_NLU_FALLBACK_INTENT_NAME]
    for name, confidence in candidates[:within]:
        if name == VULNERABILITY and confidence >= min_confidence:
            return [(name, confidence), *((n, c) for n, c in candidates if n != name)]
    return None


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class CrisisBeforeFallback(GraphComponent):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"within": 2, "min_confidence": 0.25}

    def __init__(self, config: dict[str, Any]) -> None:
        within, floor = config.get("within"), config.get("min_confidence")
        if not isinstance(within, int) or isinstance(within, bool) or within < 1:
            raise ValueError(f"CrisisBeforeFallback: `within` is a count of 1 or more: {within!r}")
        if not isinstance(floor, (int, float)) or isinstance(floor, bool) or not 0 < floor < 1:
            raise ValueError(
                f"CrisisBeforeFallback: `min_confidence` is between 0 and 1: {floor!r}"
            )
        self._within, self._min_confidence = within, float(floor)

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> CrisisBeforeFallback:
        return cls({**cls.get_default_config(), **config})

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            ranking = [
                (str(r[INTENT_NAME_KEY]), float(r[PREDICTED_CONFIDENCE_KEY]))
                for r in message.get(INTENT_RANKING_KEY) or []
            ]
            read = crisis_before_fallback(ranking, self._within, self._min_confidence)
            if read is None:
                continue
            message.set(
                INTENT,
                {INTENT_NAME_KEY: read[0][0], PREDICTED_CONFIDENCE_KEY: read[0][1]},
                add_to_output=True,
            )
            message.set(
                INTENT_RANKING_KEY,
                [{INTENT_NAME_KEY: n, PREDICTED_CONFIDENCE_KEY: c} for n, c in read],
                add_to_output=True,
            )
        return messages
