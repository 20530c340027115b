"""The conversation lives in data: what the rules and stories may route, read from the YAML.

- no custom action is reached straight from more than 6 intents (an action does one
  business step; a dispatcher reached from every intent hides the conversation in
  Python), and no Python table maps intents to utterances or handlers;
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
        if len(intents) > MAX_INTENTS_PER_ACTION
    }
    assert not too_many, f"custom actions reached from more than 6 intents: {too_many}"


def _intent_tables(source: str, intents: set[str]) -> list[int]:
    """Lines of dict literals keyed by intent names whose values are utterances or code."""
    import ast

    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Dict):
            continue
        keyed = [
            value
            for key, value in zip(node.keys, node.values, strict=True)
            if isinstance(key, ast.Constant) and key.value in intents
        ]
        chooses = [
            v
            for v in keyed
            if isinstance(v, ast.Name | ast.Lambda | ast.Attribute)
            or (isinstance(v, ast.Constant) and str(v.value).startswith("utter_"))
        ]
        if len(chooses) >= 2:
            found.append(node.lineno)
    return found


def test_intent_tables_are_found() -> None:
    intents = {"greet", "affirm"}
    assert _intent_tables('T = {"greet": handle, "affirm": lambda t: t}', intents) == [1]
    assert _intent_tables('T = {"greet": "utter_a", "affirm": "utter_b"}', intents) == [1]
    assert _intent_tables('K = {"greet": "payment", "affirm": "deferral"}', intents) == []


def test_no_python_table_maps_intents_to_utterances() -> None:
    intents = set(_domain()["intents"]) | {"nlu_fallback"}
    tables = {
        str(path.relative_to(PROJECT_ROOT)): lines
        for path in sorted((PROJECT_ROOT / "actions").rglob("*.py"))
        if (lines := _intent_tables(path.read_text(), intents))
    }
    assert not tables, f"intent tables in Python (move them to rules): {tables}"


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
def test_trainer_examples_use_only_names_the_project_has(example: Path) -> None:
    """Rasa puts every action and intent named in rules and stories into the NLU's
    training data: an example with a new name would retrain the whole NLU in
    `make trainer-check` instead of only the dialogue policies."""
    domain = _domain()
    added = (yaml.safe_load((example / "domain.yml").read_text()) or {}).get("responses") or {}
    assert set(added) <= set(domain["responses"]), "examples change existing responses"
    known = set(domain["responses"]) | set(domain["actions"]) | {"action_listen"}
    for flow in _flows([example / "rules.yml"]):
        for step in flow["steps"]:
            if "action" in step:
                assert step["action"] in known, f"{example.name}: {step['action']} is new"
            for intent in _intents(step):
                assert intent in domain["intents"], f"{example.name}: {intent} is new"
