"""How much work a call does, counted rather than timed (no wall clock in `make test`).

`steps` counts the Python-level events (calls, lines, returns) a call runs: the same for
the same code and input whatever else the machine is doing. Comparing the steps for an
input and for the same input doubled shows whether the work grows linearly.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

# Twice the input may cost at most this many times the work (linear, plus fixed costs).
LINEAR_GROWTH = 2.5


def steps(function: Callable[..., Any], *args: Any) -> int:
    """The number of Python trace events `function(*args)` produces."""
    count = 0

    def tracer(frame: Any, event: str, arg: Any) -> Any:
        nonlocal count
        count += 1
        return tracer

    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        function(*args)
    finally:
        sys.settrace(previous)
    return count


def growth(function: Callable[[str], Any], text: str) -> float:
    """The work on `text` doubled, divided by the work on `text`."""
    return steps(function, text + text) / max(steps(function, text), 1)
