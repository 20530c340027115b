"""Rasa component: carrier keywords decide the intent, whatever the classifier thought."""

from __future__ import annotations

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

from bot.nlu.keywords import KEYWORD_INTENTS, keyword_of


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class KeywordIntentOverride(GraphComponent):
    """STOP/UNSUBSCRIBE/... → request_stop_contact, START/UNSTOP → resubscribe,
    HELP → ask_help, PERSON/AGENT → request_human, with confidence 1.0 (carriers require
    the first three to always work; the bot promises the last).

    Place it after the trained classifier and before FallbackClassifier.
    """

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> KeywordIntentOverride:
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            keyword = keyword_of(message.get(TEXT))
            if keyword is None:
                continue
            intent = KEYWORD_INTENTS[keyword]
            message.set(
                INTENT, {INTENT_NAME_KEY: intent, PREDICTED_CONFIDENCE_KEY: 1.0}, add_to_output=True
            )
            ranking = [
                r for r in message.get(INTENT_RANKING_KEY) or [] if r.get(INTENT_NAME_KEY) != intent
            ]
            message.set(
                INTENT_RANKING_KEY,
                [{INTENT_NAME_KEY: intent, PREDICTED_CONFIDENCE_KEY: 1.0}, *ranking],
                add_to_output=True,
            )
        return messages
