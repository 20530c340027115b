"""The creditor's negotiation policy: what plans may be offered and how the bot may contact.

A policy is a YAML file (see ``policies/default.yml``). Every key is optional; a missing key
takes the value in the default policy. Unknown keys are errors, because a misspelt key that
was silently ignored would leave a creditor's limit unenforced.
"""

from __future__ import annotations

import datetime
import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import Enum
from pathlib import Path
from typing import Any

import yaml

from bot.negotiation.money import is_whole_cents

DEFAULT_POLICY_PATH = Path(__file__).resolve().parents[2] / "policies" / "default.yml"

# The widest window any policy may allow for bot-initiated messages (compliance.md, Quiet
# hours). A policy may narrow it, never widen it.
EARLIEST_CONTACT = datetime.time(8, 0)
LATEST_CONTACT = datetime.time(21, 0)


class Frequency(str, Enum):
    """How often installments fall due."""

    WEEKLY = "weekly"
    BIWEEKLY = "biweekly"
    MONTHLY = "monthly"

    @property
    def periods_per_year(self) -> int:
        """Number of installments this frequency makes in a year (52, 26 or 12)."""
        return _PERIODS_PER_YEAR[self]

    def __str__(self) -> str:
        return self.value


_PERIODS_PER_YEAR = {Frequency.WEEKLY: 52, Frequency.BIWEEKLY: 26, Frequency.MONTHLY: 12}

# The order plans are presented in: fewest payments (least hassle) first.
FREQUENCY_ORDER: tuple[Frequency, ...] = (Frequency.MONTHLY, Frequency.BIWEEKLY, Frequency.WEEKLY)


class PolicyError(ValueError):
    """A policy file or value is invalid; the message names the file, the field and the fix."""


@dataclass(frozen=True)
class QuietHours:
    """The daily window (debtor's local time) in which the bot may start a conversation.

    ``start`` is inclusive and ``end`` exclusive: with 08:00-21:00 a message may go at 20:59
    but not at 21:00.
    """

    start: datetime.time
    end: datetime.time

    def __post_init__(self) -> None:
        _check_window(self.start, self.end, "quiet_hours", "QuietHours")

    def allows(self, moment: datetime.time) -> bool:
        """True if a bot-initiated message may be sent at local time ``moment``."""
        return self.start <= moment.replace(tzinfo=None) < self.end


@dataclass(frozen=True)
class Policy:
    """A validated creditor policy. Build it with :func:`load_policy` or :func:`policy_from_dict`.

    Constructing it directly also validates (and normalises numbers given as text), so an
    invalid policy cannot reach the negotiation engine.
    """

    name: str
    min_installment: Decimal
    max_installments: int
    frequencies: tuple[Frequency, ...]
    max_share_of_disposable: Decimal
    first_payment_window_days: int
    max_deferral_days: int
    settlement_allowed: bool
    settlement_floor: Decimal
    quiet_hours: QuietHours
    max_outbound_per_7_days: int
    verification_attempts: int

    def __post_init__(self) -> None:
        source = "Policy"
        normalised: dict[str, object] = {
            "name": _text(self.name, "name", source),
            "min_installment": _money(self.min_installment, "min_installment", source),
            "max_installments": _count(self.max_installments, "max_installments", source, 1),
            "frequencies": _frequencies(self.frequencies, "frequencies", source),
            "max_share_of_disposable": _fraction(
                self.max_share_of_disposable, "max_share_of_disposable", source
            ),
            "first_payment_window_days": _count(
                self.first_payment_window_days, "first_payment_window_days", source, 1
            ),
            "max_deferral_days": _count(self.max_deferral_days, "max_deferral_days", source, 0),
            "settlement_allowed": _flag(self.settlement_allowed, "settlement_allowed", source),
            "settlement_floor": _fraction(self.settlement_floor, "settlement_floor", source),
            "max_outbound_per_7_days": _count(
                self.max_outbound_per_7_days, "max_outbound_per_7_days", source, 1
            ),
            "verification_attempts": _count(
                self.verification_attempts, "verification_attempts", source, 1
            ),
        }
        if not isinstance(self.quiet_hours, QuietHours):
            raise PolicyError(
                f"{source}: quiet_hours must be a QuietHours (got {self.quiet_hours!r})"
            )
        # Frozen dataclass: normalising in place is the documented way round the freeze.
        for key, value in normalised.items():
            object.__setattr__(self, key, value)

    def allows(self, frequency: Frequency) -> bool:
        """True if installments at ``frequency`` may be offered under this policy."""
        return frequency in self.frequencies

    @property
    def deferral_allowed(self) -> bool:
        """True if the policy lets a debtor pause payments at all."""
        return self.max_deferral_days > 0


