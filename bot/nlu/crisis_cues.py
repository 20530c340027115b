"""Rasa component: a crisis told as a money problem is a crisis (a second look at hardship).

The classifiers learn hardship from thousands of money stories, so "my wife's funeral was
last week and it wiped out our savings" or "we lost our daughter in may and the bills just
stopped mattering" read as `explain_hardship`. Per the label contract a bereavement, a
crisis or abuse is `express_vulnerability`, and missing one harms a person while the
opposite mistake costs a gentler reply. So when the top intent is one of `looks` and the
text names one of the cues listed for it (concepts of bot/nlu/concepts.yml: for hardship a
bereavement, a crisis or abuse; not severe illness, which carers' and patients' ordinary
hardship is full of), the vulnerability takes the top place with the confidence the top
intent had, and that intent takes its place. The fallback threshold then treats it as it
would have treated the hardship.

A crisis or abuse told as a dispute ("i dont want to carry on, the debt is just one more
thing", "he made me take out loans in my name") gets the same look; a bereavement with a
dispute does not (a relative saying the dead person's debt is not theirs is a dispute).

Place it after the intent classifiers and before FallbackClassifier.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
# The top intent that gets a second look, and the concepts that turn it into a crisis.
DEFAULT_LOOKS: dict[str, tuple[str, ...]] = {
    "explain_hardship": ("bereavement", "crisis", "abuse"),
    "dispute_debt": ("crisis", "abuse"),
}


def second_look(
    ranking: Sequence[tuple[str, float]],
    concepts: Sequence[str],
    looks: Mapping[str, Sequence[str]] = DEFAULT_LOOKS,
) -> list[tuple[str, float]]:
    """`ranking` (best first) with the vulnerability and the top intent swapped when the
    top is one of `looks` and one of its cues is among the message's `concepts`."""
    ranked = list(ranking)
    if not ranked or not set(looks.get(ranked[0][0], ())) & set(concepts):
        return ranked
    top_name, top_confidence = ranked[0]
    rest = [(n, c) for n, c in ranked[1:] if n != VULNERABILITY]
    own = next((c for n, c in ranked if n == VULNERABILITY), 0.0)
    return [(VULNERABILITY, top_confidence), (top_name, own), *rest]


def checked_looks(looks: Any) -> dict[str, tuple[str, ...]]:
    """CrisisCues' `looks` setting as a mapping, or a ValueError that says what is wrong."""
    if not isinstance(looks, Mapping):
        raise ValueError("CrisisCues: `looks` maps an intent to a list of crisis concepts")
    checked = {str(i): tuple(str(c) for c in cues or ()) for i, cues in looks.items()}
    unknown = {c for cues in checked.values() for c in cues} - set(CRISIS_CONCEPTS)
    if unknown:
        raise ValueError(f"CrisisCues: not crisis concepts of concepts.yml: {sorted(unknown)}")
    if VULNERABILITY in checked:
        raise ValueError(f"CrisisCues: {VULNERABILITY} needs no second look")
    return checked


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class CrisisCues(GraphComponent):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"looks": {intent: list(cues) for intent, cues in DEFAULT_LOOKS.items()}}

    def __init__(self, config: dict[str, Any]) -> None:
        self._looks = checked_looks(config.get("looks") or DEFAULT_LOOKS)
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
            if intent.get(INTENT_NAME_KEY) not in self._looks:
                continue
            ranking = [
                (str(r[INTENT_NAME_KEY]), float(r[PREDICTED_CONFIDENCE_KEY]))
                for r in message.get(INTENT_RANKING_KEY) or []
            ] or [(str(intent[INTENT_NAME_KEY]), float(intent[PREDICTED_CONFIDENCE_KEY]))]
            looked = second_look(
                ranking,
                self._analyzer.concepts(str(message.get(TEXT) or "")),
                self._looks,
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
