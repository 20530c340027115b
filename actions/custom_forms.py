"""A form validation base that notices when a debtor keeps getting stuck.

In the spirit of RasaHQ/financial-demo's CustomFormValidationAction: count unusable
answers; after a few, say why we ask and offer to continue later or with a person.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction

# After this many unusable answers in a row the bot offers a way out.
FAILURES_BEFORE_HELP = 3


class CustomFormValidationAction(FormValidationAction, ABC):
    """Tracks `form_failures`: reset on any valid answer, offer help every N misses."""

    @abstractmethod
    def name(self) -> str:
        """The validation action's name, `validate_<form name>`."""

    def failed(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, response: str, **kwargs: Any
    ) -> dict[str, Any]:
        """Say why the answer didn't work; returns the failure-count slot update."""
        failures = int(tracker.get_slot("form_failures") or 0) + 1
        if failures % FAILURES_BEFORE_HELP == 0:
            dispatcher.utter_message(response="utter_form_help_offer", **kwargs)
        else:
            dispatcher.utter_message(response=response, **kwargs)
        return {"form_failures": float(failures)}

    @staticmethod
    def succeeded() -> dict[str, Any]:
        return {"form_failures": 0.0}
