"""The `parley` command: one clear line and a non-zero exit on any error."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, NoReturn


class CommandError(Exception):
    """A user-facing error: printed as one line, exit status 1."""


class _ArgumentParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def _decimal_arg(name: str) -> Callable[[str], Decimal]:
    """An amount flag, read with the engine's one grammar (money.parse_money): "12,50" and
    "1.234" are refused, not read as 1250 or 1.23."""

    def parse(raw: str) -> Decimal:
        from bot.negotiation.money import MoneyFormatError, parse_money

        try:
            return parse_money(raw)
        except MoneyFormatError as exc:
            raise argparse.ArgumentTypeError(f"{name} {exc}") from None

    return parse


def _date_arg(raw: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a date like 2026-11-28 (got {raw!r})") from None


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False))


# --- accounts -----------------------------------------------------------------


def cmd_accounts_import(args: argparse.Namespace) -> int:
    from bot.accounts.csv_import import read_accounts_file
    from bot.storage import AccountRepository, get_database

    rows = read_accounts_file(Path(args.file), datetime.now(timezone.utc).date())
    database = get_database()
    with database.session() as session:
        summary = AccountRepository(session).upsert_many(rows, actor="cli")
    print(
        f"Imported {len(rows)} account(s) from {args.file}: {summary.created} new, "
        f"{summary.updated} updated, {summary.unchanged} unchanged."
    )
    return 0


def cmd_accounts_show(args: argparse.Namespace) -> int:
    from bot.storage import AccountRepository, get_database

    with get_database().session() as session:
        repo = AccountRepository(session)
        account = repo.get_by_ref(args.ref)
        if account is None:
            raise CommandError(f"no account with reference {args.ref!r}")
        data = repo.to_dict(account)
    if args.json:
        _print_json(data)
        return 0
    print(f"{data['account_ref']}  {data['name']}  {data['phone']}  ({data['channel']})")
    print(f"  balance  {data['balance']} {data['currency']}   time zone {data['timezone']}")
    print(f"  status   {data['status']}   flags: {', '.join(data['flags']) or 'none'}")
    if data["identity_locked_at"]:
        print(f"  identity locked since {data['identity_locked_at']} (parley accounts unlock)")
    print(f"  agreements: {', '.join(data['agreements']) or 'none'}")
    for event in data["events"]:
        words = f'  "{event["debtor_words"]}"' if event["debtor_words"] else ""
        print(f"  {event['created_at']}  {event['kind']}{words}")
    return 0


def cmd_accounts_unlock(args: argparse.Namespace) -> int:
    from bot.storage import AccountRepository, get_database
    from bot.storage.identity import IdentityRepository

    with get_database().session() as session:
        account = AccountRepository(session).get_by_ref(args.ref)
        if account is None:
            raise CommandError(f"no account with reference {args.ref!r}")
        IdentityRepository(session).unlock(account, actor=f"cli:{args.by}", note=args.note)
    print(
        f"Unlocked {args.ref}: the debtor can verify their identity again "
        f"(recorded in the audit log as cli:{args.by})."
    )
    return 0


def cmd_accounts_list(args: argparse.Namespace) -> int:
    from bot.storage import AccountRepository, get_database

    with get_database().session() as session:
        repo = AccountRepository(session)
        rows = [
            {
                "account_ref": a.account_ref,
                "name": a.name,
                "balance": str(a.balance),
                "currency": a.currency,
                "status": a.status,
                "flags": repo.active_flags(a),
            }
            for a in repo.all()
        ]
    if args.json:
        _print_json(rows)
        return 0
    if not rows:
        print("No accounts yet. Import some with: parley accounts import FILE.csv")
    for row in rows:
        flags = ",".join(row["flags"]) or "-"
        print(
            f"{row['account_ref']:<16} {row['balance']:>12} {row['currency']}  {row['status']:<13} {flags}"
        )
    return 0


# --- agreements -----------------------------------------------------------------


def cmd_agreements_list(args: argparse.Namespace) -> int:
    from bot.storage import AgreementRepository, get_database

    with get_database().session() as session:
        repo = AgreementRepository(session)
        rows = [repo.to_dict(a) for a in repo.list()]
    if args.json:
        _print_json(rows)
        return 0
    if not rows:
        print("No agreements yet.")
    for row in rows:
        schedule = row["schedule"]
        first = schedule[0]["due_date"] if schedule else row["deferred_until"] or "-"
        print(
            f"{row['reference']}  {row['account_ref']:<14} {row['kind']:<11} "
            f"{row['total']:>12} {row['currency']}  {len(schedule)} payment(s) from {first}  "
            f"{row['status']}"
        )
    return 0


# --- quote ---------------------------------------------------------------------


def cmd_quote(args: argparse.Namespace) -> int:
    from bot.negotiation import Finances, build_quote, load_policy
    from bot.settings import get_settings

    if args.balance <= 0:
        raise CommandError(f"--balance must be greater than zero (got {args.balance})")
    if args.income < 0 or args.expenses < 0:
        raise CommandError("--income and --expenses cannot be negative")
    if args.expenses > args.income:
        raise CommandError(
            f"--expenses ({args.expenses}) are more than --income ({args.income}): "
            "nothing is affordable; check the figures (the bot offers a deferral or a person then)"
        )
    from bot.negotiation.money import UnsupportedCurrencyError, require_cent_currency

    try:
        currency = require_cent_currency(args.currency)
    except (UnsupportedCurrencyError, ValueError) as exc:
        raise CommandError(f"--currency: {exc}") from None
    policy = load_policy(Path(args.policy) if args.policy else get_settings().policy_file)
    quote = build_quote(
        args.balance.quantize(Decimal("0.01")),
        Finances(args.income.quantize(Decimal("0.01")), args.expenses.quantize(Decimal("0.01"))),
        policy,
        args.today or datetime.now(timezone.utc).date(),
        currency=currency,
        temporary_hardship=args.hardship,
    )
    if args.json:
        _print_json(quote.to_dict())
        return 0
    from bot.negotiation import format_money

    print(
        f"Balance {format_money(quote.balance, quote.currency)}; disposable income "
        f"{format_money(quote.disposable_income, quote.currency)} a month."
    )
    for number, option in enumerate(quote.options, start=1):
        schedule = option.schedule
        if option.kind == "full":
            print(
                f"{number}. Pay in full: {format_money(option.total, option.currency)} on {schedule[0].due_date}"
            )
        elif option.kind == "installment":
            assert option.frequency is not None
            print(
                f"{number}. {len(schedule)} {option.frequency.value} payments of "
                f"{format_money(schedule[0].amount, option.currency)} from {schedule[0].due_date} "
                f"(last {format_money(schedule[-1].amount, option.currency)} on {schedule[-1].due_date})"
            )
        else:
            plan = (
                f", then {len(schedule)} payments of {format_money(schedule[0].amount, option.currency)}"
                if schedule
                else ", then a review of your situation"
            )
            print(f"{number}. Pause until {option.deferred_until}{plan}")
    if quote.reason:
        print(quote.reason)
    return 0


# --- outbound ------------------------------------------------------------------


def _print_outbox_results(results: list[Any], what: str) -> None:
    if not results:
        print(f"Nothing to send: no {what} due.")
        return
    counts: dict[str, int] = {}
    for result in results:
        counts[result.status] = counts.get(result.status, 0) + 1
        sid = f" ({result.twilio_sid})" if result.twilio_sid else ""
        print(f"{result.account_ref:<16} {result.kind:<9} {result.status}{sid}: {result.reason}")
    print("; ".join(f"{n} {status}" for status, n in sorted(counts.items())))


def _run_outbox(
    queue: Callable[..., list[int]], what: str, args: argparse.Namespace, **kwargs: Any
) -> int:
    import asyncio

    from bot.messaging.outbox import OutboxSender, parse_now
    from bot.negotiation import load_policy
    from bot.settings import get_settings

    try:
        now = parse_now(args.now)
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    policy = load_policy(get_settings().policy_file)
    ids = queue(policy, now, **kwargs)
    results = asyncio.run(OutboxSender.from_settings().dispatch(policy, now, ids))
    _print_outbox_results(results, what)
    return 0


def cmd_outreach(args: argparse.Namespace) -> int:
    from bot.messaging.outbox import queue_outreach

    return _run_outbox(queue_outreach, "first-contact messages", args)


def cmd_remind(args: argparse.Namespace) -> int:
    from bot.messaging.outbox import queue_reminders

    if args.days < 0:
        raise CommandError("--days cannot be negative")
    return _run_outbox(queue_reminders, "reminders", args, days=args.days)


def cmd_outbox_send(args: argparse.Namespace) -> int:
    import asyncio

    from bot.messaging.outbox import OutboxSender, parse_now
    from bot.negotiation import load_policy
    from bot.settings import get_settings

    try:
        now = parse_now(args.now)
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    from bot.messaging.worker import run_until_signalled

    policy = load_policy(get_settings().policy_file)
    sender = OutboxSender.from_settings()
    # Ctrl-C or SIGTERM: the send in flight finishes and the rest is released at once.
    results = asyncio.run(run_until_signalled(sender.dispatch(policy, now), sender.stop.set))
    _print_outbox_results(results, "messages")
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    import logging
    from datetime import timedelta

    from bot.messaging.worker import WorkerError, run_worker
    from bot.negotiation import load_policy
    from bot.settings import get_settings

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s [parley worker] %(message)s", force=True
    )
    for noisy in ("sqlalchemy", "alembic", "aiohttp"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if args.lease < 60:
        raise CommandError("--lease must be at least 60 seconds (one send with its retries)")
    policy = load_policy(get_settings().policy_file)
    try:
        run_worker(
            policy,
            batch=args.batch,
            poll_seconds=args.poll,
            lease=timedelta(seconds=args.lease),
            exit_when_idle=args.exit_when_idle,
        )
    except WorkerError as exc:
        raise CommandError(str(exc)) from None
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from bot.security import production_problems, require_shared_secrets
    from bot.settings import get_settings

    settings = get_settings()
    if args.processes is not None and args.processes < 1:
        raise CommandError("--processes must be at least 1")
    if settings.is_production:
        problems = production_problems(settings)
        if problems:
            raise CommandError(
                "production settings missing or still placeholders: " + "; ".join(problems)
            )
    require_shared_secrets(settings, args.processes)
    several = (args.processes or (2 if settings.redis_url else 1)) > 1
    print(
        f"Settings are complete for {settings.env}"
        + (" with several processes (shared secrets set)" if several else " (one process)")
        + "."
    )
    return 0


# --- console users and transcripts ---------------------------------------------


def cmd_users_add(args: argparse.Namespace) -> int:
    from bot.storage import get_database
    from bot.storage.users import UserRepository

    password = sys.stdin.readline().rstrip("\n") if not sys.stdin.isatty() else _prompt_password()
    with get_database().session() as session:
        UserRepository(session).add(args.name, password, args.role)
    print(f"Added {args.role} {args.name}.")
    return 0


def _prompt_password() -> str:
    import getpass

    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        raise CommandError("the two passwords differ")
    return first


def cmd_inbox_export(args: argparse.Namespace) -> int:
    from bot.inbox import export_nlu_yaml, review_file, reviewed_examples

    path = Path(args.file) if args.file else review_file()
    examples = reviewed_examples(path)
    if not examples:
        print(f"parley: no reviewed examples yet in {path}", file=sys.stderr)
    print(export_nlu_yaml(examples), end="")
    return 0


def cmd_export_story(args: argparse.Namespace) -> int:
    from bot.transcripts import export_story

    print(export_story(args.sender_id, args.name), end="")
    return 0


# --- runtime ---------------------------------------------------------------------


def cmd_serve(args: argparse.Namespace) -> int:
    from bot.serve import serve

    return serve(
        rasa_port=args.rasa_port,
        action_port=args.action_port,
        model=args.model,
        host=args.host,
        console_port=args.console_port,
    )


def cmd_train(args: argparse.Namespace) -> int:
    from bot.training import train_if_needed

    train_if_needed(force=args.force)
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from bot.storage import get_database

    database = get_database()
    print(f"Database schema is up to date ({database.dialect}).")
    return 0


def cmd_simulate(args: argparse.Namespace) -> int:
    from bot.simulation import SimulationError, simulate_command

    try:
        return simulate_command(args)
    except SimulationError as exc:
        raise CommandError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = _ArgumentParser(
        prog="parley", description="Parley: a humane debt-resolution assistant."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_ArgumentParser)
    sub.required = True

    accounts = sub.add_parser("accounts", help="import and inspect creditor accounts")
    accounts_sub = accounts.add_subparsers(dest="accounts_command", metavar="ACTION")
    accounts_sub.required = True
    p = accounts_sub.add_parser("import", help="import accounts from a CSV file (all or nothing)")
    p.add_argument("file", help="CSV with account_ref,name,phone,balance,currency,timezone,dob")
    p.set_defaults(func=cmd_accounts_import)
    p = accounts_sub.add_parser("show", help="one account with its status and flags")
    p.add_argument("ref", help="the account_ref")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_accounts_show)
    p = accounts_sub.add_parser(
        "unlock", help="lift an identity lock after too many wrong dates of birth (audited)"
    )
    p.add_argument("ref", help="the account_ref")
    p.add_argument(
        "--by",
        default=os.environ.get("USER") or "operator",
        help="who unlocks, for the audit log (default: $USER)",
    )
    p.add_argument("--note", help="why, for the audit log")
    p.set_defaults(func=cmd_accounts_unlock)
    p = accounts_sub.add_parser("list", help="all accounts")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_accounts_list)

    agreements = sub.add_parser("agreements", help="stored payment agreements")
    agreements_sub = agreements.add_subparsers(dest="agreements_command", metavar="ACTION")
    agreements_sub.required = True
    p = agreements_sub.add_parser("list", help="every agreement with its schedule")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_agreements_list)

    p = sub.add_parser("quote", help="the options the bot would offer for a balance and budget")
    p.add_argument("--balance", required=True, type=_decimal_arg("--balance"))
    p.add_argument("--income", required=True, type=_decimal_arg("--income"), help="monthly income")
    p.add_argument(
        "--expenses",
        required=True,
        type=_decimal_arg("--expenses"),
        help="monthly essential expenses",
    )
    p.add_argument("--policy", help="policy YAML (default: POLICY_FILE or policies/default.yml)")
    p.add_argument("--currency", default="USD")
    p.add_argument("--today", type=_date_arg, help="quote as of this date (default: today, UTC)")
    p.add_argument("--hardship", action="store_true", help="temporary hardship: include a deferral")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_quote)

    now_help = "act as if it were this time (ISO with offset); for dry runs and tests"
    p = sub.add_parser(
        "outreach", help="send first-contact messages to accounts that have none yet"
    )
    p.add_argument("--now", help=now_help)
    p.set_defaults(func=cmd_outreach)
    p = sub.add_parser("remind", help="send reminders for installments due soon")
    p.add_argument(
        "--days", type=int, default=3, help="installments due within this many days (default 3)"
    )
    p.add_argument("--now", help=now_help)
    p.set_defaults(func=cmd_remind)
    outbox = sub.add_parser("outbox", help="the queue of bot-initiated messages")
    outbox_sub = outbox.add_subparsers(dest="outbox_command", metavar="ACTION")
    outbox_sub.required = True
    p = outbox_sub.add_parser("send", help="send scheduled and held messages that are now due")
    p.add_argument("--now", help=now_help)
    p.set_defaults(func=cmd_outbox_send)
    p = sub.add_parser(
        "worker",
        help="send due outbox messages continuously (several may run at once on PostgreSQL)",
    )
    p.add_argument("--batch", type=int, default=10, help="messages claimed at a time (default 10)")
    p.add_argument(
        "--poll", type=float, default=2.0, help="seconds between looks when idle (default 2)"
    )
    p.add_argument(
        "--lease",
        type=int,
        default=300,
        help="seconds a claim holds a message before another worker may take it (default 300)",
    )
    p.add_argument(
        "--exit-when-idle", action="store_true", help="stop once nothing is due (batch runs)"
    )
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser(
        "check",
        help="check the settings before starting (production values; shared secrets when "
        "several processes run)",
    )
    p.add_argument(
        "--processes",
        type=int,
        help="how many Rasa/action/console processes share this deployment "
        "(default: several when REDIS_URL is set, else one)",
    )
    p.set_defaults(func=cmd_check)

    users = sub.add_parser("users", help="console accounts")
    users_sub = users.add_subparsers(dest="users_command", metavar="ACTION")
    users_sub.required = True
    p = users_sub.add_parser("add", help="add a console user (password from stdin)")
    p.add_argument("name")
    p.add_argument("--role", required=True, choices=["operator", "trainer", "admin"])
    p.set_defaults(func=cmd_users_add)

    inbox = sub.add_parser("inbox", help="the trainers' reviewed inbox examples")
    inbox_sub = inbox.add_subparsers(dest="inbox_command", metavar="ACTION")
    inbox_sub.required = True
    p = inbox_sub.add_parser("export", help="reviewed examples in data/nlu/ format (YAML)")
    p.add_argument("--file", help="the review file (default: PARLEY_INBOX_FILE or var/inbox/)")
    p.set_defaults(func=cmd_inbox_export)

    p = sub.add_parser("export-story", help="a stored conversation as a Rasa test story (YAML)")
    p.add_argument("sender_id", help="e.g. +12025550143 or whatsapp:+12025550143")
    p.add_argument("--name", help="story name (default: transcript SENDER_ID)")
    p.set_defaults(func=cmd_export_story)

    p = sub.add_parser(
        "serve", help="run the Rasa server, the action server and the operator console together"
    )
    p.add_argument("--rasa-port", type=int, default=int(os.environ.get("RASA_PORT", 5005)))
    p.add_argument("--action-port", type=int, default=int(os.environ.get("ACTION_PORT", 5055)))
    p.add_argument(
        "--console-port",
        type=int,
        default=int(os.environ.get("CONSOLE_PORT", 8000)),
        help="the operator console's port (default: CONSOLE_PORT or 8000)",
    )
    p.add_argument("--model", help="model file (default: the newest in models/)")
    p.add_argument(
        "--host",
        help="interface to listen on (default: PARLEY_HOST or 127.0.0.1; "
        "development mode allows loopback only)",
    )
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("train", help="train the Rasa model if data, config or code changed")
    p.add_argument("--force", action="store_true", help="retrain even if nothing changed")
    p.set_defaults(func=cmd_train)

    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION")
    db_sub.required = True
    p = db_sub.add_parser("upgrade", help="apply schema migrations (also done on every start)")
    p.set_defaults(func=cmd_db_upgrade)

    p = sub.add_parser("simulate", help="what a policy recovers and what it costs debtors")
    p.add_argument("--policy", help="policy YAML (default: POLICY_FILE or policies/default.yml)")
    p.add_argument("--compare", help="a second policy YAML, side by side on the same debtors")
    p.add_argument("--debtors", type=int, help="how many (default 1000; 50 with --through-bot)")
    p.add_argument("--seed", type=int, default=1, help="the same seed gives the same debtors")
    p.add_argument("--population", help="assumptions YAML (see examples/population.yml)")
    p.add_argument("--json", action="store_true", help="print the outcomes as JSON")
    p.add_argument("--out", help="report folder (default: reports/simulate/)")
    p.add_argument(
        "--through-bot",
        action="store_true",
        help="text the debtors with a served model on a throwaway database",
    )
    p.set_defaults(func=cmd_simulate)
    return parser


def _known_errors() -> tuple[type[BaseException], ...]:
    from bot.accounts.csv_import import AccountImportError
    from bot.settings import ConfigurationError
    from bot.storage import AccountNotFoundError, DatabaseUnavailableError
    from bot.storage.identity import AccountNotLockedError
    from bot.storage.users import UserError
    from bot.transcripts import TranscriptNotFoundError

    errors: list[type[BaseException]] = [
        CommandError,
        AccountNotLockedError,
        AccountImportError,
        ConfigurationError,
        DatabaseUnavailableError,
        AccountNotFoundError,
        UserError,
        TranscriptNotFoundError,
    ]
    from bot.serve import ServeError
    from bot.training import TrainingError

    errors += [ServeError, TrainingError]
    try:
        from bot.negotiation import NegotiationError, PolicyError

        errors += [NegotiationError, PolicyError]
    except ImportError:
        pass
    return tuple(errors)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("parley: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the CLI's contract: one line, no traceback
        if os.environ.get("PARLEY_DEBUG"):
            raise
        known = isinstance(exc, _known_errors())
        message = str(exc) if known else f"unexpected {type(exc).__name__}: {exc}"
        print(f"parley: error: {message}", file=sys.stderr)
        if not known:
            print("parley: set PARLEY_DEBUG=1 to see the traceback", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
