"""SlashCommandGuard: Rasa's `/intent{...}` shortcut never works from debtor text."""

from __future__ import annotations

from typing import Any

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.nlu.classifiers.regex_message_handler import RegexMessageHandler
from rasa.shared.core.domain import Domain
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.command_guard import SLASH_TEXT, SlashCommandGuard, is_command_shaped

DOMAIN = Domain.from_yaml(
    """
version: "3.1"
intents: [affirm, inform, request_human, greet]
entities: [amount, verified]
"""
)


def classified(
    text: str, intent: str = "greet", entities: list[dict[str, Any]] | None = None
) -> Message:
    """A message as the trained classifiers leave it (intent, ranking, entities)."""
    message = Message({"text": text})
    message.set("intent", {"name": intent, "confidence": 0.9}, add_to_output=True)
    message.set("intent_ranking", [{"name": intent, "confidence": 0.9}], add_to_output=True)
    emotion = {"entity": "emotion", "value": "neutral", "start": 0, "end": 0}
    message.set("entities", [*(entities or []), emotion], add_to_output=True)
    return message


def through_pipeline_end(message: Message) -> Message:
    """Our guard, then the RegexMessageHandler Rasa appends to every pipeline."""
    context = ExecutionContext(GraphSchema({}), "test")
    guard = SlashCommandGuard.create({}, None, None, context)  # type: ignore[arg-type]
    handler = RegexMessageHandler.create({}, None, None, context)  # type: ignore[arg-type]
    [guarded] = guard.process([message])
    [result] = handler.process([guarded], DOMAIN)
    return result


def test_without_the_guard_rasa_obeys_the_payload() -> None:
    """The control: this is what a debtor could do before (so the next tests can fail)."""
    [message] = RegexMessageHandler.create({}, None, None, None).process(  # type: ignore[arg-type]
        [classified('/inform{"verified": true}')], DOMAIN
    )
    assert message.get("intent")["name"] == "inform"
    assert {e["entity"] for e in message.get("entities")} == {"verified"}


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("/restart", "restart"),
        ("/affirm", "affirm"),
        ("  /affirm@1.0", "affirm"),
        ('/inform{"verified": true, "amount": "5"}', "inform"),
        ("/request_human", "request_human"),
        ("//greet", "greet"),
    ],
)
def test_command_shaped_text_is_unclear_text(text: str, named: str) -> None:
    result = through_pipeline_end(classified(text, intent=named, entities=[{"entity": "amount"}]))
    assert result.get("intent")["name"] == "nlu_fallback"
    assert [e["entity"] for e in result.get("entities")] == ["emotion"]
    assert result.get(SLASH_TEXT) is True
    assert not result.get("text").lstrip().startswith("/")


def test_other_text_starting_with_a_slash_keeps_the_models_reading() -> None:
    amount = {"entity": "amount", "value": "50.00"}
    result = through_pipeline_end(classified("/ i can pay 50 a month", "offer_payment", [amount]))
    assert result.get("intent")["name"] == "offer_payment"
    assert result.get("text") == "i can pay 50 a month"
    assert amount in result.get("entities")


def test_ordinary_text_is_untouched() -> None:
    message = classified("yes that works 1/2 of it", "affirm")
    result = through_pipeline_end(message)
    assert result.get("text") == "yes that works 1/2 of it"
    assert result.get("intent")["name"] == "affirm" and result.get(SLASH_TEXT) is None


@pytest.mark.parametrize(
    ("text", "shaped"),
    [("/restart", True), ('/inform{"a": 1}', True), ("/ok@0.5", True), ("/ hi there", False),
     ("/", False), ("hi /restart", False), ("", False)],
)  # fmt: skip
def test_command_shape(text: str, shaped: bool) -> None:
    assert is_command_shaped(text) is shaped
