"""Per-message work in Parley's scikit-learn NLU components that can be done once at load,
applied by the Rasa launcher (bot/runtime/rasa_server.py) through rasa_speedups.apply().

Here and not in bot/nlu: everything under bot/nlu is part of the trained model's
fingerprint (bot/training.py), and a layout change that gives the same numbers must not
force every machine to retrain.

- The linear intent model and the emotion model end in a LogisticRegression. Predicting
  one message multiplies its sparse feature row by `coef_.T`; scipy's sparse-times-dense
  product needs that operand C-contiguous and copies the whole transposed matrix when it
  is not. Fitted weights are row-major, so every message copied 30 intents x 42,000
  features (~3 ms) for the intents and 5 x 45,000 for the emotions. Stored column-major,
  `coef_.T` is C-contiguous and nothing is copied: the same values multiplied and added in
  the same order, so the probabilities are identical to the last bit.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np


def lay_out_for_prediction(pipeline: Any) -> Any:
    """`pipeline` (in place) with its final linear estimator's weights column-major."""
    steps = getattr(pipeline, "steps", None)
    estimator = steps[-1][1] if steps else None
    coef = getattr(estimator, "coef_", None)
    if isinstance(coef, np.ndarray) and coef.ndim == 2 and not coef.flags.f_contiguous:
        estimator.coef_ = np.asfortranarray(coef)  # type: ignore[union-attr]
    return pipeline


def _load(original: Any) -> Any:
    @functools.wraps(original)
    def load(cls: Any, *args: Any, **kwargs: Any) -> Any:
        component = original(cls, *args, **kwargs)
        if getattr(component, "_pipeline", None) is not None:
            lay_out_for_prediction(component._pipeline)
        return component

    load._parley_speedup = True  # type: ignore[attr-defined]
    return load


def apply() -> None:
    """Install the speed-ups (idempotent)."""
    from bot.nlu.sklearn_component import SklearnComponent

    original = SklearnComponent.__dict__["load"].__func__
    if not getattr(original, "_parley_speedup", False):
        SklearnComponent.load = classmethod(_load(original))  # type: ignore[method-assign,assignment]
