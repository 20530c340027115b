"""action_validate_slot_mappings answered in the Rasa server: the same events as asking the
action server, and the action server still asked whenever the action has something to say.

Both sides run for real: Rasa's ActionExtractSlots on the project's domain, and the
action server's side through rasa_sdk's ActionExecutor (in process, JSON both ways).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from rasa.core.actions.action import ActionExtractSlots
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig
from rasa_sdk.executor import ActionExecutor

from actions.every_turn import ValidateSlotMappings
from bot.runtime import slot_validation
from bot.settings import PROJECT_ROOT

SENDER = "+12025550143"


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(PROJECT_ROOT / "domain.yml"))


class ActionServer:
    """rasa_sdk's executor behind an endpoint, counting the calls it answers."""

    def __init__(self) -> None:
        self.executor = ActionExecutor()
        self.executor.register_action(ValidateSlotMappings)
        self.calls: list[str] = []

    def endpoint(self) -> EndpointConfig:
        endpoint = EndpointConfig("http://actions.invalid/webhook")

        async def request(json: dict[str, Any] | None = None, **_: Any) -> Any:
            assert json is not None
            self.calls.append(json["next_action"])
            result = await self.executor.run(_round_trip(json))
            return _round_trip(result)

        endpoint.request = request  # type: ignore[method-assign]
        return endpoint


def _round_trip(value: Any) -> Any:
    return json.loads(json.dumps(value))


def _original() -> Any:
    installed = ActionExtractSlots._execute_validation_action
    return getattr(installed, "__wrapped__", installed)


def user(
    text: str,
    intent: str = "inform",
    *,
    emotion: str = "neutral",
    entities: list[dict[str, Any]] | None = None,
    **parse: Any,
) -> UserUttered:
    found = [
        *(entities or []),
        {"entity": "emotion", "value": emotion, "start": 0, "end": len(text)},
    ]
    return UserUttered(
        text,
        {"name": intent, "confidence": 0.9},
        found,
        {"emotion": {"name": emotion, "confidence": 0.9}, **parse},
    )


def listen() -> ActionExecuted:
    return ActionExecuted("action_listen")


OPENING = [ActionExecuted("action_session_start"), SessionStarted(), listen()]


def _shape(events: list[Any]) -> list[tuple[Any, ...]]:
    shaped = []
    for event in events:
        if isinstance(event, SlotSet):
            shaped.append(("slot", event.key, json.dumps(event.value)))
        elif isinstance(event, BotUttered):
            shaped.append(("bot", event.text, event.metadata.get("utter_action")))
        else:
            shaped.append((event.type_name,))
    return shaped


async def extract(
    domain: Domain, events: list[Any], validation: Any
) -> tuple[list[Any], list[str]]:
    """ActionExtractSlots on a tracker of `events` with `validation` as its validation
    step; its events and the action server calls made."""
    server = ActionServer()
    tracker = DialogueStateTracker.from_events(SENDER, events, slots=domain.slots)
    action = ActionExtractSlots(server.endpoint())
    original = ActionExtractSlots._execute_validation_action
    ActionExtractSlots._execute_validation_action = validation  # type: ignore[method-assign]
    try:
        result = await action.run(
            CollectingOutputChannel(),
            TemplatedNaturalLanguageGenerator(domain.responses),
            tracker,
            domain,
        )
    finally:
        ActionExtractSlots._execute_validation_action = original  # type: ignore[method-assign]
    return result, server.calls


async def both_ways(domain: Domain, events: list[Any]) -> tuple[list[Any], list[str]]:
    """The shortcut's events and calls, after checking its events equal the action
    server's."""
    asked, asked_calls = await extract(domain, events, _original())
    assert asked_calls == ["action_validate_slot_mappings"]
    quick, calls = await extract(
        domain, events, slot_validation._execute_validation_action(_original())
    )
    assert _shape(quick) == _shape(asked)
    return quick, calls


