"""The debtor scripts' schema and loader (tests/e2e/scripts/*.yml; README there).

A script is a debtor with an account, the messages they send (some only when the bot's
previous reply asks for them) and the outcome the conversation must reach.
tests/e2e/test_debtor_scripts.py plays them against the real bot; bench.dev_sets parses
their everyday turns with the trained model.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from bot.settings import PROJECT_ROOT

SCRIPTS_DIR = PROJECT_ROOT / "tests" / "e2e" / "scripts"

# Issue 12, item 4: the guide's conversation, behaviour by behaviour.
GUIDE_BEHAVIOURS = (
    "proposal_yes",
    "pick_by_words",
    "several_answers",
    "question_in_form",
    "repeated_prompt",
    "emotion",
    "out_of_scope",
    "low_confidence_safety",
)
OUTCOME_BEHAVIOURS = (
    "pay_in_full",
    "installments",
    "deferral",
    "dispute",
    "already_paid",
    "wrong_person",
    "stop_contact",
    "vulnerability",
    "request_human",
    "identity_failure",
)
BEHAVIOURS = GUIDE_BEHAVIOURS + OUTCOME_BEHAVIOURS
# The flags that are outcomes (callback_requested is not: a later time is no resolution).
OUTCOME_FLAGS = (
    "disputed",
    "already_paid",
    "wrong_person",
    "opted_out",
    "vulnerable",
    "handoff",
    "verification_failed",
)
AGREEMENT_KINDS = ("full", "installment", "deferral")
FREQUENCIES = ("monthly", "biweekly", "weekly")
DEFAULT_MAX_REPEATS = 2
DEFAULT_NAME = "Maria Lopez"
# Script n talks from +1 202 555 0300 + n (conftest's accounts use 0100-0199).
FIRST_PHONE = 300
_MONEY = re.compile(r"^\d+\.\d{2}$")


class ScriptError(ValueError):
    """A script file that does not follow the schema."""


@dataclass(frozen=True)
class Turn:
    """One debtor message, sent always or only when the bot's previous reply matches."""

    say: str
    when: re.Pattern[str] | None = None
    otherwise: str | None = None

    def message(self, previous_reply: str) -> str | None:
        """What the debtor sends after `previous_reply`; None skips the turn."""
        if self.when is None or self.when.search(previous_reply):
            return self.say
        return self.otherwise


@dataclass(frozen=True)
class Script:
    index: int
    name: str
    behaviour: str
    source: str
    balance: Decimal
    dob: date
    creditor: str
    debtor_name: str
    turns: tuple[Turn, ...]
    expect: Mapping[str, Any]
    never: tuple[str, ...] = ()
    max_repeats: int = DEFAULT_MAX_REPEATS

    @property
    def ref(self) -> str:
        return f"SCRIPT-{self.index:02d}"

    @property
    def phone(self) -> str:
        return f"+1202555{FIRST_PHONE + self.index:04d}"


