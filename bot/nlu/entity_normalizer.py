"""Rasa component that turns extracted entity text into the contract's normalised values."""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, METADATA
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.normalize import (
    local_today,
    parse_amount,
    parse_date,
    parse_duration_days,
    parse_frequency,
    parse_hardship,
)

# The channel puts the debtor's time zone in the message metadata, so relative dates
# ("next friday") resolve against the debtor's local date, not the server's.
TIMEZONE_METADATA_KEY = "timezone"


def conversation_today(metadata: dict[str, Any] | None, now: datetime | None = None) -> date:
    """Today's date in the debtor's time zone when the channel knows it, else UTC."""
    zone = (metadata or {}).get(TIMEZONE_METADATA_KEY)
    if isinstance(zone, str) and zone:
        try:
            return local_today(zone, now)
        except ValueError:
            pass
    return (now or datetime.now(timezone.utc)).astimezone(timezone.utc).date()


def normalise_entity(entity: dict[str, Any], today: date) -> dict[str, Any] | None:
    """The entity with its `value` normalised, or None if the text means nothing usable."""
    name = entity.get("entity")
    raw = str(entity.get("value", ""))
    value: Any
    if name == "amount":
        amount = parse_amount(raw)
        value = None if amount is None else str(amount)
    elif name == "date":
        parsed = parse_date(raw, today)
        value = None if parsed is None else parsed.isoformat()
    elif name == "frequency":
        value = parse_frequency(raw)
    elif name == "duration":
        value = parse_duration_days(raw)
    elif name == "hardship":
        value = parse_hardship(raw) or "other"
    else:
        return entity
    if value is None:
        return None
    return {**entity, "value": value, "text": raw}


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class EntityNormalizer(GraphComponent):
    """Normalises amount, date, frequency, duration and hardship entities in place.

    Entities whose text cannot be normalised (e.g. "after payday" as a date) are dropped,
    so the dialogue asks again instead of acting on a value it made up.
    """

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> EntityNormalizer:
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            entities = message.get(ENTITIES) or []
            if not entities:
                continue
            today = conversation_today(message.get(METADATA))
            normalised = []
            for entity in entities:
                result = normalise_entity(entity, today)
                if result is not None:
                    normalised.append(result)
            message.set(ENTITIES, normalised, add_to_output=True)
        return messages
