"""Work Rasa 3.6 repeats on every turn that can be done once, applied by the Rasa launcher
(bot/runtime/rasa_server.py) before the server starts.

- Every custom action's response is checked against Rasa's response schema with
  `jsonschema.validate(result, schema)`, which first re-validates the schema itself
  against the JSON Schema meta-schema: on this schema (every event type) that check costs
  ~100 ms of the event loop per action call on a busy 2-core machine, against ~6 ms for
  the response check itself. The same check runs here with one validator built at start-up:
  same schema, same errors (`best_match`, as `jsonschema.validate` raises), same message.
- Even with the validator built once, the response check costs ~4 ms per action call:
  each event is tried against every one of the schema's 23 `oneOf` event types. Every
  type pins `event` to its own constant, so an event can only ever match the type its
  `event` names: a response is first checked that way (the event against the common part
  and the one type it names), and only a response that fails that quick check goes
  through the full check, which then raises exactly the error it always did.
- `Event.resolve_by_type` (every event of a tracker read from the store, or returned by
  an action) walks every subclass of `Event` (`all_subclasses`, `inspect.isabstract` on
  each) to find one class by name: ~7 ms of a turn. The class found for a name is kept.
- Every prediction runs MemoizationPolicy, RulePolicy and TEDPolicy (in that order) and
  the ensemble picks the prediction with the highest (confidence, priority). When the
  memoization or rule prediction already has confidence 1.0, TED (priority 1, below both,
  confidence at most 1.0, never an end-to-end prediction when it was trained without
  text) cannot win, and its events are never used: TED is not run and a prediction of
  zeros stands in for it. It still runs when an action was rejected (the ensemble then
  zeroes that action in every prediction), when TED could predict from text, or when
  the other policies ran after it. TED was ~a quarter of the Rasa server's time per turn.
- Every graph run (NLU once a message, the policies once per predicted action) starts
  with `GraphSchema.minimal_graph_schema(targets)`, a recursive walk of every path
  through the graph without memory (~3 ms a message), and builds the dask graph from it.
  The schema of a loaded model never changes: the dask graph is built once per set of
  targets and copied for each run, the inputs added to the copy as before.

Found by the turn profile (bench/profile_turn.py, reports/bench/turn_profile.md).
`apply()` also installs the speed-ups kept in their own modules: bot/runtime/nlu_speedups.py
(the NLU classifiers' weights), bot/runtime/slot_validation.py (the every-turn action
answered in the Rasa server when it would say nothing) and bot/runtime/action_connections.py
(kept-alive connections to the action server).
"""

from __future__ import annotations

import functools
from contextvars import ContextVar
from typing import Any

_applied = False


@functools.lru_cache(maxsize=1)
def action_response_validator() -> Any:
    """A validator for Rasa's action server response schema, the schema checked once."""
    from jsonschema import validators
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    cls = validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


@functools.lru_cache(maxsize=1)
def _quick_validators() -> tuple[Any, Any, dict[str, Any]]:
    """Validators for the quick check: the response with `events` only checked to be an
    array; one event against the schema's common part (no `oneOf`); each event type's
    own schema by the `event` constant it requires."""
    from jsonschema import validators
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    cls = validators.validator_for(schema)
    events = schema["properties"]["events"]
    event = dict(events["items"])
    variants = event.pop("oneOf")
    by_type: dict[str, Any] = {}
    for variant in variants:
        name = variant["properties"]["event"]["const"]
        # Distinct constants are what makes the quick check exact (only one type can match).
        assert isinstance(name, str) and name not in by_type, name
        by_type[name] = cls(variant)
    response = {
        **schema,
        "properties": {**schema["properties"], "events": {"type": events["type"]}},
    }
    return cls(response), cls(event), by_type


def quickly_valid(result: Any) -> bool:
    """True only when `result` is valid under Rasa's response schema (False: not known)."""
    response, event, by_type = _quick_validators()
    if not response.is_valid(result):
        return False
    for item in result.get("events") or ():
        if not event.is_valid(item):
            return False
        variant = by_type.get(item["event"])
        if variant is None or not variant.is_valid(item):
            return False
    return True


def validate_action_result(self: Any, result: dict[str, Any]) -> bool:
    """RemoteAction._validate_action_result with the validator built once."""
    from jsonschema import ValidationError
    from jsonschema.exceptions import best_match
    from rasa.shared.constants import DOCS_BASE_URL

    if quickly_valid(result):
        return True
    error = best_match(action_response_validator().iter_errors(result))
    if error is None:
        return True
    assert isinstance(error, ValidationError)
    error.message += (
        ". Failed to validate Action server response from API, "
        "make sure your response from the Action endpoint is valid. "
        f"For more information about the format visit {DOCS_BASE_URL}/custom-actions"
    )
    raise error


_EVENT_CLASSES: dict[str, Any] = {}


def resolve_event_type(type_name: str, default: Any = None) -> Any:
    """Event.resolve_by_type, the class found for each name kept (the same lookup, once)."""
    found = _EVENT_CLASSES.get(type_name)
    if found is not None:
        return found
    result = _ORIGINAL_RESOLVE[0](type_name, default)
    if result is not None and result is not default:
        _EVENT_CLASSES[type_name] = result
    return result


