"""`make trainer-check`: a trainer's change, made in YAML only, in a throwaway copy.

What a trainer does to change the conversation, done for real on a copy of the project:

1. add worked example (a) of docs/trainers.md (examples/trainers/credit_score/: a
   response and a rule) and, on purpose, an unsafe rule that states the debt before the
   identity check (examples/trainers/unsafe_disclosure/);
2. retrain with Rasa's cache shared with the project (RASA_CACHE_DIRECTORY), so only the
   dialogue policies retrain: the NLU is restored from the cache;
3. serve the new model and hold two conversations over the REST channel: the new turn
   is there, and the unsafe response never reaches the unverified sender (the guard in
   bot/channels/egress.py replaces it and records `reply_blocked`);
4. run every existing test story against the new model.

    python -m bot.testing.trainer_check [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.channels.egress import BLOCKED_REPLACEMENT
from bot.runtime.process import ServeNotReadyError, serving
from bot.settings import PROJECT_ROOT

EXAMPLES = PROJECT_ROOT / "examples" / "trainers"
CREDIT_SCORE = EXAMPLES / "credit_score"
UNSAFE = EXAMPLES / "unsafe_disclosure"
CACHE_DIR = PROJECT_ROOT / ".rasa" / "cache"
MODEL_NAME = "trainer-check"
# The debtor of both conversations (the unsafe response names this creditor and balance).
PHONE = "+12025550177"
OTHER_PHONE = "+12025550178"
DOB_TEXT = "march 14 1985"
CREDIT_SCORE_QUESTION = "will this hurt my credit score?"
UNSAFE_TRIGGER = "can i just pay the whole thing off today"
SETTINGS = {
    "PARLEY_ENV": "production",
    "TWILIO_AUTH_TOKEN": "trainer-check-twilio-auth-token-01",
    "TWILIO_ACCOUNT_SID": "AC" + "7c0f" * 8,
    "TWILIO_SMS_FROM": "+12025550100",
    "PARLEY_SUPPORT_PHONE": "+1 202 555 0111",
    "PARLEY_SUPPORT_URL": "https://northwind-clinic.test/verify",
    "PARLEY_CREDITOR_NAME": "Northwind Recovery",
    "RASA_TELEMETRY_ENABLED": "false",
}


class CheckFailed(AssertionError):
    """One thing the trainer's change should have done and did not."""


