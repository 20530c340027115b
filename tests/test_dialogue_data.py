"""The conversation lives in data: what the rules and stories may route, read from the YAML.

- no custom action is reached straight from more than 6 intents (an action does one
  business step; a dispatcher reached from every intent hides the conversation in
  Python). `action_respond` is the dispatcher being moved to data: its count may only go
  down (issue 12);
- every condition a rule reads is a featurized slot that actions set, so the rule can fire;
- the trainers' worked examples name only responses and slots that exist.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.settings import PROJECT_ROOT

DATA = PROJECT_ROOT / "data"
EXAMPLES = PROJECT_ROOT / "examples" / "trainers"
MAX_INTENTS_PER_ACTION = 6
# The intents action_respond still answers; lower it as answers move to rules.
ACTION_RESPOND_CEILING = 28


def _domain() -> dict[str, Any]:
    return dict(yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text()))


def _flows(paths: list[Path]) -> list[dict[str, Any]]:
    flows: list[dict[str, Any]] = []
    for path in paths:
        content = yaml.safe_load(path.read_text()) or {}
        flows += content.get("rules") or []
        flows += content.get("stories") or []
    return flows


def _intents(step: dict[str, Any]) -> list[str]:
    if "intent" in step:
        return [str(step["intent"])]
    return [str(s["intent"]) for s in step.get("or") or [] if "intent" in s]


def intents_per_action(flows: list[dict[str, Any]], custom: set[str]) -> dict[str, set[str]]:
    """For each custom action, the intents right before it in some rule or story."""
    reached: dict[str, set[str]] = defaultdict(set)
    for flow in flows:
        steps = flow.get("steps") or []
        for before, after in zip(steps, steps[1:], strict=False):
            action = after.get("action")
            if action in custom:
                reached[str(action)].update(_intents(before))
    return reached


def _data_files() -> list[Path]:
    return sorted((DATA / "rules").rglob("*.yml")) + sorted((DATA / "stories").rglob("*.yml"))


def test_intents_per_action_counts_what_the_yaml_says() -> None:
    flows = [
        {"steps": [{"intent": "a"}, {"action": "action_x"}, {"action": "utter_y"}]},
        {"steps": [{"or": [{"intent": "b"}, {"intent": "c"}]}, {"action": "action_x"}]},
        {"steps": [{"intent": "d"}, {"action": "utter_z"}, {"action": "action_x"}]},
    ]
    assert intents_per_action(flows, {"action_x"}) == {"action_x": {"a", "b", "c"}}


def test_no_custom_action_is_reached_from_more_than_six_intents() -> None:
    domain = _domain()
    custom = {a for a in domain["actions"] if not a.startswith("validate_")}
    reached = intents_per_action(_flows(_data_files()), custom)
    assert reached, "no custom action found after an intent: the reader is broken"
    too_many = {
        action: sorted(intents)
        for action, intents in reached.items()
        if action != "action_respond" and len(intents) > MAX_INTENTS_PER_ACTION
    }
    assert not too_many, f"custom actions reached from more than 6 intents: {too_many}"
    dispatcher = reached.get("action_respond", set())
    assert len(dispatcher) <= ACTION_RESPOND_CEILING, (
        f"action_respond is reached from {len(dispatcher)} intents, more than the "
        f"{ACTION_RESPOND_CEILING} of today: answer new intents with responses and rules"
    )


def test_answers_moved_to_data_do_not_go_back_to_the_dispatcher() -> None:
    domain = _domain()
    reached = intents_per_action(_flows(_data_files()), set(domain["actions"]))
    moved = {"bot_challenge", "ask_help", "question_legitimacy"}
    assert not moved & reached.get("action_respond", set())


def _conditions(flow: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for condition in flow.get("condition") or []:
        for slot in condition.get("slot_was_set") or []:
            found.update(slot)
    return found


@pytest.mark.parametrize("path", _data_files() + sorted(EXAMPLES.rglob("rules.yml")), ids=str)
def test_rule_conditions_read_featurized_slots_with_known_values(path: Path) -> None:
    slots = _domain()["slots"]
    for flow in _flows([path]):
        for name, value in _conditions(flow).items():
            assert name in slots, f"{path.name}: {flow.get('rule')}: no slot {name!r}"
            slot = slots[name]
            assert slot.get("influence_conversation") is True, (
                f"{path.name}: {flow.get('rule')}: {name!r} is not featurized, "
                "so the condition can never be told apart"
            )
            if slot["type"] == "categorical":
                assert value in slot["values"], f"{name}: {value!r} not in {slot['values']}"


@pytest.mark.parametrize("example", sorted(p.parent for p in EXAMPLES.rglob("rules.yml")), ids=str)
def test_trainer_examples_use_responses_that_exist(example: Path) -> None:
    domain = _domain()
    added = (yaml.safe_load((example / "domain.yml").read_text()) or {}).get("responses") or {}
    known = set(domain["responses"]) | set(added)
    assert not set(added) & set(domain["responses"]), "an example must add new responses"
    for flow in _flows([example / "rules.yml"]):
        for step in flow["steps"]:
            action = step.get("action")
            if action and action.startswith("utter_"):
                assert action in known, f"{example.name}: {action} is not a response"
