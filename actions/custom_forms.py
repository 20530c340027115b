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

# Unusable answers in a row cycle through the question's wordings in the domain: the
# plain question (0), rephrased with why it is asked (1), the offer of a person or a
# later time (2), so the same prompt never comes twice in a row.
WORDINGS = 3


class CustomFormValidationAction(FormValidationAction, ABC):
    """Tracks `form_failures` (reset on any valid answer). The form's next question is a
    response whose variations are conditioned on it (`utter_ask_<slot>` in the domain),
    so trainers word the rephrasing and the way out in YAML."""

    @abstractmethod
    def name(self) -> str:
        """The validation action's name, `validate_<form name>`."""

    def failed(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, response: str, **kwargs: Any
    ) -> dict[str, Any]:
        """Say (once) why the answer didn't work; returns the failure-count slot update."""
        failures = (int(tracker.get_slot("form_failures") or 0) + 1) % WORDINGS
        if failures == 1:
            dispatcher.utter_message(response=response, **kwargs)
        return {"form_failures": float(failures)}

    @staticmethod
    def succeeded() -> dict[str, Any]:
        return {"form_failures": 0.0}