@dataclass
class Report:
    steps: list[str] = field(default_factory=list)

    def step(self, text: str) -> None:
        self.steps.append(text)
        print(f"[trainer-check] {text}", flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def copy_project(workdir: Path) -> Path:
    """What training and the test stories read: config, domain, data, tests/stories."""
    project = workdir / "project"
    project.mkdir()
    shutil.copy2(PROJECT_ROOT / "config.yml", project / "config.yml")
    shutil.copy2(PROJECT_ROOT / "domain.yml", project / "domain.yml")
    shutil.copytree(PROJECT_ROOT / "data", project / "data")
    shutil.copytree(PROJECT_ROOT / "tests" / "stories", project / "stories")
    # config.yml names the spaCy pipeline by a path relative to the project.
    (project / "build").symlink_to(PROJECT_ROOT / "build", target_is_directory=True)
    return project


def add_example(project: Path, example: Path, name: str, *, replace: bool = False) -> None:
    """A trainer's change: the example's responses into the domain (its variations before
    the existing ones, or instead of them with `replace`), its rules into data/rules/.

    The examples only use response and action names the project already has: Rasa puts
    every action and intent named in the stories and rules into the NLU's training data,
    so a new name would retrain the whole NLU instead of only the dialogue policies.
    """
    domain_path = project / "domain.yml"
    domain = yaml.safe_load(domain_path.read_text())
    added = yaml.safe_load((example / "domain.yml").read_text()) or {}
    responses = domain.setdefault("responses", {})
    for response, variations in (added.get("responses") or {}).items():
        if response not in responses:
            raise CheckFailed(f"{example}: {response} is not a response of the project")
        responses[response] = variations if replace else [*variations, *responses[response]]
    domain_path.write_text(yaml.safe_dump(domain, sort_keys=False, allow_unicode=True))
    shutil.copy2(example / "rules.yml", project / "data" / "rules" / f"{name}.yml")


def train(project: Path, report: Report) -> Path:
    """Retrain the copy; Rasa restores every unchanged component from the shared cache."""
    env = {
        **os.environ,
        "RASA_CACHE_DIRECTORY": str(CACHE_DIR),
        "RASA_TELEMETRY_ENABLED": "false",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
    }
    command = [
        sys.executable, "-m", "bot.runtime.rasa_train",
        "--config", "config.yml", "--domain", "domain.yml", "--data", "data",
        "--out", "models", "--fixed-model-name", MODEL_NAME,
    ]  # fmt: skip
    started = time.monotonic()
    result = subprocess.run(
        command, cwd=project, env=env, capture_output=True, text=True, check=False
    )
    log = result.stdout + result.stderr
    (project / "train.log").write_text(log)
    model = project / "models" / f"{MODEL_NAME}.tar.gz"
    if result.returncode != 0 or not model.exists():
        tail = "\n".join(log.splitlines()[-30:])
        raise CheckFailed(
            f"rasa train failed on the trainer's change (exit {result.returncode}):\n{tail}"
        )
    restored = sorted(set(re.findall(r"Restored component '(\w+)'", log)))
    trained = sorted(set(re.findall(r"Starting to train component '(\w+)'", log)))
    report.step(
        f"retrained in {time.monotonic() - started:.0f} s: trained {', '.join(trained) or 'nothing'};"
        f" restored from the cache: {len(restored)} components"
    )
    if "DIETClassifier" in trained:
        report.step(
            f"note: the NLU retrained too (the cache in {CACHE_DIR} was cold or the NLU"
            " inputs differ); run `make model` first to warm it"
        )
    return model


@dataclass
class Bot:
    url: str
    env: dict[str, str]
    secrets: Path

    def secret(self, name: str) -> str:
        return (self.secrets / name).read_text().strip()

    def chat(self, sender: str, text: str) -> list[str]:
        request = urllib.request.Request(
            f"{self.url}/webhooks/rest/webhook",
            data=json.dumps({"sender": sender, "message": text}).encode(),
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {self.secret('rest_token')}",
            },
        )
        with urllib.request.urlopen(request, timeout=120) as response:
            return [str(m.get("text", "")) for m in json.load(response)]

    def intent(self, text: str) -> str:
        request = urllib.request.Request(
            f"{self.url}/model/parse?token={self.secret('rasa_auth_token')}",
            data=json.dumps({"text": text}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=120) as response:
            return str((json.load(response).get("intent") or {}).get("name"))

    def account(self, ref: str) -> dict[str, Any]:
        result = subprocess.run(
            [sys.executable, "-m", "bot.cli", "accounts", "show", ref, "--json"],
            env=self.env, capture_output=True, text=True, check=True,
        )  # fmt: skip
        data: dict[str, Any] = json.loads(result.stdout)
        return data


def _environment(workdir: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("PARLEY_")}
    for name in ("RASA_AUTH_TOKEN", "DATABASE_URL", "REDIS_URL"):
        env.pop(name, None)
    env.update(SETTINGS)
    env["DATABASE_URL"] = f"sqlite:///{workdir / 'parley.db'}"
    env["PARLEY_SECRETS_DIR"] = str(workdir / "secrets")
    env["TWILIO_API_BASE"] = "http://127.0.0.1:9"  # nothing is sent to Twilio here
    return env


def _import_accounts(env: dict[str, str], workdir: Path) -> None:
    csv = workdir / "accounts.csv"
    rows = ["account_ref,name,phone,balance,currency,timezone,dob,creditor"]
    for n, phone in enumerate((PHONE, OTHER_PHONE)):
        rows.append(
            f"TC-{n},Maria Lopez,{phone},1200.00,USD,America/New_York,1985-03-14,Northwind Clinic"
        )
    csv.write_text("\n".join(rows) + "\n")
    subprocess.run(
        [sys.executable, "-m", "bot.cli", "accounts", "import", str(csv)],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip


def converse(bot: Bot, report: Report) -> None:
    """The new turn is there; the unsafe one never reaches an unverified sender."""
    read = bot.intent(CREDIT_SCORE_QUESTION)
    if read != "ask_consequences":
        raise CheckFailed(
            f"the NLU reads {CREDIT_SCORE_QUESTION!r} as {read}, not ask_consequences"
        )

    # (a) verified, options on the table, then the credit-score question.
    for text in ("hi", DOB_TEXT, "i lost my job a while back", "about 2000", "1700"):
        replies = bot.chat(PHONE, text)
    if not any("I'd suggest" in r for r in replies):
        raise CheckFailed(f"no options on the table after the budget: {replies}")
    replies = bot.chat(PHONE, CREDIT_SCORE_QUESTION)
    example = yaml.safe_load((CREDIT_SCORE / "domain.yml").read_text())["responses"]
    expected_start = example["utter_consequences"][0]["text"].split("{")[0]
    if not replies or not replies[0].startswith(expected_start):
        raise CheckFailed(f"the new variation was not said: {replies}")
    if "{creditor}" in replies[0] or "Northwind Clinic" not in replies[0]:
        raise CheckFailed(f"the creditor slot was not filled after verification: {replies[0]}")
    if not any("I'd suggest" in r for r in replies[1:]):
        raise CheckFailed(f"no way back to the options after the new answer: {replies}")
    report.step(f"example (a) in a conversation: {replies}")
    replies = bot.chat(PHONE, "yes")
    if not any("reply YES" in r or "Reply YES" in r for r in replies):
        raise CheckFailed(f"after the new turn a yes did not lead to exact terms: {replies}")
    report.step(f"then 'yes' leads to the exact terms: {replies[0][:100]}...")

    # (b) the unsafe rule, before the identity check.
    read = bot.intent(UNSAFE_TRIGGER)
    if read != "pay_in_full":
        raise CheckFailed(f"the NLU reads {UNSAFE_TRIGGER!r} as {read}, not pay_in_full")
    bot.chat(OTHER_PHONE, "hi")
    replies = bot.chat(OTHER_PHONE, UNSAFE_TRIGGER)
    said = " ".join(replies)
    if "1,200" in said or "Northwind" in said:
        raise CheckFailed(f"the debt reached an unverified sender: {replies}")
    if BLOCKED_REPLACEMENT not in replies:
        raise CheckFailed(f"the unsafe response was not blocked by the guard: {replies}")
    events = [e.get("kind") for e in bot.account("TC-1").get("events") or []]
    if "reply_blocked" not in events:
        raise CheckFailed(f"the block was not recorded on the account: {events}")
    report.step(f"unsafe rule blocked by the egress guard and recorded: {replies}")


def run_stories(model: Path, project: Path, report: Report) -> None:
    stories = project / "stories"
    count = sum(
        len((yaml.safe_load(p.read_text()) or {}).get("stories") or [])
        for p in stories.glob("test_*.yml")
    )
    result = subprocess.run(
        [sys.executable, "-m", "bot.testing.stories", "--stories", str(stories),
         "--model", str(model), "--out", str(project / "reports" / "stories")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    (project / "stories.log").write_text(result.stdout + result.stderr)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).splitlines()[-20:])
        raise CheckFailed(f"existing test stories fail with the trainer's change:\n{tail}")
    report.step(f"all {count} existing test stories pass on the new model")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the temporary copy")
    args = parser.parse_args(argv)
    report = Report()
    workdir = Path(tempfile.mkdtemp(prefix="parley-trainer-check-"))
    try:
        project = copy_project(workdir)
        add_example(project, CREDIT_SCORE, "trainer_example_credit_score")
        add_example(project, UNSAFE, "trainer_example_unsafe", replace=True)
        report.step(f"copied the project to {project} and added the two trainer changes")
        model = train(project, report)
        env = _environment(workdir)
        _import_accounts(env, workdir)
        rasa_port, action_port = free_port(), free_port()
        env["PUBLIC_BASE_URL"] = f"http://127.0.0.1:{rasa_port}"
        try:
            with serving(
                ["--model", str(model), "--rasa-port", str(rasa_port),
                 "--action-port", str(action_port), "--console-port", str(free_port())],
                env,
            ):  # fmt: skip
                converse(Bot(f"http://127.0.0.1:{rasa_port}", env, workdir / "secrets"), report)
        except ServeNotReadyError as exc:
            raise CheckFailed(str(exc)) from exc
        run_stories(model, project, report)
    except CheckFailed as exc:
        print(f"[trainer-check] FAILED: {exc}", file=sys.stderr)
        print(f"[trainer-check] the copy is kept in {workdir}", file=sys.stderr)
        return 1
    if args.keep:
        print(f"[trainer-check] the copy is kept in {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    print("[trainer-check] passed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
