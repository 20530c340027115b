"""`parley simulate` as a real process: output, report files, and bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def parley(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ}
    env.pop("PARLEY_DEBUG", None)
    env.pop("POLICY_FILE", None)
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "simulate", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


@pytest.fixture
def three_installments(tmp_path: Path) -> Path:
    path = tmp_path / "three.yml"
    path.write_text("name: three\ninstallments:\n  max_count: 3\n")
    return path


def test_json_compare_and_report(tmp_path: Path, three_installments: Path) -> None:
    out = tmp_path / "report"
    result = parley(
        "--debtors", "300", "--compare", str(three_installments), "--json", "--out", str(out)
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["affordability_violations"] == 0
    assert data["compare"]["policy"] == "three"
    assert data["compare"]["agreement_rate"] < data["agreement_rate"]
    assert set(data["baselines"]) == {
        "pay_in_full_or_nothing",
        "fixed_6_month_plan",
        "most_installments",
    }
    for baseline in data["baselines"].values():
        assert {"agreement_rate", "recovery_expected", "affordability_violations"} <= set(baseline)
    files = {p.name for p in out.iterdir()}
    assert {
        "summary.md",
        "summary.json",
        "recovery_vs_disposable_left.png",
        "agreement_by_income_band.png",
    } <= files
    summary = (out / "summary.md").read_text()
    assert "Side by side" in summary and "## Assumptions" in summary


def test_text_output_names_the_strategies(tmp_path: Path) -> None:
    result = parley("--debtors", "50", "--seed", "3", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "Parley (default)" in result.stdout and "pay in full or nothing" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--debtors", "0"], "--debtors must be at least 1 (got 0)"),
        (["--debtors", "-5"], "--debtors must be at least 1 (got -5)"),
        (["--seed", "-1"], "--seed must be 0 or more (got -1)"),
    ],
)
def test_bad_numbers_are_one_clear_line(args: list[str], message: str, tmp_path: Path) -> None:
    result = parley(*args, "--out", str(tmp_path))
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [f"parley: error: {message}"]
    assert result.stdout == ""


def test_an_unknown_policy_key_is_one_clear_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("installments:\n  max_cont: 3\n")
    result = parley("--policy", str(bad), "--out", str(tmp_path))
    assert result.returncode != 0
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("parley: error:") and "installments.max_cont" in line
    assert "did you mean installments.max_count?" in line


def test_a_bad_population_file_is_one_clear_line(tmp_path: Path) -> None:
    bad = tmp_path / "population.yml"
    bad.write_text("hardship:\n  none: '0.9'\n")
    result = parley("--population", str(bad), "--out", str(tmp_path))
    assert result.returncode != 0
    [line] = result.stderr.strip().splitlines()
    assert "must add up to 1" in line
