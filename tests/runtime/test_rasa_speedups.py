"""The Rasa launcher's speed-ups change how often work is done, never the outcome."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.events import ActionExecuted, UserUttered

from bench.legacy import validate_action_result_every_time
from bot.runtime import rasa_speedups

VALID = [
    {"events": [], "responses": []},
    {
        "events": [
            {"event": "slot", "name": "verified", "value": True, "timestamp": None},
            {"event": "active_loop", "name": None},
            {"event": "followup", "name": "action_present_offers"},
        ],
        "responses": [{"response": "utter_greet", "text": None}],
    },
    {},
]
INVALID = [
    {"events": [{"event": "no_such_event"}]},
    {"events": "not a list"},
    {"responses": [42]},
    {"events": [{"event": "slot"}]},
]


def _error(check: Any, result: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as caught:
        check(RemoteAction("x", None), result)
    return caught.value.message


@pytest.mark.parametrize("result", VALID)
def test_valid_action_responses_pass_as_before(result: dict[str, Any]) -> None:
    action = RemoteAction("x", None)
    assert rasa_speedups.validate_action_result(action, result) is True
    assert validate_action_result_every_time(action, result) is True


@pytest.mark.parametrize("result", INVALID)
def test_invalid_action_responses_fail_with_the_same_message(result: dict[str, Any]) -> None:
    mine = _error(rasa_speedups.validate_action_result, result)
    rasas = _error(validate_action_result_every_time, result)
    assert mine == rasas
    assert "Failed to validate Action server response" in mine


def test_apply_replaces_rasas_check_once_and_builds_the_validator_up_front() -> None:
    original = RemoteAction._validate_action_result
    try:
        rasa_speedups._applied = False
        rasa_speedups.apply()
        rasa_speedups.apply()
        assert RemoteAction._validate_action_result is rasa_speedups.validate_action_result
        assert rasa_speedups.action_response_validator.cache_info().currsize == 1
        with pytest.raises(ValidationError):
            RemoteAction("x", None)._validate_action_result({"events": 1})
    finally:
        RemoteAction._validate_action_result = original  # type: ignore[method-assign]
        rasa_speedups._applied = False


MORE_INVALID = [
    {"events": [{"event": "user", "text": 42}]},
    {"events": [{"event": "slot", "name": "x", "value": 1, "timestamp": "soon"}]},
    {"events": [{"name": "x"}]},
    {"events": [{"event": 7}]},
    {"events": None},
    {"events": [], "responses": "hi"},
    [],
]


@pytest.mark.parametrize("result", VALID + INVALID + MORE_INVALID)
def test_the_quick_check_never_passes_what_the_full_check_fails(result: Any) -> None:
    full = rasa_speedups.action_response_validator().is_valid(result)
    assert rasa_speedups.quickly_valid(result) == full


@pytest.mark.parametrize("result", MORE_INVALID)
def test_more_invalid_responses_fail_with_the_same_message(result: Any) -> None:
    assert _error(rasa_speedups.validate_action_result, result) == _error(
        validate_action_result_every_time, result
    )


def test_event_classes_are_resolved_by_name_as_rasa_does() -> None:
    from rasa.shared.core.events import Event, SlotSet

    original = Event.__dict__["resolve_by_type"]
    try:
        rasa_speedups._applied = False
        rasa_speedups.apply()
        for name, cls in (("slot", SlotSet), ("user", UserUttered), ("action", ActionExecuted)):
            assert Event.resolve_by_type(name) is cls
            assert Event.resolve_by_type(name) is cls  # the second time from the cache
        assert Event.resolve_by_type("topic") is None
        assert Event.resolve_by_type("nope", default=SlotSet) is SlotSet
        with pytest.raises(ValueError, match="Unknown event name"):
            Event.resolve_by_type("nope")
        event = Event.from_parameters({"event": "slot", "name": "verified", "value": True})
        assert event == SlotSet("verified", True)
    finally:
        Event.resolve_by_type = original
        rasa_speedups._applied = False


def _ted_node(**attributes: Any) -> Any:
    from types import SimpleNamespace

    from rasa.core.policies.ted_policy import TEDPolicy

    ted = TEDPolicy.__new__(TEDPolicy)  # the attributes the check reads, no trained model
    ted.model = object()
    ted.priority = 1
    ted.only_e2e = False
    ted.fake_features = {"intent": [], "action_name": []}
    for name, value in attributes.items():
        setattr(ted, name, value)
    return SimpleNamespace(
        _component=ted,
        _inputs={"tracker": "tracker_node", "domain": "domain_node"},
        _node_name="run_TEDPolicy2",
    )


def _inputs(events: list[Any]) -> tuple[Any, ...]:
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.trackers import DialogueStateTracker

    domain = Domain.empty()
    tracker = DialogueStateTracker.from_events("someone", events)
    return (("tracker_node", tracker), ("domain_node", domain), "unresolved")


def _prediction(confidence: float, policy: str, priority: int) -> Any:
    from rasa.core.policies.policy import PolicyPrediction

    return PolicyPrediction([confidence, 0.0], policy, policy_priority=priority)


LISTENED = [ActionExecuted("action_listen"), UserUttered("hi", {"name": "greet"})]


@pytest.mark.parametrize(
    "decided_by", [("RulePolicy", 6), ("MemoizationPolicy", 3), ("AugmentedMemoization", 3)]
)
def test_ted_is_not_run_when_a_certain_higher_priority_prediction_exists(
    decided_by: tuple[str, int],
) -> None:
    predictions = [_prediction(0.0, "MemoizationPolicy", 3), _prediction(1.0, *decided_by)]
    stand_in = rasa_speedups.ted_cannot_win(_ted_node(), _inputs(LISTENED), predictions)
    assert stand_in is not None
    assert stand_in.policy_name == "TEDPolicy" and stand_in.policy_priority == 1
    assert stand_in.max_confidence == 0.0 and not stand_in.is_end_to_end_prediction
    assert stand_in.events == [] and stand_in.optional_events == []


def test_ted_runs_whenever_it_could_change_the_choice() -> None:
    from rasa.shared.core.events import ActionExecutionRejected

    certain = [_prediction(1.0, "RulePolicy", 6)]
    check = rasa_speedups.ted_cannot_win
    # Nothing certain yet: a rule's core fallback (0.3), memoization unsure, nothing run.
    assert check(_ted_node(), _inputs(LISTENED), [_prediction(0.3, "RulePolicy", 6)]) is None
    assert check(_ted_node(), _inputs(LISTENED), [_prediction(0.99, "Memo", 3)]) is None
    assert check(_ted_node(), _inputs(LISTENED), []) is None
    # Certain, but from a policy TED outranks.
    assert check(_ted_node(), _inputs(LISTENED), [_prediction(1.0, "Low", 0)]) is None
    # The last action was rejected: the ensemble zeroes it in every prediction.
    rejected = [*LISTENED, ActionExecutionRejected("action_present_offers")]
    assert check(_ted_node(), _inputs(rejected), certain) is None
    # ... but a later action executed ends that.
    executed = [*rejected, ActionExecuted("utter_greet")]
    assert check(_ted_node(), _inputs(executed), certain) is not None
    # TED trained with text could make an end-to-end prediction after a user message.
    texts = {"text": [], "intent": []}
    assert check(_ted_node(fake_features=texts), _inputs(LISTENED), certain) is None
    assert check(_ted_node(fake_features=texts), _inputs(executed), certain) is not None
    assert check(_ted_node(only_e2e=True), _inputs(executed), certain) is None
    # No trained model, or not TED at all.
    assert check(_ted_node(model=None), _inputs(LISTENED), certain) is None
    node = _ted_node()
    node._component = object()
    assert check(node, _inputs(LISTENED), certain) is None


class _AddOne:
    """A graph component: its input plus one."""

    @classmethod
    def create(cls, *args: Any, **kwargs: Any) -> _AddOne:
        return cls()

    def run(self, x: int) -> int:
        return x + 1


def _runner(tmp_path: Any) -> Any:
    from rasa.engine.graph import ExecutionContext, GraphComponent, GraphSchema, SchemaNode
    from rasa.engine.runner.dask import DaskGraphRunner
    from rasa.engine.storage.local_model_storage import LocalModelStorage

    component = type("AddOne", (_AddOne, GraphComponent), {})
    nodes = {
        "first": SchemaNode({"x": "start"}, component, "create", "run", {}),
        "second": SchemaNode({"x": "first"}, component, "create", "run", {}),
        "third": SchemaNode({"x": "second"}, component, "create", "run", {}),
    }
    schema = GraphSchema(nodes)
    return DaskGraphRunner(schema, LocalModelStorage(tmp_path), ExecutionContext(schema, "m"))


def test_a_graph_is_built_once_per_set_of_targets_and_runs_as_before(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rasa.engine.graph import GraphSchema

    runner = _runner(tmp_path)
    expected = [runner.run({"start": n}, ["third"]) for n in (1, 5)]
    walks: list[Any] = []
    walk = GraphSchema.minimal_graph_schema
    monkeypatch.setattr(
        GraphSchema, "minimal_graph_schema", lambda self, t=None: walks.append(t) or walk(self, t)
    )
    fresh = _runner(tmp_path)
    got = [rasa_speedups.run_graph(fresh, {"start": n}, ["third"]) for n in (1, 5)]
    assert got == expected == [{"third": 4}, {"third": 8}]
    assert rasa_speedups.run_graph(fresh, {"start": 0}, ["first", "second"]) == {
        "first": 1,
        "second": 2,
    }
    assert walks == [["third"], ["first", "second"]]  # built once per set of targets
    # each run's inputs stay in that run
    assert all("start" not in graph for graph in fresh._parley_dask_graphs.values())
