"""The benchmarks' pure helpers: percentiles, summaries, ratios, report writing, and the
profiling mode's statement classifier (no servers, no timing)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.profile_turn import summarize, write_markdown
from bench.run_all import comparison_rows, training_times, verdict, write_summary
from bench.stats import latency_summary, load_summary, markdown_table, percentile, ratio
from bot.runtime.profiling import statement_table


def test_percentile_interpolates_between_ranks() -> None:
    assert percentile([4, 1, 3, 2], 0.5) == 2.5
    assert percentile([1, 2, 3, 4], 0) == 1
    assert percentile([1, 2, 3, 4], 1) == 4
    assert percentile([10], 0.95) == 10
    assert percentile(list(range(101)), 0.95) == pytest.approx(95)


@pytest.mark.parametrize("bad", [-0.1, 1.5])
def test_percentile_refuses_a_quantile_outside_0_1(bad: float) -> None:
    with pytest.raises(ValueError, match="quantile"):
        percentile([1, 2], bad)


def test_percentile_of_nothing_is_an_error() -> None:
    with pytest.raises(ValueError, match="no values"):
        percentile([], 0.5)


def test_latency_and_load_summaries_are_in_milliseconds() -> None:
    summary = latency_summary([0.1, 0.2, 0.3, 0.4])
    assert summary["count"] == 4
    assert summary["p50_ms"] == 250.0 and summary["max_ms"] == 400.0
    load = load_summary([0.1] * 20, wall_s=4.0, errors=1)
    assert load["throughput_msg_s"] == 5.0 and load["errors"] == 1 and load["wall_s"] == 4.0
    assert latency_summary([]) == {"count": 0}
    assert load_summary([], 0, 0)["throughput_msg_s"] == 0.0


def test_ratio_is_none_without_a_baseline() -> None:
    assert ratio(300, 100) == 3.0
    assert ratio(1, 3) == 0.33
    assert ratio(5, 0) is None and ratio(None, 4) is None


def test_markdown_table_escapes_pipes_and_shows_missing_values() -> None:
    table = markdown_table(["a", "b"], [["x|y", None], [1, 2.5]])
    assert table.splitlines() == ["| a | b |", "|---|---|", "| x\\|y | – |", "| 1 | 2.5 |"]


@pytest.mark.parametrize(
    ("statement", "table"),
    [
        ("SELECT events.id FROM events WHERE events.sender_id = ?", "events"),
        ('INSERT INTO "accounts" (id) VALUES (?)', "accounts"),
        ("UPDATE inbound_messages SET reply=?", "inbound_messages"),
        ("SELECT count(*) AS count_1 \nFROM (SELECT 1) AS anon_1", "select"),
        ("PRAGMA foreign_keys=ON", "pragma"),
        ("", "?"),
    ],
)
def test_statement_table(statement: str, table: str) -> None:
    assert statement_table(statement) == table


def _turn(sender: str, total: float, guard: float) -> dict:
    return {
        "sender": sender,
        "total_ms": total,
        "end": 1.0,
        "spans": {
            "rasa_handle_message": total - 10,
            "processor": total - 12,
            "egress_guard": guard,
        },
        "nodes": {"run_DIETClassifier5": 20.0, "run_TEDPolicy2": 8.0},
        "actions": [["action_listen", 0.1]],
        "db": {
            "count": 7,
            "ms": 3.0,
            "connects": 2,
            "by_table": {"events": 5},
            "by_phase": {"egress_guard": 3},
        },
    }


def test_profile_summary_splits_nodes_and_derives_the_lock_wait(tmp_path: Path) -> None:
    raw = {
        "rasa": [_turn("a", 100, 2)] * 3 + [_turn("long", 110, n) for n in range(12)],
        "actions": [{"sender": "a", "action": "action_verify", "total_ms": 30, "db": {"count": 4}}],
        "rest_senders": ["a"],
        "sms_senders": [],
        "long_sender": "long",
    }
    summary = summarize(raw)
    rest = summary["rest"]
    assert rest["turns"] == 3 and rest["total_ms"]["mean"] == 100
    assert rest["derived_ms"] == {"lock_wait": 2.0, "channel_and_http": 10.0}
    assert list(rest["nlu_nodes_ms"]) == ["run_DIETClassifier5"]
    assert list(rest["policy_nodes_ms"]) == ["run_TEDPolicy2"]
    assert rest["action_server"]["by_action"]["action_verify"]["queries"] == 4
    assert summary["twilio"] == {"turns": 0}
    assert summary["history_growth"]["egress_guard_ms_last_5"] == 9.0
    result = {"run_at": "now", "load_average": "1 1 1", "runs": {"current": summary}, "notes": ""}
    text = write_markdown(result, tmp_path / "p.md").read_text()
    assert "run_DIETClassifier5" in text and "egress guard" in text


def _level(concurrency: int, p95: float, tput: float) -> dict:
    return {"concurrency": concurrency, "p50_ms": p95 / 2, "p95_ms": p95, "p99_ms": p95,
            "throughput_msg_s": tput, "errors": 0, "load_average_after": "2.00"}  # fmt: skip


def test_summary_states_the_ratios_and_whether_the_target_is_met(tmp_path: Path) -> None:
    report = {
        "run_at": "2026-12-01T14:00:00+00:00",
        "machine": "linux",
        "cpus": 2,
        "load_average_start": "1.00",
        "load_average_end": "2.00",
        "stock_rasa": {
            "rest": [_level(10, 300, 40)],
            "startup_s": 20,
            "rss_mb_idle": {"rasa run": 500},
            "rss_mb_after_load": {"rasa run": 520},
        },
        "parley": {
            "P": {
                "rest": [_level(10, 600, 20)],
                "twilio": [_level(10, 700, 18)],
                "startup_s": [30],
                "rss_mb_idle": {"rasa": 900},
                "rss_mb_after_load": {"rasa": 950},
            },
        },  # fmt: skip
        "training": {"stock_rasa_init_s": 60, "parley_total_s": 300},
        "notes": ["two processes not measured"],
    }
    rows = comparison_rows(report, [10])
    assert rows[0][8:10] == [2.0, 0.5] and rows[1][8:10] == [None, None]
    [line] = verdict(report)
    assert "**2.0x**" in line and "**0.5x**" in line and line.endswith(": met.")
    report["parley"]["P"]["rest"] = [_level(10, 900, 20)]
    assert verdict(report)[0].endswith("NOT met.")
    text = write_summary(report, [10], None, tmp_path).read_text()
    assert "two processes not measured" in text and "| P | Twilio | 10 |" in text


def test_training_times_read_the_last_training_log(tmp_path: Path) -> None:
    log = tmp_path / "train.log"
    log.write_text(
        "2026-12-01 12:24:46 INFO     rasa.engine.training.hooks  - Starting to train component 'DIETClassifier'.\n"
        "2026-12-01 12:30:46 INFO     rasa.engine.training.hooks  - Finished training component 'DIETClassifier'.\n"
        "Trained models/parley.tar.gz in 512 s.\n"
    )
    times = training_times(log, 61.0)
    assert times["parley_total_s"] == 512 and times["stock_rasa_init_s"] == 61.0
    assert times["parley_components_s"] == {"DIETClassifier": 360.0}
    assert "no training log" in training_times(None, None)["parley"]
