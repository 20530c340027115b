"""`parley simulate --through-bot` against the trained model (a few debtors only)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import MODEL

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_three_debtors_text_the_served_model(tmp_path: Path) -> None:
    if not MODEL.exists():
        pytest.fail(f"no trained model at {MODEL}: run `make test` (it trains first)")
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false"}
    env.pop("PARLEY_DEBUG", None)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot.cli",
            "simulate",
            "--through-bot",
            "--debtors",
            "3",
            "--seed",
            "2",
            "--json",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    data = json.loads(result.stdout)
    assert data["debtors"] == 3 and data["engine"]["debtors"] == 3
    assert data["affordability_violations"] == 0
    assert data["rule_violations"] == []
    assert data["stuck_loops"] == 0
    assert {"agreement_rate", "baselines", "turns_per_agreement"} <= set(data)
    assert (tmp_path / "through_bot.md").exists()
    assert (tmp_path / "through_bot_transcripts.md").exists()
