"""`parley simulate --through-bot`: the simulated debtors text a served model.

A sample of the population is imported (with `parley accounts import`) into a throwaway
SQLite database; `parley serve` runs the trained model on it in development mode (or in
production mode with PARLEY_REST_TOKEN, when the environment says so); each debtor texts
over POST /webhooks/rest/webhook; the stored agreements are read back with
`parley agreements list --json`. The same debtors also go through the engine alone, so
the report shows where the conversation changes the outcome.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from statistics import mean, median
from typing import Any
from zoneinfo import ZoneInfo

from bot.negotiation import Option, Policy, build_quote
from bot.runtime.process import ServeNotReadyError, serving
from bot.settings import PROJECT_ROOT
from bot.simulation.assumptions import Assumptions
from bot.simulation.baselines import BASELINES
from bot.simulation.errors import BotRunError
from bot.simulation.outcomes import Outcomes, measure
from bot.simulation.parley import negotiate_with_parley
from bot.simulation.population import Debtor, generate_population
from bot.simulation.report import format_money_or_dash
from bot.simulation.results import Negotiated, Status
from bot.simulation.runner import run_strategy
from bot.simulation.texting import CREDITOR, Conversation, talk

TIMEZONE = "America/New_York"
# Fictional US numbers: 555-0100 to 555-0199 in each of these area codes.
AREA_CODES = ("202", "415", "312", "617", "206", "303", "404", "512", "702", "919")
MAX_BOT_DEBTORS = 100 * len(AREA_CODES)
READY_TIMEOUT_S = 300
REQUEST_TIMEOUT_S = 120
FIRST_NAMES = (
    "Maria", "James", "Aisha", "Wei", "Olivia", "Jamal", "Sofia", "Daniel", "Priya", "Luis",
    "Hannah", "Kwame", "Emily", "Diego", "Fatima", "Noah", "Grace", "Tomas", "Leila", "Sam",
)  # fmt: skip
LAST_NAMES = ("Lopez", "Smith", "Khan", "Chen", "Brown", "Okafor", "Garcia", "Nguyen", "Silva")

SUMMARY = "through_bot.md"
SUMMARY_JSON = "through_bot.json"
TRANSCRIPTS = "through_bot_transcripts.md"


def phone_for(index: int) -> str:
    """The simulated debtor's phone number."""
    return f"+1{AREA_CODES[index // 100]}555{100 + index % 100:04d}"


