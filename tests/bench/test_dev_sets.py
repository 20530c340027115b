"""bench.dev_sets' summary of a trained model's parses on a development set (no model)."""

from __future__ import annotations

from bench.dev_sets import summary
from bench.frozen_sets import Example


def parse(intent: str, *ranking: tuple[str, float]) -> dict:
    return {
        "intent": {"name": intent},
        "intent_ranking": [{"name": n, "confidence": c} for n, c in ranking],
    }


def test_the_summary_counts_hits_false_alarms_fallbacks_and_lists_safety_misses() -> None:
    examples = [
        Example("stop texting me", "request_stop_contact", "angry"),
        Example("who is gary", "wrong_person", "neutral"),
        Example("i never had this loan", "dispute_debt", "neutral"),
        Example("i lost my job", "explain_hardship", "sad"),
        Example("hello", "greet", "neutral"),
    ]
    parsed = [
        parse("request_stop_contact", ("request_stop_contact", 0.9)),
        parse("nlu_fallback", ("nlu_fallback", 0.5), ("greet", 0.4), ("wrong_person", 0.3)),
        parse("dispute_debt", ("dispute_debt", 0.8)),
        parse("express_vulnerability", ("express_vulnerability", 0.6), ("explain_hardship", 0.3)),
        parse("greet", ("greet", 0.95)),
    ]
    result = summary(examples, parsed)
    assert result["recall"] == {
        "request_stop_contact": (1, 1),
        "wrong_person": (0, 1),
        "dispute_debt": (1, 1),
        "express_vulnerability": (0, 0),
    }
    assert result["false_alarms"] == (1, 2)
    assert result["fallbacks"] == 1
    # A safety message missed, and an everyday one read as a safety intent; not the greeting.
    assert [(m["true"], m["got"]) for m in result["misses"]] == [
        ("wrong_person", "nlu_fallback"),
        ("explain_hardship", "express_vulnerability"),
    ]
    assert result["misses"][0]["ranking"] == [
        "nlu_fallback 0.50",
        "greet 0.40",
        "wrong_person 0.30",
    ]
