"""Scripted debtors (tests/e2e/scripts/*.yml) against the real bot, scored as one pass rate.

Each script is a debtor with an account of their own, the messages they send (some only
when the bot's previous reply asks for them) and the outcome the conversation must reach:
an agreement of a kind and total, a flag, or nothing. A script passes when the outcome is
reached, the bot never says what the script forbids, and no bot message comes more than
`max_repeats` times in a row. The schema is documented in tests/e2e/scripts/README.md.

Every miss is printed with its transcript; the per-script results go to
reports/dialogue/scripts.json and reports/dialogue/scripts.md.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bot.nlu.normalize import parse_birth_date
from bot.settings import PROJECT_ROOT
from bot.testing.debtor_scripts import (
    BEHAVIOURS,
    OUTCOME_FLAGS,
    SCRIPTS_DIR,
    Script,
    load_scripts,
)
from tests.e2e.conftest import RunningBot

# The pass rate this test requires: issue 12's 0.95 (41 of 43 scripts). History: 19 of
# the 43 passed on c8348df (0.442); with a yes accepting the recommended plan, options
# picked by what they are, the open question heard, several answers kept, three wordings
# per form question and yes/no safety checks, 39 (0.907); with an income told in a
# hardship story kept, an option named in an unclear message picked before a safety
# check, an unclear "pay the whole 150 friday" evaluated as a request, questions about
# plans answered inside the budget form and message ids no longer card-masked (which had
# the egress guard block a verified debtor's options at random), 42 (0.977) on
# 2026-12-01. The one miss left, worry_is_acknowledged, is the NLU's: "who is this?? is
# something wrong" reads as wrong_person at 0.505 (greet 0.394).
PASS_RATE_FLOOR = 0.95
TARGET_PASS_RATE = 0.95

REPORT_DIR = PROJECT_ROOT / "reports" / "dialogue"


@dataclass
class Exchange:
    """A debtor message and the bot's replies; `debtor` None is a skipped turn."""

    debtor: str | None
    replies: list[str] = field(default_factory=list)
    note: str = ""


@dataclass
class Result:
    script: Script
    transcript: list[Exchange]
    agreements: list[dict[str, Any]]
    flags: list[str]
    reasons: list[str]

    @property
    def passed(self) -> bool:
        return not self.reasons


def write_accounts_csv(path: Path, scripts: Iterable[Script]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["account_ref", "name", "phone", "balance", "currency", "timezone", "dob", "creditor"]
        )
        for s in scripts:
            writer.writerow(
                [
                    s.ref,
                    s.debtor_name,
                    s.phone,
                    f"{s.balance:.2f}",
                    "USD",
                    "America/New_York",
                    s.dob.isoformat(),
                    s.creditor,
                ]
            )


# --- running and judging ------------------------------------------------------------


def play(bot: RunningBot, script: Script) -> list[Exchange]:
    """Send the script's messages in order; a gated turn looks at the previous reply."""
    transcript: list[Exchange] = []
    previous = ""
    for turn in script.turns:
        text = turn.message(previous)
        if text is None:
            pattern = turn.when.pattern if turn.when else ""
            transcript.append(Exchange(None, note=f"skipped: /{pattern}/ not in the reply"))
            continue
        replies = bot.chat(script.phone, text)
        transcript.append(Exchange(text, replies))
        previous = "\n".join(replies)
    return transcript


def _normal(text: str) -> str:
    return " ".join(text.lower().split())


def repeated_messages(transcript: list[Exchange], limit: int) -> list[str]:
    """Bot messages that appear in more than `limit` consecutive replies."""
    streak: dict[str, int] = {}
    found: list[str] = []
    for exchange in transcript:
        if exchange.debtor is None:
            continue  # a skipped turn: nothing was sent, nothing came back
        texts = {_normal(t) for t in exchange.replies if t.strip()}
        streak = {t: streak.get(t, 0) + 1 for t in texts}
        found += [t for t, n in streak.items() if n == limit + 1]
    return found


