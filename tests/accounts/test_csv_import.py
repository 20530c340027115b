"""CSV validation: every bad line named, nothing partial."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from bot.accounts.csv_import import AccountImportError, parse_accounts, read_accounts_file

TODAY = date(2026, 11, 28)
HEADER = "account_ref,name,phone,balance,currency,timezone,dob"
GOOD = "A-1,Maria Lopez,+12025550143,1200.00,USD,America/New_York,1985-03-04"


def parse(text: str):  # type: ignore[no-untyped-def]
    return parse_accounts(io.StringIO(text, newline=""), "accounts.csv", TODAY)


def test_good_rows_are_normalised() -> None:
    rows = parse(
        HEADER
        + ",channel,creditor,due_date\n"
        + GOOD
        + ",whatsapp,Acme Clinic,2026-10-01\n"
        + "A-2,Li Wei,+1 (415) 555-2671,75,usd,Europe/London,1990-12-31,,,\n"
    )
    assert [r.account_ref for r in rows] == ["A-1", "A-2"]
    assert rows[0].channel == "whatsapp" and rows[0].creditor == "Acme Clinic"
    assert rows[0].due_date == date(2026, 10, 1)
    assert rows[1].phone == "+14155552671"
    assert rows[1].balance == Decimal("75.00") and rows[1].currency == "USD"
    assert rows[1].channel == "sms" and rows[1].language == "en"


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (
            "A-9,Bob,2025550143,10,USD,America/New_York,1985-03-04",
            "phone must be in international format",
        ),
        (
            "A-9,Bob,+15551234567,10,USD,America/New_York,1985-03-04",
            "phone is not a valid phone number",
        ),
        (
            "A-9,Bob,+12025550143,-5,USD,America/New_York,1985-03-04",
            "balance must be greater than zero",
        ),
        (
            "A-9,Bob,+12025550143,0,USD,America/New_York,1985-03-04",
            "balance must be greater than zero",
        ),
        ("A-9,Bob,+12025550143,ten,USD,America/New_York,1985-03-04", "balance must be a number"),
        ("A-9,Bob,+12025550143,10.555,USD,America/New_York,1985-03-04", "two decimal places"),
        ("A-9,Bob,+12025550143,NaN,USD,America/New_York,1985-03-04", "balance must be a number"),
        ("A-9,Bob,+12025550143,10,ABC,America/New_York,1985-03-04", "currency must be an ISO 4217"),
        (
            "A-9,Bob,+12025550143,1000,JPY,Asia/Tokyo,1985-03-04",
            "currency JPY has 0 decimal places; Parley computes plans in cents",
        ),
        ("A-9,Bob,+12025550143,10,USD,Mars/Olympus,1985-03-04", "timezone must be an IANA zone"),
        ("A-9,Bob,+12025550143,10,USD,EST5EDTX,1985-03-04", "timezone must be an IANA zone"),
        ("A-9,Bob,+12025550143,10,USD,America/New_York,04/03/1985", "dob must be a date"),
        ("A-9,Bob,+12025550143,10,USD,America/New_York,2030-01-01", "dob must be in the past"),
        ("A-9,,+12025550143,10,USD,America/New_York,1985-03-04", "name is empty"),
        ("A 9,Bob,+12025550143,10,USD,America/New_York,1985-03-04", "account_ref may only hold"),
    ],
)
def test_each_bad_field_is_named_with_its_line(row: str, message: str) -> None:
    with pytest.raises(AccountImportError) as excinfo:
        parse(f"{HEADER}\n{GOOD}\n{row}\n")
    assert excinfo.value.errors[0].line == 3
    assert message in str(excinfo.value)
    assert "nothing imported" in str(excinfo.value)


@pytest.mark.parametrize(
    ("balance", "expected"),
    [("1234", "1234.00"), ("1,234.50", "1234.50"), ("0.5", "0.50"), ("1,000,000", "1000000.00")],
)
def test_balance_in_the_one_grammar_is_accepted(balance: str, expected: str) -> None:
    rows = parse(f'{HEADER}\nA-9,Bob,+12025550143,"{balance}",USD,America/New_York,1985-03-04\n')
    assert rows[0].balance == Decimal(expected)
    assert str(rows[0].balance) == expected


@pytest.mark.parametrize(
    ("balance", "reason"),
    [
        ("12,50", "a comma may only separate thousands"),  # was read as 1250.00
        ("1,2345", "a comma may only separate thousands"),
        ("1.234", "at most two decimal places"),  # was read as 1.234 -> 1.23 or refused
        ("1.2k", "digits only"),
        ("fifty", "digits only"),
        ("$12", "digits only"),
    ],
)
def test_balance_outside_the_one_grammar_is_refused_naming_line_and_column(
    balance: str, reason: str
) -> None:
    row = f'A-9,Bob,+12025550143,"{balance}",USD,America/New_York,1985-03-04'
    with pytest.raises(AccountImportError) as excinfo:
        parse(f"{HEADER}\n{GOOD}\n{row}\n")
    assert [e.line for e in excinfo.value.errors] == [3]
    message = str(excinfo.value.errors[0])
    assert message.startswith("line 3: balance must ")
    assert repr(balance) in message and reason in message


def test_all_bad_lines_are_reported_together() -> None:
    text = (
        f"{HEADER}\n{GOOD}\n"
        "B-1,Bob,+12025550143,-1,USD,America/New_York,1985-03-04\n"
        "B-2,Ann,+12025550143,10,USD,Nowhere/Land,1985-03-04\n"
        "A-1,Dup,+12025550143,10,USD,America/New_York,1985-03-04\n"
        "B-3,Too,+12025550143,10,USD,America/New_York,1985-03-04,extra\n"
    )
    with pytest.raises(AccountImportError) as excinfo:
        parse(text)
    assert [e.line for e in excinfo.value.errors] == [3, 4, 5, 6]
    assert "repeats line 2" in str(excinfo.value)
    assert "more fields than columns" in str(excinfo.value)


def test_header_problems() -> None:
    with pytest.raises(AccountImportError, match="missing required column.*dob"):
        parse("account_ref,name,phone,balance,currency,timezone\nA,B,+12025550143,1,USD,UTC\n")
    with pytest.raises(AccountImportError, match="unknown column.*balanse"):
        parse(HEADER + ",balanse\n" + GOOD + ",1\n")
    with pytest.raises(AccountImportError, match="empty"):
        parse("")
    with pytest.raises(AccountImportError, match="no account rows"):
        parse(HEADER + "\n\n")


def test_file_level_problems(tmp_path: Path) -> None:
    with pytest.raises(AccountImportError, match="file not found"):
        read_accounts_file(tmp_path / "missing.csv", TODAY)
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes((HEADER + "\n" + GOOD.replace("Lopez", "López") + "\n").encode("latin-1"))
    with pytest.raises(AccountImportError, match="line 2: not UTF-8"):
        read_accounts_file(latin1, TODAY)
    bom = tmp_path / "bom.csv"
    bom.write_bytes(("\ufeff" + HEADER + "\n" + GOOD + "\n").encode("utf-8"))
    assert read_accounts_file(bom, TODAY)[0].account_ref == "A-1"


def test_untrusted_text_is_kept_but_control_characters_refused() -> None:
    rows = parse(
        HEADER + "\n" + "A-1,\"=cmd|' /C calc'!A0 <b>x</b>\",+12025550143,1,USD,UTC,1985-03-04\n"
    )
    assert rows[0].name.startswith("=cmd")
    with pytest.raises(AccountImportError, match="printable"):
        parse(HEADER + "\n" + "A-1,Bad\x07Name,+12025550143,1,USD,UTC,1985-03-04\n")