# The built-in defaults. They mirror policies/default.yml (a test keeps the two equal) so
# that policy_from_dict stays pure and a partial policy never depends on a file on disk.
DEFAULTS: Mapping[str, Any] = {
    "name": "default",
    "installments": {
        "min_amount": "25.00",
        "max_count": 12,
        "frequencies": ["monthly", "biweekly", "weekly"],
        "max_share_of_disposable": "0.50",
    },
    "first_payment_window_days": 14,
    "deferral": {"max_days": 60},
    "settlement": {"allowed": True, "floor": "0.80"},
    "contact": {
        "quiet_hours": {"start": "08:00", "end": "21:00"},
        "max_outbound_per_7_days": 3,
        "verification_attempts": 3,
    },
}


def policy_from_dict(data: Mapping[str, Any], source: str = "<policy>") -> Policy:
    """Build a :class:`Policy` from a mapping shaped like ``policies/default.yml``.

    Missing keys take the default policy's values; unknown keys, wrong types and values out
    of range raise :class:`PolicyError` naming ``source`` and the dotted field.
    """
    if not isinstance(data, Mapping):
        raise PolicyError(
            f"{source}: a policy must be a mapping of settings (got {type(data).__name__})"
        )
    merged = _merge(DEFAULTS, data, "", source)
    inst = merged["installments"]
    contact = merged["contact"]
    quiet = contact["quiet_hours"]
    return Policy(
        name=_text(merged["name"], "name", source),
        min_installment=_money(inst["min_amount"], "installments.min_amount", source),
        max_installments=_count(inst["max_count"], "installments.max_count", source, 1),
        frequencies=_frequencies(inst["frequencies"], "installments.frequencies", source),
        max_share_of_disposable=_fraction(
            inst["max_share_of_disposable"], "installments.max_share_of_disposable", source
        ),
        first_payment_window_days=_count(
            merged["first_payment_window_days"], "first_payment_window_days", source, 1
        ),
        max_deferral_days=_count(merged["deferral"]["max_days"], "deferral.max_days", source, 0),
        settlement_allowed=_flag(merged["settlement"]["allowed"], "settlement.allowed", source),
        settlement_floor=_fraction(merged["settlement"]["floor"], "settlement.floor", source),
        quiet_hours=_quiet_hours(quiet, "contact.quiet_hours", source),
        max_outbound_per_7_days=_count(
            contact["max_outbound_per_7_days"], "contact.max_outbound_per_7_days", source, 1
        ),
        verification_attempts=_count(
            contact["verification_attempts"], "contact.verification_attempts", source, 1
        ),
    )


