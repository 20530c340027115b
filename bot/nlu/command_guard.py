"""Rasa component: debtor text is never a command.

Rasa appends its RegexMessageHandler to every pipeline (there is no switch): a message
whose text, stripped, starts with `/` is read as `/intent@confidence{"entity": value}`,
so a debtor could type `/restart` (wiping the conversation, and once a slot-based
lockout with it), `/affirm` (a yes nobody wrote) or `/inform{"verified": true}`.

This component runs last in our pipeline, before Rasa's handler. For a message that
starts with `/`, it takes the slash off the text the handler sees, so the handler never
fires. A message shaped like a command (`/word`, optionally `@0.9` and `{...}`) is then
answered as what it is to us, unclear text: `nlu_fallback`, with no entities but the
emotion the classifier read, so nothing
in the payload becomes an intent, an entity or a slot. Any other text that merely begins
with a slash ("/ can i pay 50") keeps the models' reading. The tracker keeps the debtor's
original words (Rasa stores the text it received, not this one). Operators' own controls
go through the authenticated HTTP API or the console, never through debtor text.
"""

from __future__ import annotations

import re
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import (
    ENTITIES,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.emotion import EMOTION_KEY

# Output property: the message began with a slash (the console shows it).
SLASH_TEXT = "slash_text"
FALLBACK_INTENT = "nlu_fallback"
# The shape of Rasa's shortcut: "/" then a name, then optionally "@0.9" and "{...}".
_COMMAND = re.compile(r"^/+\s*[\w.\-]+\s*(@[\d.]*)?\s*(\{.*\})?\s*$", re.DOTALL)


def is_command_shaped(text: str | None) -> bool:
    """True for "/restart", "/affirm@1.0", '/inform{"verified": true}' and the like."""
    return bool(_COMMAND.match((text or "").strip()))


def without_leading_slashes(text: str) -> str:
    """The text with its leading slashes (and the space around them) removed."""
    return re.sub(r"^\s*(/\s*)+", "", text)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class SlashCommandGuard(GraphComponent):
    """Neutralises Rasa's `/intent{...}` shortcut in debtor text. Place it last."""

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SlashCommandGuard:
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT)
            if not text or not text.strip().startswith("/"):
                continue
            message.set(SLASH_TEXT, True, add_to_output=True)
            if is_command_shaped(text):
                fallback = {INTENT_NAME_KEY: FALLBACK_INTENT, PREDICTED_CONFIDENCE_KEY: 1.0}
                message.set(INTENT, fallback, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [fallback], add_to_output=True)
                # Only the emotion the classifier read stays: it describes the
                # message, it does not come from the payload.
                kept = [e for e in message.get(ENTITIES) or [] if e.get("entity") == EMOTION_KEY]
                message.set(ENTITIES, kept, add_to_output=True)
            message.set(TEXT, without_leading_slashes(text))
        return messages
