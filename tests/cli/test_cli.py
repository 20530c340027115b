"""The `parley` command, run as a real process against a real database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from bot.negotiation import Frequency, affordable_installment, load_policy
from bot.negotiation.affordability import Finances

HEADER = "account_ref,name,phone,balance,currency,timezone,dob\n"
ROWS = (
    "A-1,Maria Lopez,+12025550143,1200.00,USD,America/New_York,1985-03-04\n"
    "A-2,Li Wei,+14155552671,75.50,USD,America/Los_Angeles,1990-12-31\n"
)


def parley(
    *args: str, database_url: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url}
    env.pop("PARLEY_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        input=stdin,
        timeout=120,
    )


@pytest.fixture
def csv_file(tmp_path: Path) -> Path:
    path = tmp_path / "accounts.csv"
    path.write_text(HEADER + ROWS)
    return path


def test_import_twice_does_not_duplicate(csv_file: Path, database_url: str) -> None:
    first = parley("accounts", "import", str(csv_file), database_url=database_url)
    assert first.returncode == 0, first.stderr
    assert "2 new" in first.stdout
    second = parley("accounts", "import", str(csv_file), database_url=database_url)
    assert second.returncode == 0, second.stderr
    assert "0 new, 0 updated, 2 unchanged" in second.stdout
    listed = parley("accounts", "list", "--json", database_url=database_url)
    assert [a["account_ref"] for a in json.loads(listed.stdout)] == ["A-1", "A-2"]


def test_one_bad_row_writes_nothing_and_names_the_line(tmp_path: Path, database_url: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        HEADER + ROWS + "A-3,Bad Balance,+16175550123,-20,USD,America/Chicago,1970-01-01\n"
    )
    result = parley("accounts", "import", str(path), database_url=database_url)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1, result.stderr  # one clear line, no traceback
    assert "line 4" in result.stderr and "balance must be greater than zero" in result.stderr
    listed = parley("accounts", "list", "--json", database_url=database_url)
    assert json.loads(listed.stdout) == []


def test_show_reports_status_and_flags(csv_file: Path, database_url: str) -> None:
    parley("accounts", "import", str(csv_file), database_url=database_url)
    result = parley("accounts", "show", "A-2", "--json", database_url=database_url)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["balance"] == "75.50" and data["status"] == "active" and data["flags"] == []
    missing = parley("accounts", "show", "NOPE", database_url=database_url)
    assert missing.returncode == 1 and "no account with reference 'NOPE'" in missing.stderr


def test_agreements_list_empty_json(database_url: str) -> None:
    result = parley("agreements", "list", "--json", database_url=database_url)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []


def test_database_down_is_one_clear_line(tmp_path: Path) -> None:
    result = parley("accounts", "list", database_url="postgresql://nobody@127.0.0.1:1/none")
    assert result.returncode == 1
    assert "cannot reach the database" in result.stderr
    assert "Traceback" not in result.stderr


def test_quote_prints_policy_compliant_options(sqlite_url: str) -> None:
    result = parley(
        "quote", "--balance", "1200", "--income", "2000", "--expenses", "1700",
        "--today", "2026-11-28", "--json", database_url=sqlite_url,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    quote = json.loads(result.stdout)
    policy = load_policy(Path("policies/default.yml"))
    finances = Finances(Decimal("2000"), Decimal("1700"))
    assert quote["options"], quote
    for option in quote["options"]:
        amounts = [Decimal(p["amount"]) for p in option["schedule"]]
        if option["kind"] != "deferral" or amounts:
            assert sum(amounts) == Decimal(option["total"]) == Decimal("1200.00")
        if option["kind"] == "installment":
            limit = affordable_installment(policy, finances, Frequency(option["frequency"]))
            assert max(amounts) <= limit
            assert len(amounts) <= policy.max_installments
            dates = [p["due_date"] for p in option["schedule"]]
            assert dates == sorted(set(dates))
    # 1200 is more than the 300 a month left over, so paying in full is not offered.
    assert all(o["kind"] != "full" for o in quote["options"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--balance", "-5", "--income", "2000", "--expenses", "100"],
            "--balance must be greater than zero",
        ),
        (["--balance", "100", "--income", "1000", "--expenses", "1700"], "are more than --income"),
        (
            ["--balance", "lots", "--income", "2000", "--expenses", "100"],
            "--balance must be a number",
        ),
        (["--balance", "100", "--income", "2k", "--expenses", "100"], "--income must be a number"),
        # One numeric grammar with CSV import and the engine (money.parse_money):
        (["--balance", "12,50", "--income", "2000", "--expenses", "100"], "--balance must be"),
        (["--balance", "100", "--income", "1.234", "--expenses", "100"], "--income must have"),
        (["--balance", "100", "--income", "2000", "--expenses", "1,2345"], "--expenses must be"),
        (["--balance", "fifty", "--income", "2000", "--expenses", "100"], "--balance must be"),
    ],
)
def test_quote_bad_input_is_one_clear_line(args: list[str], message: str, sqlite_url: str) -> None:
    result = parley("quote", *args, database_url=sqlite_url)
    assert result.returncode in (1, 2)
    assert message in result.stderr
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert "Traceback" not in result.stderr


def test_quote_reads_grouped_thousands(sqlite_url: str) -> None:
    result = parley(
        "quote", "--balance", "1,234.50", "--income", "2,000", "--expenses", "1700",
        "--today", "2026-11-28", "--json", database_url=sqlite_url,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    quote = json.loads(result.stdout)
    assert quote["balance"] == "1234.50"


def test_import_refuses_a_decimal_comma_naming_line_and_column(
    tmp_path: Path, database_url: str
) -> None:
    path = tmp_path / "comma.csv"
    path.write_text(
        HEADER + ROWS + 'A-3,Ann Comma,+16175550123,"12,50",USD,America/Chicago,1970-01-01\n'
    )
    result = parley("accounts", "import", str(path), database_url=database_url)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1, result.stderr  # one clear line, no traceback
    assert "line 4: balance must be a number" in result.stderr and "'12,50'" in result.stderr
    listed = parley("accounts", "list", "--json", database_url=database_url)
    assert json.loads(listed.stdout) == []


def test_quote_with_invalid_policy_file(tmp_path: Path, sqlite_url: str) -> None:
    policy = tmp_path / "bad.yml"
    policy.write_text("installments:\n  max_share_of_disposable: '1.5'\n")
    result = parley(
        "quote", "--balance", "100", "--income", "2000", "--expenses", "100",
        "--policy", str(policy), database_url=sqlite_url,
    )  # fmt: skip
    assert result.returncode == 1
    assert "max_share_of_disposable" in result.stderr


def test_users_add_hashes_the_password(database_url: str) -> None:
    added = parley(
        "users",
        "add",
        "ana",
        "--role",
        "operator",
        database_url=database_url,
        stdin="correct horse battery\n",
    )
    assert added.returncode == 0, added.stderr
    again = parley(
        "users",
        "add",
        "ana",
        "--role",
        "operator",
        database_url=database_url,
        stdin="correct horse battery\n",
    )
    assert again.returncode == 1 and "already exists" in again.stderr
    short = parley(
        "users", "add", "bob", "--role", "admin", database_url=database_url, stdin="short\n"
    )
    assert short.returncode == 1 and "at least 12 characters" in short.stderr
    bad_role = parley(
        "users", "add", "cy", "--role", "root", database_url=database_url, stdin="x" * 20 + "\n"
    )
    assert bad_role.returncode == 2 and "invalid choice" in bad_role.stderr
    import sqlalchemy as sa

    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        stored = conn.execute(
            sa.text("select password_hash from console_users where username='ana'")
        ).scalar_one()
    engine.dispose()
    assert stored.startswith("$argon2") and "correct horse" not in stored
    from bot.storage import Database
    from bot.storage.users import UserRepository

    database = Database(database_url)
    with database.session() as session:
        users = UserRepository(session)
        assert users.authenticate("ana", "correct horse battery") is not None
        assert users.authenticate("ana", "wrong password!!") is None
        assert users.authenticate("nobody", "correct horse battery") is None
    database.dispose()


def test_export_story_for_an_unknown_sender_is_one_clear_line(sqlite_url: str) -> None:
    result = parley("export-story", "+19999999999", database_url=sqlite_url)
    assert result.returncode == 1 and "no conversation stored" in result.stderr


def test_quote_refuses_a_currency_without_cents(database_url: str) -> None:
    result = parley(
        "quote", "--balance", "1000", "--income", "2000", "--expenses", "1000",
        "--currency", "JPY", database_url=database_url,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "parley: error: --currency: currency JPY has 0 decimal places; Parley computes plans "
        "in cents, so only currencies with 2 decimal places (USD, EUR, GBP, CAD, ...) are supported"
    )