def load_policy(path: str | Path = DEFAULT_POLICY_PATH) -> Policy:
    """Read and validate a policy YAML file.

    A file without a ``name`` is named after the file (``clinic.yml`` -> ``clinic``), so
    agreements never record a custom policy as "default". Raises :class:`PolicyError` for
    a missing or unreadable file, invalid YAML, or any invalid setting.
    """
    file = Path(path)
    source = str(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PolicyError(
            f"{source}: policy file not found (check POLICY_FILE or the --policy path)"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(f"{source}: cannot read the policy file ({exc})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PolicyError(f"{source}: not valid YAML ({_one_line(str(exc))})") from None
    if data is None:
        raise PolicyError(f"{source}: the policy file is empty (start from policies/default.yml)")
    if not isinstance(data, Mapping):
        raise PolicyError(
            f"{source}: a policy must be a mapping of settings like policies/default.yml "
            f"(got a {type(data).__name__})"
        )
    if "name" not in data:
        data = {**data, "name": file.stem}
    return policy_from_dict(data, source)


# --- parsing helpers: each takes the raw value, the dotted field name and the source ---


def _fail(source: str, field: str, problem: str, value: object) -> PolicyError:
    return PolicyError(f"{source}: {field} {problem} (got {value!r})")


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _merge(defaults: Mapping[str, Any], data: Mapping[Any, Any], prefix: str, source: str) -> dict:
    """Overlay ``data`` on ``defaults`` section by section, rejecting unknown keys."""
    for key in data:
        if key not in defaults:
            field = f"{prefix}{key}"
            known = [f"{prefix}{k}" for k in defaults]
            close = difflib.get_close_matches(str(field), known, n=1)
            hint = f"did you mean {close[0]}?" if close else "known keys: " + ", ".join(known)
            raise PolicyError(f"{source}: unknown setting {field!r} ({hint})")
    merged: dict[str, Any] = {}
    for key, default in defaults.items():
        field = f"{prefix}{key}"
        if isinstance(default, Mapping):
            given = data.get(key, {})
            if not isinstance(given, Mapping):
                raise _fail(source, field, "must be a section of settings", given)
            merged[key] = _merge(default, given, f"{field}.", source)
        else:
            merged[key] = data.get(key, default)
    return merged


def _decimal(value: object, field: str, source: str, expected: str) -> Decimal:
    # Through str() so a YAML float such as 0.1 becomes exactly Decimal("0.1").
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        raise _fail(source, field, expected, value)
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise _fail(source, field, expected, value) from None
    if not number.is_finite():
        raise _fail(source, field, expected, value)
    return number


def _text(value: object, field: str, source: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _fail(source, field, "must be a non-empty piece of text", value)
    return value.strip()


def _money(value: object, field: str, source: str) -> Decimal:
    expected = 'must be an amount above 0 with at most 2 decimal places, e.g. "25.00"'
    amount = _decimal(value, field, source, expected)
    if amount <= 0 or not is_whole_cents(amount):
        raise _fail(source, field, expected, value)
    return amount.quantize(Decimal("0.01"))


def _fraction(value: object, field: str, source: str) -> Decimal:
    expected = "must be a number between 0 and 1"
    share = _decimal(value, field, source, expected)
    if not Decimal(0) < share <= Decimal(1):
        raise _fail(source, field, expected, value)
    return share


def _count(value: object, field: str, source: str, minimum: int) -> int:
    expected = f"must be a whole number of at least {minimum}"
    number = _decimal(value, field, source, expected)
    if number != number.to_integral_value() or number < minimum:
        raise _fail(source, field, expected, value)
    return int(number)


def _flag(value: object, field: str, source: str) -> bool:
    if not isinstance(value, bool):
        raise _fail(source, field, "must be true or false", value)
    return value


def _frequencies(value: object, field: str, source: str) -> tuple[Frequency, ...]:
    names = ", ".join(f.value for f in FREQUENCY_ORDER)
    expected = f"must be a non-empty list of frequencies from: {names}"
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise _fail(source, field, expected, value)
    items = list(value)
    if not items:
        raise _fail(source, field, expected, value)
    chosen: list[Frequency] = []
    for item in items:
        try:
            frequency = Frequency(item.strip().lower() if isinstance(item, str) else item)
        except ValueError:
            raise _fail(
                source, field, f"has an unknown frequency {item!r}; {expected}", value
            ) from None
        if frequency in chosen:
            raise _fail(source, field, f"lists {frequency.value!r} twice", value)
        chosen.append(frequency)
    return tuple(chosen)


def _clock(value: object, field: str, source: str) -> datetime.time:
    if isinstance(value, datetime.time):
        return value.replace(tzinfo=None)
    if isinstance(value, int) and not isinstance(value, bool):
        # YAML 1.1 reads an unquoted 21:00 as the base-60 number 1260.
        raise _fail(
            source, field, 'must be a quoted 24-hour time such as "21:00" (add the quotes)', value
        )
    if isinstance(value, str):
        try:
            return datetime.datetime.strptime(value.strip(), "%H:%M").time()
        except ValueError:
            pass
    raise _fail(source, field, 'must be a 24-hour time such as "08:00"', value)


def _quiet_hours(value: Mapping[str, Any], field: str, source: str) -> QuietHours:
    start = _clock(value["start"], f"{field}.start", source)
    end = _clock(value["end"], f"{field}.end", source)
    _check_window(start, end, field, source)
    return QuietHours(start=start, end=end)


def _check_window(start: object, end: object, field: str, source: str) -> None:
    if not isinstance(start, datetime.time):
        raise _fail(source, f"{field}.start", "must be a time of day", start)
    if not isinstance(end, datetime.time):
        raise _fail(source, f"{field}.end", "must be a time of day", end)
    window = f"{EARLIEST_CONTACT:%H:%M}-{LATEST_CONTACT:%H:%M}"
    if start < EARLIEST_CONTACT:
        raise _fail(
            source, f"{field}.start", f"may narrow {window} but not start earlier", f"{start:%H:%M}"
        )
    if end > LATEST_CONTACT:
        raise _fail(
            source, f"{field}.end", f"may narrow {window} but not end later", f"{end:%H:%M}"
        )
    if start >= end:
        raise PolicyError(
            f"{source}: {field}.start must be before {field}.end (got {start:%H:%M}-{end:%H:%M})"
        )
