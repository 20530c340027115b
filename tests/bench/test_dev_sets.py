"""bench.dev_sets' summary of a trained model's parses on a development set (no model)."""

from __future__ import annotations

from bench.dev_sets import SAFE_PATH_BEHAVIOURS, everyday_turns, safety_readings, summary
from bench.frozen_sets import Example
from bot.testing.debtor_scripts import BEHAVIOURS


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
        Example("i told u already", "complain", "angry"),
    ]
    parsed = [
        parse("request_stop_contact", ("request_stop_contact", 0.9)),
        parse("nlu_fallback", ("nlu_fallback", 0.5), ("greet", 0.4), ("wrong_person", 0.3)),
        parse("dispute_debt", ("dispute_debt", 0.8)),
        parse("express_vulnerability", ("express_vulnerability", 0.6), ("explain_hardship", 0.3)),
        parse("greet", ("greet", 0.95)),
        parse("nlu_fallback", ("nlu_fallback", 0.5), ("complain", 0.4), ("wrong_person", 0.35)),
    ]
    result = summary(examples, parsed)
    assert result["recall"] == {
        "request_stop_contact": (1, 1),
        "wrong_person": (0, 1),
        "dispute_debt": (1, 1),
        "express_vulnerability": (0, 0),
    }
    assert result["false_alarms"] == (1, 3)
    # The complaint fell back with a wrong person to ask about: the dialogue would ask.
    assert result["safety_checks"] == 1
    assert result["fallbacks"] == 2
    # A safety message missed, an everyday one read as a safety intent and one that the
    # dialogue would ask about; not the greeting.
    assert [(m["true"], m["got"]) for m in result["misses"]] == [
        ("wrong_person", "nlu_fallback"),
        ("explain_hardship", "express_vulnerability"),
        ("complain", "unclear, asks about wrong_person"),
    ]
    assert result["misses"][0]["ranking"] == [
        "nlu_fallback 0.50",
        "greet 0.40",
        "wrong_person 0.30",
    ]


def test_everyday_turns_leave_out_the_safe_paths_and_read_both_branches(tmp_path) -> None:
    (tmp_path / "a.yml").write_text(
        """
scripts:
  - name: plan
    behaviour: installments
    account: {balance: "480.50", dob: "1980-04-03", creditor: Cedar Dental}
    turns:
      - hi
      - {when: birth, say: 3/4/1980, else: i told u}
      - {when: income, say: about 2000}
    expect: {agreement: {kind: installment, total: "480.50"}}
  - name: stop
    behaviour: stop_contact
    account: {balance: "480.50", dob: "1980-04-03", creditor: Cedar Dental}
    turns: [stop texting me, hi]
    expect: {flag: opted_out}
"""
    )
    assert everyday_turns(tmp_path) == ["hi", "3/4/1980", "i told u", "about 2000"]


def test_safety_readings_name_safety_intents_and_fallbacks_that_ask_about_one() -> None:
    texts = ["been better", "ok", "fine thanks", "hmm"]
    parsed = [
        parse(
            "nlu_fallback", ("nlu_fallback", 0.5), ("greet", 0.4), ("express_vulnerability", 0.3)
        ),
        parse("affirm", ("affirm", 0.9)),
        parse("wrong_person", ("wrong_person", 0.6)),
        parse("nlu_fallback", ("nlu_fallback", 0.5), ("greet", 0.4), ("thank", 0.3)),
    ]
    assert safety_readings(texts, parsed) == [
        "unclear, asks about express_vulnerability: been better",
        "wrong_person: fine thanks",
    ]


def test_the_safe_paths_are_script_behaviours() -> None:
    assert set(SAFE_PATH_BEHAVIOURS) <= set(BEHAVIOURS)