_ORIGINAL_RESOLVE: list[Any] = []

# The policy predictions of the graph run in progress (None outside a graph run).
_RUN_PREDICTIONS: ContextVar[list[Any] | None] = ContextVar("parley_run_predictions", default=None)


def ted_cannot_win(node: Any, inputs: tuple[Any, ...], predictions: list[Any]) -> Any:
    """A stand-in prediction when TED cannot change the ensemble's choice, else None."""
    from rasa.core.policies.ted_policy import TEDPolicy
    from rasa.shared.core.constants import ACTION_LISTEN_NAME
    from rasa.shared.core.events import ActionExecuted, ActionExecutionRejected
    from rasa.shared.nlu.constants import TEXT

    ted = getattr(node, "_component", None)
    if not isinstance(ted, TEDPolicy) or ted.model is None:
        return None
    if not any(p.max_confidence >= 1.0 and p.policy_priority > ted.priority for p in predictions):
        return None
    received: dict[str, Any] = dict(i for i in inputs if isinstance(i, tuple))
    tracker = received.get(node._inputs.get("tracker"))
    domain = received.get(node._inputs.get("domain"))
    if tracker is None or domain is None:
        return None
    if ted.only_e2e or (
        TEXT in ted.fake_features and tracker.latest_action_name == ACTION_LISTEN_NAME
    ):
        return None  # TED could make an end-to-end prediction, which overrules the rest
    last_action = next(
        (
            event
            for event in reversed(tracker.events)
            if isinstance(event, (ActionExecutionRejected, ActionExecuted))
        ),
        None,
    )
    if isinstance(last_action, ActionExecutionRejected):
        return None
    return ted._prediction(ted._default_predictions(domain))


def run_graph(self: Any, inputs: Any = None, targets: Any = None) -> Any:
    """DaskGraphRunner.run with the dask graph of each set of targets built once."""
    import dask
    from rasa.engine.exceptions import GraphRunError
    from rasa.engine.runner import dask as rasa_dask

    run_targets = targets if targets else self._graph_schema.target_names
    built: dict[tuple[str, ...], dict[str, Any]] = self.__dict__.setdefault(
        "_parley_dask_graphs", {}
    )
    key = tuple(run_targets)
    graph = built.get(key)
    if graph is None:
        graph = self._build_dask_graph(self._graph_schema.minimal_graph_schema(run_targets))
        built[key] = graph
    run_graph = dict(graph)  # the inputs go into this run's copy only
    if inputs:
        self._add_inputs_to_graph(inputs, run_graph)
    rasa_dask.logger.debug(
        f"Running graph with inputs: {inputs}, targets: {targets} and {self._execution_context}."
    )
    try:
        dask_result = dask.get(run_graph, run_targets)
        return dict(dask_result)
    except RuntimeError as e:
        raise GraphRunError("Error running runner.") from e


def _graph_run(original: Any) -> Any:
    @functools.wraps(original)
    def run(self: Any, inputs: Any = None, targets: Any = None) -> Any:
        token = _RUN_PREDICTIONS.set([])
        try:
            return run_graph(self, inputs, targets)
        finally:
            _RUN_PREDICTIONS.reset(token)

    run._parley_speedup = True  # type: ignore[attr-defined]
    return run


def _node_call(original: Any) -> Any:
    from rasa.core.policies.policy import PolicyPrediction

    @functools.wraps(original)
    def call(self: Any, *inputs: Any) -> Any:
        predictions = _RUN_PREDICTIONS.get()
        if predictions is not None:
            stand_in = ted_cannot_win(self, inputs, predictions)
            if stand_in is not None:
                return self._node_name, stand_in
        result = original(self, *inputs)
        if predictions is not None and isinstance(result[1], PolicyPrediction):
            predictions.append(result[1])
        return result

    call._parley_speedup = True  # type: ignore[attr-defined]
    return call


def apply() -> None:
    """Install the speed-ups (idempotent)."""
    global _applied
    if _applied:
        return
    from rasa.core.actions.action import RemoteAction
    from rasa.engine.graph import GraphNode
    from rasa.engine.runner.dask import DaskGraphRunner
    from rasa.shared.core.events import Event

    from bot.runtime import action_connections, nlu_speedups, slot_validation

    action_response_validator()  # build it now, not during the first conversation
    _quick_validators()
    RemoteAction._validate_action_result = validate_action_result  # type: ignore[method-assign]
    if not _ORIGINAL_RESOLVE:
        _ORIGINAL_RESOLVE.append(Event.resolve_by_type)
    Event.resolve_by_type = staticmethod(resolve_event_type)  # type: ignore[method-assign]
    if not getattr(DaskGraphRunner.run, "_parley_speedup", False):
        DaskGraphRunner.run = _graph_run(DaskGraphRunner.run)  # type: ignore[method-assign]
    if not getattr(GraphNode.__call__, "_parley_speedup", False):
        GraphNode.__call__ = _node_call(GraphNode.__call__)  # type: ignore[method-assign]
    nlu_speedups.apply()
    slot_validation.apply()
    action_connections.apply()
    _applied = True
