"""Rasa component: a crisis told as a money problem is a crisis (a second look at hardship).

The classifiers learn hardship from thousands of money stories, so "my wife's funeral was
last week and it wiped out our savings" or "we lost our daughter in may and the bills just
stopped mattering" read as `explain_hardship`. Per the label contract a bereavement, a
crisis or abuse is `express_vulnerability`, and missing one harms a person while the
opposite mistake costs a gentler reply. So when the top intent is one of `from_intents`
and the text names one of the `cues` (concepts of bot/nlu/concepts.yml: bereavement,
crisis, abuse; not severe illness, which carers' and patients' ordinary hardship is full
of), the vulnerability takes the top place with the confidence the hardship had, and the
hardship takes its place. The fallback threshold then treats it as it would have treated
the hardship.

Place it after the intent classifiers and before FallbackClassifier.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.concepts import CRISIS_CONCEPTS, ConceptAnalyzer

VULNERABILITY = "express_vulnerability"
DEFAULT_CUES = ("bereavement", "crisis", "abuse")
DEFAULT_FROM = ("explain_hardship",)


def second_look(
    ranking: Sequence[tuple[str, float]],
    concepts: Sequence[str],
    cues: Sequence[str] = DEFAULT_CUES,
    from_intents: Sequence[str] = DEFAULT_FROM,
) -> list[tuple[str, float]]:
    """`ranking` (best first) with the vulnerability and the top intent swapped when the
    top is one of `from_intents` and a cue is among the message's `concepts`."""
    ranked = list(ranking)
    if not ranked or ranked[0][0] not in from_intents or not set(cues) & set(concepts):
        return ranked
    top_name, top_confidence = ranked[0]
    rest = [(n, c) for n, c in ranked[1:] if n != VULNERABILITY]
    own = next((c for n, c in ranked if n == VULNERABILITY), 0.0)
    return [(VULNERABILITY, top_confidence), (top_name, own), *rest]


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class CrisisCues(GraphComponent):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"cues": list(DEFAULT_CUES), "from_intents": list(DEFAULT_FROM)}

    def __init__(self, config: dict[str, Any]) -> None:
        self._cues = [str(c) for c in config.get("cues") or DEFAULT_CUES]
        unknown = set(self._cues) - set(CRISIS_CONCEPTS)
        if unknown:
            raise ValueError(f"CrisisCues: not crisis concepts of concepts.yml: {sorted(unknown)}")
        self._from = [str(i) for i in config.get("from_intents") or DEFAULT_FROM]
        self._analyzer = ConceptAnalyzer()

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> CrisisCues:
        return cls({**cls.get_default_config(), **config})

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            intent = message.get(INTENT) or {}
            if intent.get(INTENT_NAME_KEY) not in self._from:
                continue
            ranking = [
                (str(r[INTENT_NAME_KEY]), float(r[PREDICTED_CONFIDENCE_KEY]))
                for r in message.get(INTENT_RANKING_KEY) or []
            ] or [(str(intent[INTENT_NAME_KEY]), float(intent[PREDICTED_CONFIDENCE_KEY]))]
            looked = second_look(
                ranking,
                self._analyzer.concepts(str(message.get(TEXT) or "")),
                self._cues,
                self._from,
            )
            if looked[0][0] == ranking[0][0]:
                continue
            message.set(
                INTENT,
                {INTENT_NAME_KEY: looked[0][0], PREDICTED_CONFIDENCE_KEY: looked[0][1]},
                add_to_output=True,
            )
            message.set(
                INTENT_RANKING_KEY,
                [{INTENT_NAME_KEY: n, PREDICTED_CONFIDENCE_KEY: c} for n, c in looked],
                add_to_output=True,
            )
        return messages
