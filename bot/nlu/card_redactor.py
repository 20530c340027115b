"""Rasa component that masks payment card numbers before anything else reads the text."""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import METADATA, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.privacy import mask_card_numbers

# Output property the dialogue reads to warn the debtor not to text card details.
CARD_NUMBER_REDACTED = "card_number_redacted"


# Registered as a featurizer so that Rasa runs it, in order, both on the training data
# and on every incoming message, ahead of the tokenizer.
@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class CardNumberRedactor(GraphComponent):
    """Replaces Luhn-valid card numbers with a placeholder and marks the message."""

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> CardNumberRedactor:
        return cls()

    def _redact(self, message: Message) -> None:
        # A channel that already masked the text says so in the metadata.
        flagged = bool((message.get(METADATA) or {}).get(CARD_NUMBER_REDACTED))
        text = message.get(TEXT)
        if text:
            masked, count = mask_card_numbers(text)
            if count:
                message.set(TEXT, masked)
                flagged = True
        if flagged:
            message.set(CARD_NUMBER_REDACTED, True, add_to_output=True)

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            self._redact(message)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        for message in training_data.training_examples:
            self._redact(message)
        return training_data
