"""Work Rasa 3.6 repeats on every turn that can be done once, applied by the Rasa launcher
(bot/runtime/rasa_server.py) before the server starts.

- Every custom action's response is checked against Rasa's response schema with
  `jsonschema.validate(result, schema)`, which first re-validates the schema itself
  against the JSON Schema meta-schema: on this schema (every event type) that check costs
  ~100 ms of the event loop per action call on a busy 2-core machine, against ~6 ms for
  the response check itself. The same check runs here with one validator built at start-up:
  same schema, same errors (`best_match`, as `jsonschema.validate` raises), same message.

Found by the turn profile (bench/profile_turn.py, reports/bench/turn_profile.md).
"""

from __future__ import annotations

import functools
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


def validate_action_result(self: Any, result: dict[str, Any]) -> bool:
    """RemoteAction._validate_action_result with the validator built once."""
    from jsonschema import ValidationError
    from jsonschema.exceptions import best_match
    from rasa.shared.constants import DOCS_BASE_URL

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


def apply() -> None:
    """Install the speed-ups (idempotent)."""
    global _applied
    if _applied:
        return
    from rasa.core.actions.action import RemoteAction

    action_response_validator()  # build it now, not during the first conversation
    RemoteAction._validate_action_result = validate_action_result  # type: ignore[method-assign]
    _applied = True
