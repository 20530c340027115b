"""Parse and validate a creditor's accounts CSV; every bad line is reported at once."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from babel.numbers import list_currencies

from bot.negotiation.money import UnsupportedCurrencyError, parse_money, require_cent_currency

REQUIRED_COLUMNS = ("account_ref", "name", "phone", "balance", "currency", "timezone", "dob")
OPTIONAL_COLUMNS = ("channel", "creditor", "language", "due_date")
CHANNELS = ("sms", "whatsapp")
MAX_BALANCE = Decimal("1000000000")
_REF_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-/]{0,63}$")
_LANGUAGE_PATTERN = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
_CURRENCIES = frozenset(list_currencies())


@dataclass(frozen=True)
class AccountRow:
    """One validated account, ready to store."""

    line: int
    account_ref: str
    name: str
    phone: str
    balance: Decimal
    currency: str
    timezone: str
    dob: date
    channel: str = "sms"
    creditor: str | None = None
    language: str = "en"
    due_date: date | None = None


@dataclass(frozen=True)
class RowError:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class AccountImportError(ValueError):
    """The file cannot be imported; `errors` lists every problem with its line."""

    def __init__(self, source: str, errors: list[RowError]) -> None:
        self.source = source
        self.errors = errors
        shown = "; ".join(str(e) for e in errors[:20])
        more = f" (and {len(errors) - 20} more)" if len(errors) > 20 else ""
        super().__init__(f"{source}: {len(errors)} problem(s), nothing imported: {shown}{more}")


def normalise_phone(raw: str) -> str:
    """E.164 form of an international number ("+1 (202) 555-0143" → "+12025550143")."""
    value = raw.strip()
    if value.lower().startswith("whatsapp:"):
        value = value[len("whatsapp:") :]
    if not value.startswith("+"):
        raise ValueError("must be in international format starting with + (e.g. +12025550143)")
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"is not a phone number ({exc})") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError("is not a valid phone number for its country")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def parse_balance(raw: str) -> Decimal:
    """A positive amount in the engine's one grammar (see money.parse_money).

    "1200" and "1,200.50" are balances; "12,50", "1.234", "1,2345" and "$5" are not.
    Raises ValueError (MoneyFormatError for the shape) with a message to put after the
    column name.
    """
    amount = parse_money(raw)
    if amount <= 0:
        raise ValueError("must be greater than zero")
    if amount > MAX_BALANCE:
        raise ValueError("is implausibly large")
    return amount


def parse_iso_date(raw: str) -> date:
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise ValueError(f"must be a date like 1985-03-04 (got {raw.strip()!r})") from None


def _validate_row(line: int, record: dict[str, str], today: date) -> AccountRow:
    errors: list[str] = []

    def field(name: str) -> str:
        return (record.get(name) or "").strip()

    for name in REQUIRED_COLUMNS:
        if not field(name):
            errors.append(f"{name} is empty")
    if errors:
        raise ValueError("; ".join(errors))

    ref = field("account_ref")
    if not _REF_PATTERN.match(ref):
        errors.append("account_ref may only hold letters, digits and . _ - / (max 64)")
    name = field("name")
    if len(name) > 200 or any(ord(ch) < 32 for ch in name):
        errors.append("name must be at most 200 printable characters")
    phone = ""
    try:
        phone = normalise_phone(field("phone"))
    except ValueError as exc:
        errors.append(f"phone {exc}")
    balance = Decimal(0)
    try:
        balance = parse_balance(field("balance"))
    except ValueError as exc:
        errors.append(f"balance {exc}")
    currency = field("currency").upper()
    if currency not in _CURRENCIES:
        errors.append(f"currency must be an ISO 4217 code like USD (got {field('currency')!r})")
    else:
        try:
            require_cent_currency(currency)
        except UnsupportedCurrencyError as exc:
            errors.append(str(exc))
    tz = field("timezone")
    try:
        if "/" not in tz and tz != "UTC":
            raise ZoneInfoNotFoundError(tz)
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        errors.append(f"timezone must be an IANA zone like America/New_York (got {tz!r})")
    dob = today
    try:
        dob = parse_iso_date(field("dob"))
        if dob >= today:
            errors.append("dob must be in the past")
        elif dob.year < today.year - 120:
            errors.append("dob is more than 120 years ago")
    except ValueError as exc:
        errors.append(f"dob {exc}")
    channel = field("channel").lower() or "sms"
    if channel not in CHANNELS:
        errors.append(f"channel must be sms or whatsapp (got {field('channel')!r})")
    language = field("language") or "en"
    if not _LANGUAGE_PATTERN.match(language):
        errors.append(f"language must be a code like en or es-MX (got {language!r})")
    due_date = None
    if field("due_date"):
        try:
            due_date = parse_iso_date(field("due_date"))
        except ValueError as exc:
            errors.append(f"due_date {exc}")
    creditor = field("creditor") or None
    if creditor is not None and (len(creditor) > 200 or any(ord(ch) < 32 for ch in creditor)):
        errors.append("creditor must be at most 200 printable characters")
    if errors:
        raise ValueError("; ".join(errors))
    return AccountRow(
        line=line,
        account_ref=ref,
        name=name,
        phone=phone,
        balance=balance,
        currency=currency,
        timezone=tz,
        dob=dob,
        channel=channel,
        creditor=creditor,
        language=language,
        due_date=due_date,
    )


def parse_accounts(lines: Iterable[str], source: str, today: date) -> list[AccountRow]:
    """Validate every row; raise AccountImportError listing each bad line, or return all."""
    reader = csv.DictReader(lines, strict=True)
    try:
        header = [h.strip() for h in (reader.fieldnames or [])]
    except csv.Error as exc:
        raise AccountImportError(source, [RowError(1, f"unreadable CSV header ({exc})")]) from None
    if not header:
        raise AccountImportError(source, [RowError(1, "the file is empty")])
    reader.fieldnames = header
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    unknown = [c for c in header if c not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    header_errors = []
    if missing:
        header_errors.append(RowError(1, f"missing required column(s): {', '.join(missing)}"))
    if unknown:
        header_errors.append(RowError(1, f"unknown column(s): {', '.join(unknown)}"))
    if header_errors:
        raise AccountImportError(source, header_errors)

    rows: list[AccountRow] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    try:
        for record in reader:
            line = reader.line_num
            if None in record:
                errors.append(RowError(line, "more fields than columns in the header"))
                continue
            if all(not (v or "").strip() for v in record.values()):
                continue  # blank line
            if any(v is None for v in record.values()):
                errors.append(RowError(line, "fewer fields than columns in the header"))
                continue
            try:
                row = _validate_row(line, record, today)
            except ValueError as exc:
                errors.append(RowError(line, str(exc)))
                continue
            if row.account_ref in seen:
                errors.append(
                    RowError(
                        line, f"account_ref {row.account_ref} repeats line {seen[row.account_ref]}"
                    )
                )
                continue
            seen[row.account_ref] = line
            rows.append(row)
    except csv.Error as exc:
        errors.append(RowError(reader.line_num, f"unreadable CSV ({exc})"))
    if errors:
        raise AccountImportError(source, errors)
    if not rows:
        raise AccountImportError(source, [RowError(1, "no account rows after the header")])
    return rows


def read_accounts_file(path: Path, today: date) -> list[AccountRow]:
    """Read and validate a CSV file (UTF-8, a byte-order mark is fine)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise AccountImportError(str(path), [RowError(0, "file not found")]) from None
    except OSError as exc:
        raise AccountImportError(
            str(path), [RowError(0, f"cannot read the file ({exc.strerror})")]
        ) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise AccountImportError(
            str(path), [RowError(line, "not UTF-8 text; save the file as CSV UTF-8")]
        ) from None
    if "\x00" in text:
        raise AccountImportError(str(path), [RowError(1, "binary data, not a CSV file")])
    return parse_accounts(io.StringIO(text, newline=""), str(path), today)