def name_for(debtor: Debtor) -> str:
    first = FIRST_NAMES[debtor.phrasing % len(FIRST_NAMES)]
    last = LAST_NAMES[(debtor.phrasing // len(FIRST_NAMES)) % len(LAST_NAMES)]
    return f"{first} {last}"


def write_accounts_csv(debtors: Sequence[Debtor], path: Path) -> None:
    """The debtors as a `parley accounts import` file."""
    rows = ["account_ref,name,phone,balance,currency,timezone,dob,creditor"]
    for d in debtors:
        rows.append(
            f"{d.account_ref},{name_for(d)},{phone_for(d.index)},{d.balance},USD,{TIMEZONE},"
            f"{d.birth_date.isoformat()},{CREDITOR}"
        )
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


@dataclass(frozen=True)
class RestClient:
    """Texts the bot over the REST channel, as the e2e tests do."""

    url: str
    token: str | None

    def send(self, sender: str, text: str) -> list[str]:
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(
            f"{self.url}/webhooks/rest/webhook",
            data=json.dumps({"sender": sender, "message": text}).encode(),
            headers=headers,
        )
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_S) as response:  # noqa: S310
            return [str(m.get("text", "")) for m in json.load(response) if m.get("text")]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def parley_cli(env: dict[str, str], *args: str) -> str:
    """Run `parley ARGS` against the throwaway database; its output, or BotRunError."""
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise BotRunError(f"`parley {' '.join(args)}` failed: {last}")
    return result.stdout


@contextlib.contextmanager
def served_bot(env: dict[str, str]) -> Iterator[str]:
    """`parley serve` on free ports until the block ends; yields the Rasa URL."""
    rasa_port, action_port, console_port = free_port(), free_port(), free_port()
    args = [
        "--rasa-port", str(rasa_port),
        "--action-port", str(action_port),
        "--console-port", str(console_port),
    ]  # fmt: skip
    try:
        with serving(args, env, timeout=READY_TIMEOUT_S):
            yield f"http://127.0.0.1:{rasa_port}"
    except ServeNotReadyError as exc:
        tail = " | ".join(line for line in str(exc).splitlines()[-5:] if line.strip())
        raise BotRunError(tail) from None


def bot_environment(workdir: Path, policy_path: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{workdir / 'parley.db'}",
        "POLICY_FILE": str(policy_path.resolve()),
        "RASA_TELEMETRY_ENABLED": "false",
    }
    if env.get("PARLEY_ENV") != "production":
        env["PARLEY_ENV"] = "development"
    env.pop("PARLEY_DEBUG", None)
    return env


def from_stored(
    debtor: Debtor, conversation: Conversation, stored: list[dict[str, Any]]
) -> Negotiated:
    """What the bot really agreed with ``debtor``: its stored agreement, else how it ended."""
    if not stored:
        if conversation.status is Status.AGREED:
            conversation.violations.append("confirmed in writing but no agreement stored")
            return Negotiated(debtor.index, Status.STUCK, note=conversation.note)
        return Negotiated(debtor.index, conversation.status, note=conversation.note)
    if len(stored) > 1:
        conversation.violations.append(f"{len(stored)} agreements stored for one account")
    option = Option.from_dict(stored[0])
    if not conversation.yes_sent:
        conversation.violations.append("agreement stored without the debtor's explicit yes")
    elif conversation.confirmed is not None and _terms(option) != _terms(conversation.confirmed):
        conversation.violations.append("stored terms differ from the terms confirmed")
    status = Status.DEFERRED_FOR_REVIEW if option.requires_review else Status.AGREED
    lump = conversation.lump_request and len(option.schedule) == 1
    return Negotiated(debtor.index, status, option, debtor_lump_sum=lump, note=conversation.note)


def _terms(option: Option) -> tuple[object, ...]:
    return (
        option.kind,
        option.total,
        tuple((p.due_date, p.amount) for p in option.schedule),
        option.deferred_until,
    )


def describe(result: Negotiated) -> str:
    """One outcome in a few words."""
    option = result.option
    if option is None:
        return result.status.value
    if not option.schedule:
        return f"{result.status.value}: pause to {option.deferred_until}, then a person"
    first = option.schedule[0].amount
    count = len(option.schedule)
    per = f" {option.frequency.value}" if option.frequency else ""
    pause = f" after a pause to {option.deferred_until}" if option.deferred_until else ""
    return f"{result.status.value}: {count} x {format_money_or_dash(first)}{per}{pause}"


def difference_reason(
    debtor: Debtor,
    engine: Negotiated,
    conversation: Conversation,
    policy: Policy,
    today: datetime.date,
) -> str:
    """A first guess at why the conversation ended differently from the engine."""
    if conversation.status is Status.STUCK:
        return f"stuck: {conversation.note}"
    last = conversation.exchanges[-1] if conversation.exchanges else None
    if last is not None and conversation.status is Status.ESCALATED:
        said = " ".join(last.bot)
        if "988" in said:
            return (
                f"the bot read {last.debtor!r} as a vulnerability disclosure and paused for "
                "a trained person (the debtor model has no such path)"
            )
        return f"the bot handed over after {last.debtor!r}"
    unreadable = [v for v in conversation.violations if v.startswith("unreadable")]
    if unreadable:
        return unreadable[0]
    if conversation.offered and not conversation.lump_request:
        quote = build_quote(
            debtor.balance,
            debtor.stated_finances,
            policy,
            today,
            temporary_hardship=debtor.hardship != "none",
        )
        expected = list(quote.options)
        if conversation.offered[: len(expected)] != expected:
            return (
                "the bot offered other options than the engine does for the stated figures "
                f"({debtor.stated_income:.0f} in, {debtor.stated_expenses:.0f} out)"
            )
    return f"{conversation.note or conversation.status.value}; see the transcript"


def run_through_bot(
    assumptions: Assumptions,
    policy: Policy,
    policy_path: Path,
    count: int,
    seed: int,
    out_dir: Path,
    *,
    as_json: bool,
) -> int:
    """Text ``count`` simulated debtors against a served model; report next to the engine."""
    if count > MAX_BOT_DEBTORS:
        raise BotRunError(f"--through-bot talks to at most {MAX_BOT_DEBTORS} debtors (got {count})")
    models = sorted((PROJECT_ROOT / "models").glob("*.tar.gz"))
    if not models:
        raise BotRunError("no trained model in models/: run `parley train` first")
    debtors = generate_population(assumptions, count, seed)
    token = os.environ.get("PARLEY_REST_TOKEN") or None
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="parley-simulate-") as tmp:
        workdir = Path(tmp)
        env = bot_environment(workdir, policy_path)
        csv = workdir / "accounts.csv"
        write_accounts_csv(debtors, csv)
        parley_cli(env, "accounts", "import", str(csv))
        _progress(f"imported {count} simulated debtors; starting parley serve")
        with served_bot(env) as url:
            client = RestClient(url, token)
            today = datetime.datetime.now(ZoneInfo(TIMEZONE)).date()
            conversations = []
            for n, debtor in enumerate(debtors, start=1):
                conversation = talk(debtor, client.send, phone_for(debtor.index), policy, today)
                conversations.append(conversation)
                _progress(
                    f"{n}/{count} {debtor.account_ref}: {conversation.status.value} "
                    f"({conversation.turns} messages)"
                )
        stored_rows = json.loads(parley_cli(env, "agreements", "list", "--json"))
    elapsed = time.monotonic() - started

    by_account: dict[str, list[dict[str, Any]]] = {}
    for row in stored_rows:
        by_account.setdefault(row["account_ref"], []).append(row)
    bot_results = [
        from_stored(d, c, by_account.get(d.account_ref, []))
        for d, c in zip(debtors, conversations, strict=True)
    ]
    engine_results = [negotiate_with_parley(d, policy, today) for d in debtors]
    bot = measure(debtors, bot_results, policy, today, assumptions)
    engine = measure(debtors, engine_results, policy, today, assumptions)
    data = _report_data(
        assumptions,
        policy,
        policy_path,
        seed,
        today,
        debtors,
        conversations,
        bot_results,
        engine_results,
        bot,
        engine,
    )
    data["seconds"] = round(elapsed, 1)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / SUMMARY_JSON).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    (out_dir / SUMMARY).write_text(_markdown(data), encoding="utf-8")
    (out_dir / TRANSCRIPTS).write_text(_transcripts(conversations), encoding="utf-8")
    if as_json:
        print(json.dumps(data, indent=2))
    else:
        print(_markdown(data))
    _progress(f"report written to {out_dir / SUMMARY} (transcripts in {TRANSCRIPTS})")
    return 0