def describe_expected(expect: Mapping[str, Any]) -> str:
    if "agreement" in expect:
        terms = expect["agreement"]
        frequency = f" {terms['frequency']}" if terms.get("frequency") else ""
        return f"agreement {terms['kind']}{frequency} {terms['total']}"
    if "flag" in expect:
        return f"flag {expect['flag']}"
    return "no agreement and no flag"


def describe_actual(agreements: list[dict[str, Any]], flags: list[str]) -> str:
    parts = [
        f"agreement {a['kind']}{' ' + a['frequency'] if a.get('frequency') else ''} "
        f"{a['total']} ({a['status']})"
        for a in agreements
    ]
    parts.append(f"flags: {', '.join(flags)}" if flags else "no flags")
    return "; ".join(parts)


def judge(
    script: Script, transcript: list[Exchange], agreements: list[dict[str, Any]], flags: list[str]
) -> list[str]:
    """Why the script missed (empty when it passed)."""
    reasons: list[str] = []
    outcome_flags = [f for f in flags if f in OUTCOME_FLAGS]
    active = [a for a in agreements if a.get("status") == "active"]
    expect = script.expect
    if "agreement" in expect:
        terms = expect["agreement"]
        matching = [
            a
            for a in active
            if a["kind"] == terms["kind"]
            and Decimal(a["total"]) == Decimal(terms["total"])
            and (not terms.get("frequency") or a.get("frequency") == terms["frequency"])
        ]
        if not matching:
            reasons.append("the expected agreement was not made")
        if outcome_flags:
            reasons.append(f"flags raised as well: {', '.join(outcome_flags)}")
    elif "flag" in expect:
        if expect["flag"] not in flags:
            reasons.append(f"flag {expect['flag']} not raised")
        if agreements:
            reasons.append("an agreement was made")
    else:
        if agreements:
            reasons.append("an agreement was made")
        if outcome_flags:
            reasons.append(f"flags raised: {', '.join(outcome_flags)}")
    said = [t for e in transcript for t in e.replies]
    for forbidden in script.never:
        hits = [t for t in said if forbidden.lower() in t.lower()]
        if hits:
            reasons.append(f"said {forbidden!r}: {hits[0]!r}")
    for text in repeated_messages(transcript, script.max_repeats):
        reasons.append(f"the same message more than {script.max_repeats} times in a row: {text!r}")
    return reasons


def format_transcript(transcript: list[Exchange]) -> str:
    lines: list[str] = []
    for exchange in transcript:
        if exchange.debtor is None:
            lines.append(f"    ({exchange.note})")
            continue
        lines.append(f"    debtor: {exchange.debtor}")
        lines += [f"    parley: {t}" for t in exchange.replies] or ["    parley: (nothing)"]
    return "\n".join(lines)


def format_miss(result: Result) -> str:
    s = result.script
    return "\n".join(
        [
            f"MISS {s.name} [{s.behaviour}] ({s.source}, {s.ref})",
            f"  expected: {describe_expected(s.expect)}",
            f"  actual:   {describe_actual(result.agreements, result.flags)}",
            *[f"  why:      {r}" for r in result.reasons],
            "  transcript:",
            format_transcript(result.transcript),
        ]
    )