def _text(value: Any, where: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ScriptError(f"{where} must be text (got {value!r})")
    text = str(value)
    if not text.strip():
        raise ScriptError(f"{where} is empty")
    return text


def _pattern(value: Any, where: str) -> re.Pattern[str]:
    try:
        return re.compile(_text(value, where), re.IGNORECASE)
    except re.error as exc:
        raise ScriptError(f"{where} is not a regular expression: {exc}") from None


def _turn(raw: Any, where: str) -> Turn:
    if isinstance(raw, Mapping):
        unknown = set(raw) - {"when", "say", "else"}
        if unknown or "when" not in raw or "say" not in raw:
            raise ScriptError(f"{where} needs `when` and `say` (and optionally `else`): {raw!r}")
        otherwise = _text(raw["else"], f"{where} else") if "else" in raw else None
        return Turn(_text(raw["say"], f"{where} say"), _pattern(raw["when"], where), otherwise)
    return Turn(_text(raw, where))


def _expect(raw: Any, where: str) -> dict[str, Any]:
    if not isinstance(raw, Mapping) or len(raw) != 1:
        raise ScriptError(f"{where}: expect must be one of agreement, flag or none: {raw!r}")
    if "none" in raw:
        if raw["none"] is not True:
            raise ScriptError(f"{where}: write `none: true`")
        return {"none": True}
    if "flag" in raw:
        if raw["flag"] not in OUTCOME_FLAGS:
            raise ScriptError(f"{where}: flag must be one of {', '.join(OUTCOME_FLAGS)}")
        return {"flag": raw["flag"]}
    agreement = raw.get("agreement")
    if not isinstance(agreement, Mapping) or set(agreement) - {"kind", "total", "frequency"}:
        raise ScriptError(f"{where}: agreement needs kind and total (and optionally frequency)")
    if agreement.get("kind") not in AGREEMENT_KINDS:
        raise ScriptError(f"{where}: agreement kind must be one of {', '.join(AGREEMENT_KINDS)}")
    total = agreement.get("total")
    if not isinstance(total, str) or not _MONEY.match(total):
        raise ScriptError(f'{where}: agreement total must be a quoted amount like "1200.00"')
    frequency = agreement.get("frequency")
    if frequency is not None and frequency not in FREQUENCIES:
        raise ScriptError(f"{where}: frequency must be one of {', '.join(FREQUENCIES)}")
    return {"agreement": dict(agreement)}


def _script(raw: Any, index: int, source: str) -> Script:
    where = f"{source} script #{index}"
    if not isinstance(raw, Mapping):
        raise ScriptError(f"{where} is not a mapping")
    known = {"name", "behaviour", "account", "turns", "expect", "never", "max_repeats"}
    if set(raw) - known:
        raise ScriptError(f"{where}: unknown keys {sorted(set(raw) - known)}")
    name = _text(raw.get("name"), f"{where} name")
    where = f"{source} {name}"
    behaviour = raw.get("behaviour")
    if behaviour not in BEHAVIOURS:
        raise ScriptError(f"{where}: behaviour must be one of {', '.join(BEHAVIOURS)}")
    account = raw.get("account")
    if not isinstance(account, Mapping) or set(account) - {"balance", "dob", "creditor", "name"}:
        raise ScriptError(f"{where}: account needs balance, dob, creditor (and optionally name)")
    balance = account.get("balance")
    if not isinstance(balance, str) or not _MONEY.match(balance):
        raise ScriptError(f'{where}: balance must be a quoted amount like "480.50"')
    try:
        dob = date.fromisoformat(str(account.get("dob")))
        amount = Decimal(balance)
    except (ValueError, InvalidOperation):
        raise ScriptError(f"{where}: dob must be an ISO date like 1985-03-14") from None
    turns = raw.get("turns")
    if not isinstance(turns, list) or not turns:
        raise ScriptError(f"{where}: turns must be a non-empty list")
    never = raw.get("never", [])
    if not isinstance(never, list):
        raise ScriptError(f"{where}: never must be a list of texts")
    max_repeats = raw.get("max_repeats", DEFAULT_MAX_REPEATS)
    if isinstance(max_repeats, bool) or not isinstance(max_repeats, int) or max_repeats < 1:
        raise ScriptError(f"{where}: max_repeats must be a whole number of at least 1")
    return Script(
        index=index,
        name=name,
        behaviour=str(behaviour),
        source=source,
        balance=amount,
        dob=dob,
        creditor=_text(account.get("creditor"), f"{where} creditor"),
        debtor_name=_text(account.get("name", DEFAULT_NAME), f"{where} name"),
        turns=tuple(_turn(t, f"{where} turn {n}") for n, t in enumerate(turns, start=1)),
        expect=_expect(raw.get("expect"), where),
        never=tuple(_text(n, f"{where} never") for n in never),
        max_repeats=max_repeats,
    )


def load_scripts(directory: Path = SCRIPTS_DIR) -> list[Script]:
    """Every script in every *.yml file of `directory`, in file then file order."""
    scripts: list[Script] = []
    for path in sorted(directory.glob("*.yml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not isinstance(document, Mapping) or not isinstance(document.get("scripts"), list):
            raise ScriptError(f"{path.name}: expected a top-level `scripts:` list")
        for raw in document["scripts"]:
            scripts.append(_script(raw, len(scripts), path.name))
    names = [s.name for s in scripts]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ScriptError(f"script names used twice: {', '.join(duplicates)}")
    return scripts