def _report_data(
    assumptions: Assumptions,
    policy: Policy,
    policy_path: Path,
    seed: int,
    today: datetime.date,
    debtors: Sequence[Debtor],
    conversations: Sequence[Conversation],
    bot_results: Sequence[Negotiated],
    engine_results: Sequence[Negotiated],
    bot: Outcomes,
    engine: Outcomes,
) -> dict[str, Any]:
    agreed_turns = [
        c.turns
        for c, r in zip(conversations, bot_results, strict=True)
        if r.status is Status.AGREED
    ]
    differences = []
    for d, c, b, e in zip(debtors, conversations, bot_results, engine_results, strict=True):
        if (b.status, b.option) != (e.status, e.option):
            differences.append(
                {
                    "account_ref": d.account_ref,
                    "engine": describe(e),
                    "bot": describe(b),
                    "reason": difference_reason(d, e, c, policy, today),
                }
            )
    baselines = {
        b.key: {
            "label": b.label,
            **run_strategy(
                b.key, b.label, b.negotiate, debtors, policy, today, assumptions
            ).overall.to_dict(),
        }
        for b in BASELINES
    }
    return {
        "mode": "through_bot",
        "population": {
            "name": assumptions.name,
            "source_file": assumptions.source_file,
            "debtors": len(debtors),
            "seed": seed,
            "today": today.isoformat(),
        },
        "policy": policy.name,
        "policy_file": str(policy_path),
        **bot.to_dict(),
        "turns_per_agreement": {
            "median": float(median(agreed_turns)) if agreed_turns else None,
            "mean": round(mean(agreed_turns), 1) if agreed_turns else None,
        },
        "stuck_loops": sum(1 for c in conversations if c.stuck_loop),
        "off_topic_replies": [
            {"account_ref": c.debtor.account_ref, "exchange": e}
            for c in conversations
            for e in c.off_topic
        ],
        "rule_violations": [
            {"account_ref": c.debtor.account_ref, "violation": v}
            for c in conversations
            for v in c.violations
        ],
        "engine": engine.to_dict(),
        "baselines": baselines,
        "differences": differences,
    }


