"""Pure helpers for the benchmarks: percentiles, summaries, ratios and markdown tables."""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any


def percentile(values: Sequence[float], q: float) -> float:
    """The q-quantile (0 <= q <= 1) with linear interpolation between ranks (numpy's
    default): percentile([1, 2, 3, 4], 0.5) == 2.5. Raises ValueError on no values."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= q <= 1:
        raise ValueError(f"quantile must be within [0, 1], got {q}")
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def latency_summary(seconds: Sequence[float], digits: int = 1) -> dict[str, float]:
    """Count, mean, p50/p95/p99 and max in milliseconds of durations in seconds."""
    if not seconds:
        return {"count": 0}
    ms = [s * 1000 for s in seconds]
    return {
        "count": len(ms),
        "mean_ms": round(statistics.fmean(ms), digits),
        "p50_ms": round(percentile(ms, 0.50), digits),
        "p95_ms": round(percentile(ms, 0.95), digits),
        "p99_ms": round(percentile(ms, 0.99), digits),
        "max_ms": round(max(ms), digits),
    }


def load_summary(latencies: Sequence[float], wall_s: float, errors: int) -> dict[str, Any]:
    """A load run: latency percentiles, messages per second over the wall time, errors."""
    summary: dict[str, Any] = latency_summary(latencies)
    summary["wall_s"] = round(wall_s, 2)
    summary["throughput_msg_s"] = round(len(latencies) / wall_s, 2) if wall_s > 0 else 0.0
    summary["errors"] = errors
    return summary


def ratio(value: float | None, baseline: float | None) -> float | None:
    """value / baseline rounded to 2 places; None when either is missing or zero."""
    if not value or not baseline:
        return None
    return round(value / baseline, 2)


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A GitHub markdown table; None shows as an en dash, floats as given."""

    def cell(value: Any) -> str:
        if value is None:
            return "–"
        return str(value).replace("|", "\\|")

    lines = [
        "| " + " | ".join(headers) + " |",
        "|" + "|".join("---" for _ in headers) + "|",
    ]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def write_json(path: Path, data: Mapping[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
    return path