HARDSHIP = {"entity": "hardship", "value": "job loss", "start": 2, "end": 10}
QUIET = [
    pytest.param([*OPENING, user("hi who is this", "greet")], id="calm"),
    pytest.param([*OPENING, user("i lost my job", entities=[HARDSHIP])], id="global-slot"),
    pytest.param([*OPENING, user("ugh", "complain", emotion="angry")], id="one-angry"),
    pytest.param(
        [
            *OPENING,
            user("ugh", "complain", emotion="angry"),
            ActionExecuted("utter_sorry"),
            listen(),
            user("ok", "affirm"),
            listen(),
            user("NO", "deny", emotion="angry"),
        ],
        id="calm-between",
    ),
    pytest.param(
        [
            *OPENING,
            user("ugh", "complain", emotion="angry"),
            listen(),
            user("NO", "deny", emotion="angry"),
            listen(),
            user("STOP IT", "complain", emotion="angry"),
        ],
        id="three-angry",
    ),
    pytest.param(
        [
            *OPENING,
            user("ugh", "complain", emotion="angry"),
            ActionExecuted("action_session_start"),
            SessionStarted(),
            listen(),
            user("WHAT", "complain", emotion="angry"),
        ],
        id="new-session",
    ),
    pytest.param(
        [
            *OPENING,
            user("ugh", "complain", emotion="angry"),
            Restarted(),
            listen(),
            user("WHAT", "complain", emotion="angry"),
        ],
        id="restart",
    ),
    pytest.param(
        [
            *OPENING,
            SlotSet("angry_streak", 3.0),
            ActiveLoop("finances_form"),
            SlotSet("requested_slot", "monthly_income"),
            listen(),
            user("about 2000", entities=[HARDSHIP]),
        ],
        id="form-slot",
    ),
]


@pytest.mark.parametrize("events", QUIET)
async def test_a_quiet_turn_gives_the_action_servers_events_without_asking_it(
    domain: Domain, events: list[Any]
) -> None:
    quick, calls = await both_ways(domain, events)
    assert calls == []
    assert any(isinstance(e, SlotSet) and e.key == "angry_streak" for e in quick)


async def test_the_form_slot_stands_and_the_streak_resets(domain: Domain) -> None:
    quick, _ = await both_ways(domain, QUIET[-1].values[0])
    slots = [(e.key, e.value) for e in quick if isinstance(e, SlotSet)]
    assert ("angry_streak", 0.0) in slots and ("monthly_income", "about 2000") in slots


SPEAKING = [
    pytest.param(
        [*OPENING, user("my card is [card number removed]", card_number_redacted=True)],
        ["utter_card_warning"],
        id="card",
    ),
    pytest.param(
        [
            *OPENING,
            user("hi", "greet", metadata={"card_number_redacted": True}),
        ],
        ["utter_card_warning"],
        id="card-flagged-by-the-channel",
    ),
    pytest.param(
        [
            *OPENING,
            user("ugh", "complain", emotion="angry"),
            BotUttered("sorry"),
            listen(),
            user("YOU PEOPLE ARE A JOKE", "complain", emotion="angry"),
        ],
        ["utter_deescalate"],
        id="two-angry",
    ),
    pytest.param(
        [
            *OPENING,
            *[e for _ in range(3) for e in (user("NO", "deny", emotion="angry"), listen())],
            user("NO!!", "deny", emotion="angry", card_number_redacted=True),
        ],
        ["utter_card_warning", "utter_deescalate"],
        id="card-and-four-angry",
    ),
]


@pytest.mark.parametrize(("events", "said"), SPEAKING)
async def test_a_turn_with_something_to_say_still_asks_the_action_server(
    domain: Domain, events: list[Any], said: list[str]
) -> None:
    quick, calls = await both_ways(domain, events)
    assert calls == ["action_validate_slot_mappings"]
    assert [e.metadata.get("utter_action") for e in quick if isinstance(e, BotUttered)] == said


def test_the_shortcut_is_exact_only_for_an_action_that_adds_nothing_but_run() -> None:
    assert slot_validation.shortcut_is_exact(ValidateSlotMappings)

    class Validating(ValidateSlotMappings):
        def validate_hardship(self, *args: Any) -> dict[str, Any]:
            return {}

    class Extracting(ValidateSlotMappings):
        async def extract_offers(self, *args: Any) -> dict[str, Any]:
            return {}

    class Narrowing(ValidateSlotMappings):
        def domain_slots(self, domain: Any) -> list[str]:
            return []

    for changed in (Validating, Extracting, Narrowing, object):
        assert not slot_validation.shortcut_is_exact(changed)


def test_apply_installs_the_shortcut_once() -> None:
    installed = ActionExtractSlots._execute_validation_action
    try:
        assert slot_validation.apply() is True
        assert slot_validation.apply() is True
        current = ActionExtractSlots._execute_validation_action
        assert getattr(current, "_parley_speedup", False)
        assert not getattr(current.__wrapped__, "_parley_speedup", False)
    finally:
        ActionExtractSlots._execute_validation_action = installed  # type: ignore[method-assign]