def _markdown(data: dict[str, Any]) -> str:
    bot, engine = data, data["engine"]
    keys = [
        ("agreement rate", "agreement_rate", "{:.1%}"),
        ("agreements", "agreements", "{}"),
        ("review pauses", "deferred_for_review", "{}"),
        ("escalations", "escalations", "{}"),
        ("refused", "refused", "{}"),
        ("silent", "silent", "{}"),
        ("stuck", "stuck", "{}"),
        ("recovery scheduled", "recovery_scheduled", "{:.1%}"),
        ("recovery expected", "recovery_expected", "{:.1%}"),
        ("median days to last payment", "median_days_to_last_payment", "{}"),
        ("disposable left (median)", "disposable_left_median", "{}"),
        ("affordability violations", "affordability_violations", "{}"),
    ]
    lines = [
        f"# Through the bot: {data['population']['debtors']} simulated debtors, policy "
        f"`{data['policy']}`",
        "",
        f"Seed {data['population']['seed']}, conversations on {data['population']['today']}, "
        f"{data.get('seconds', '?')} s. The engine column is the same debtors negotiated by "
        "`bot.negotiation` alone.",
        "",
        "| | through the bot | engine only |",
        "|---|---|---|",
    ]
    for label, key, fmt in keys:
        lines.append(f"| {label} | {_cell(bot[key], fmt)} | {_cell(engine[key], fmt)} |")
    turns = data["turns_per_agreement"]
    lines += [
        "",
        f"Messages per agreement: median {turns['median']}, mean {turns['mean']}. "
        f"Stuck loops (the same bot line three times): {data['stuck_loops']}. "
        f"Off-topic replies (the debtor had to say it again): {len(data['off_topic_replies'])}.",
        "",
        "## Rule violations seen",
        "",
    ]
    lines += [f"- {v['account_ref']}: {v['violation']}" for v in data["rule_violations"]] or [
        "None."
    ]
    lines += ["", "## Off-topic replies", ""]
    lines += [f"- {o['account_ref']}: {o['exchange']}" for o in data["off_topic_replies"]] or [
        "None."
    ]
    lines += ["", "## Where the bot and the engine differ", ""]
    if data["differences"]:
        lines += ["| account | engine | bot | first guess at why |", "|---|---|---|---|"]
        lines += [
            f"| {d['account_ref']} | {d['engine']} | {d['bot']} | {d['reason']} |"
            for d in data["differences"]
        ]
    else:
        lines.append("Nowhere.")
    lines.append("")
    return "\n".join(lines)


def _cell(value: object, fmt: str) -> str:
    if value is None:
        return "-"
    return fmt.format(value)


def _transcripts(conversations: Sequence[Conversation]) -> str:
    lines = ["# Simulated conversations", ""]
    for c in conversations:
        d = c.debtor
        lines += [
            f"## {d.account_ref}: {c.status.value} ({c.note})",
            "",
            f"Balance {d.balance}; says {d.stated_income} in, {d.stated_expenses} out (really "
            f"{d.income} and {d.expenses}); hardship {d.hardship}; {d.willingness}, commits up "
            f"to {d.acceptance_share} of what is left; cash {d.lump_sum}.",
            "",
        ]
        for exchange in c.exchanges:
            lines.append(f"    debtor: {exchange.debtor}")
            for text in exchange.bot:
                for n, part in enumerate(text.split("\n")):
                    lines.append(f"    {'parley: ' if n == 0 else '        '}{part}")
        lines += [*(f"- violation: {v}" for v in c.violations), ""]
    return "\n".join(lines)


def _progress(message: str) -> None:
    print(f"[simulate] {message}", file=sys.stderr, flush=True)