def write_reports(results: list[Result], rate: float) -> None:
    REPORT_DIR.mkdir(parents=True, exist_ok=True)
    rows = [
        {
            "name": r.script.name,
            "behaviour": r.script.behaviour,
            "file": r.script.source,
            "account_ref": r.script.ref,
            "expected": describe_expected(r.script.expect),
            "actual": describe_actual(r.agreements, r.flags),
            "passed": r.passed,
            "reasons": r.reasons,
            "transcript": [
                {"debtor": e.debtor, "bot": e.replies, "note": e.note} for e in r.transcript
            ],
        }
        for r in results
    ]
    passed = sum(r.passed for r in results)
    summary = {
        "pass_rate": round(rate, 4),
        "passed": passed,
        "scripts": len(results),
        "floor": PASS_RATE_FLOOR,
        "target": TARGET_PASS_RATE,
        "results": rows,
    }
    (REPORT_DIR / "scripts.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False))
    lines = [
        "# Debtor scripts",
        "",
        f"{passed} of {len(results)} scripts reach their outcome ({rate:.1%}); "
        f"floor {PASS_RATE_FLOOR:.2f}, target {TARGET_PASS_RATE:.2f}.",
        "",
        "| script | behaviour | expected | actual | result |",
        "|---|---|---|---|---|",
    ]
    for r in results:
        verdict = "pass" if r.passed else "MISS: " + "; ".join(r.reasons)
        lines.append(
            f"| {r.script.name} | {r.script.behaviour} | {describe_expected(r.script.expect)} "
            f"| {describe_actual(r.agreements, r.flags)} | {verdict.replace('|', '/')} |"
        )
    lines += ["", "Transcripts of every script: scripts.json."]
    (REPORT_DIR / "scripts.md").write_text("\n".join(lines) + "\n")


# --- tests --------------------------------------------------------------------------


def test_the_scripts_cover_every_behaviour() -> None:
    """An empty or partial set can't pass: at least 20 scripts, every behaviour covered,
    and every date of birth a debtor sends is the account's (but in identity failures)."""
    scripts = load_scripts()
    assert len(scripts) >= 20, f"only {len(scripts)} debtor scripts load from {SCRIPTS_DIR}"
    missing = [b for b in BEHAVIOURS if not any(s.behaviour == b for s in scripts)]
    assert not missing, f"no debtor script for: {', '.join(missing)}"
    today = date.today()
    wrong = [
        f"{s.name}: {text!r}"
        for s in scripts
        if s.expect.get("flag") != "verification_failed"
        for turn in s.turns
        for text in (turn.say, turn.otherwise)
        if text
        and (born := parse_birth_date(text, today)) is not None
        and born.year < today.year - 10
        and born != s.dob
    ]
    assert not wrong, "dates of birth that are not the account's: " + "; ".join(wrong)


@pytest.mark.e2e
@pytest.mark.timeout(3600)
def test_debtor_scripts_reach_their_outcomes(
    bot: RunningBot, tmp_path_factory: pytest.TempPathFactory
) -> None:
    scripts = load_scripts()
    accounts = tmp_path_factory.mktemp("debtor-scripts") / "accounts.csv"
    write_accounts_csv(accounts, scripts)
    bot.parley("accounts", "import", str(accounts))

    transcripts: dict[str, list[Exchange]] = {}
    errors: dict[str, str] = {}
    for script in scripts:
        try:
            transcripts[script.name] = play(bot, script)
        except Exception as exc:  # one broken conversation is a miss, not the end of the run
            transcripts[script.name] = []
            errors[script.name] = f"error while chatting: {exc!r}"

    every_agreement = bot.parley("agreements", "list", "--json")
    results: list[Result] = []
    for script in scripts:
        agreements = [a for a in every_agreement if a["account_ref"] == script.ref]
        flags = list(bot.account(script.ref)["flags"])
        transcript = transcripts[script.name]
        reasons = judge(script, transcript, agreements, flags)
        if script.name in errors:
            reasons.insert(0, errors[script.name])
        results.append(Result(script, transcript, agreements, flags, reasons))

    passed = sum(r.passed for r in results)
    rate = passed / len(results)
    write_reports(results, rate)
    for result in results:
        if not result.passed:
            print("\n" + format_miss(result))
    print(
        f"\ndebtor scripts: {passed} of {len(results)} reach their outcome ({rate:.1%}); "
        f"floor {PASS_RATE_FLOOR:.2f}, target {TARGET_PASS_RATE:.2f}"
    )
    missed = ", ".join(r.script.name for r in results if not r.passed)
    assert rate >= PASS_RATE_FLOOR, (
        f"{passed}/{len(results)} debtor scripts pass ({rate:.1%}), below the floor "
        f"{PASS_RATE_FLOOR:.2f}; missed: {missed}"
    )
