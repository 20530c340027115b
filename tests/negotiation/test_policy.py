import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.negotiation import (
    DEFAULT_POLICY_PATH,
    Frequency,
    Policy,
    PolicyError,
    QuietHours,
    load_policy,
    policy_from_dict,
)
from bot.negotiation.policy import DEFAULTS


def test_default_policy_file_loads_with_documented_values() -> None:
    policy = load_policy(DEFAULT_POLICY_PATH)
    assert policy == Policy(
        name="default",
        min_installment=Decimal("25.00"),
        max_installments=12,
        frequencies=(Frequency.MONTHLY, Frequency.BIWEEKLY, Frequency.WEEKLY),
        max_share_of_disposable=Decimal("0.50"),
        first_payment_window_days=14,
        max_deferral_days=60,
        settlement_allowed=True,
        settlement_floor=Decimal("0.80"),
        quiet_hours=QuietHours(datetime.time(8, 0), datetime.time(21, 0)),
        max_outbound_per_7_days=3,
        verification_attempts=3,
    )
    assert load_policy() == policy


def test_default_path_is_the_repository_policy() -> None:
    repository_policy = Path(__file__).resolve().parents[2] / "policies" / "default.yml"
    assert repository_policy == DEFAULT_POLICY_PATH
    assert DEFAULT_POLICY_PATH.is_file()


def test_built_in_defaults_mirror_the_default_file() -> None:
    # A partial policy takes its missing keys from DEFAULTS; they must not drift apart.
    assert yaml.safe_load(DEFAULT_POLICY_PATH.read_text()) == DEFAULTS
    assert policy_from_dict({}) == load_policy(DEFAULT_POLICY_PATH)


def test_missing_keys_take_defaults_and_numbers_may_be_quoted_or_plain() -> None:
    policy = policy_from_dict(
        {"installments": {"max_count": "6", "max_share_of_disposable": 0.1, "min_amount": 10}}
    )
    assert policy.max_installments == 6
    assert policy.max_share_of_disposable == Decimal("0.1")  # exact, not 0.1000000000000000055
    assert policy.min_installment == Decimal("10.00")
    assert policy.frequencies == (Frequency.MONTHLY, Frequency.BIWEEKLY, Frequency.WEEKLY)
    assert policy.settlement_floor == Decimal("0.80")


def test_deferral_may_be_switched_off() -> None:
    policy = policy_from_dict({"deferral": {"max_days": 0}})
    assert policy.max_deferral_days == 0
    assert not policy.deferral_allowed


def test_quiet_hours_may_narrow_the_legal_window() -> None:
    policy = policy_from_dict({"contact": {"quiet_hours": {"start": "09:30", "end": "20:00"}}})
    assert policy.quiet_hours == QuietHours(datetime.time(9, 30), datetime.time(20, 0))
    assert policy.quiet_hours.allows(datetime.time(9, 30))
    assert policy.quiet_hours.allows(datetime.time(19, 59))
    assert not policy.quiet_hours.allows(datetime.time(20, 0))
    assert not policy.quiet_hours.allows(datetime.time(9, 29))


def test_frequencies_are_normalised() -> None:
    policy = policy_from_dict({"installments": {"frequencies": ["Weekly", "monthly"]}})
    assert policy.frequencies == (Frequency.WEEKLY, Frequency.MONTHLY)
    assert policy.allows(Frequency.WEEKLY)
    assert not policy.allows(Frequency.BIWEEKLY)


def test_frequency_periods_per_year() -> None:
    assert Frequency.WEEKLY.periods_per_year == 52
    assert Frequency.BIWEEKLY.periods_per_year == 26
    assert Frequency.MONTHLY.periods_per_year == 12
    assert Frequency("biweekly") is Frequency.BIWEEKLY


def test_error_message_names_file_field_and_value() -> None:
    with pytest.raises(PolicyError) as raised:
        policy_from_dict({"installments": {"max_share_of_disposable": "1.5"}}, "policies/x.yml")
    assert str(raised.value) == (
        "policies/x.yml: installments.max_share_of_disposable must be a number between 0 and 1 "
        "(got '1.5')"
    )


INVALID: list[tuple[dict[str, Any], str]] = [
    ({"name": ""}, "name"),
    ({"name": 3}, "name"),
    ({"installments": "lots"}, "installments must be a section"),
    ({"installments": {"max_share_of_disposable": "1.5"}}, "installments.max_share_of_disposable"),
    ({"installments": {"max_share_of_disposable": 0}}, "installments.max_share_of_disposable"),
    ({"installments": {"max_share_of_disposable": -0.1}}, "installments.max_share_of_disposable"),
    ({"installments": {"max_share_of_disposable": "half"}}, "installments.max_share_of_disposable"),
    ({"installments": {"max_share_of_disposable": True}}, "installments.max_share_of_disposable"),
    ({"installments": {"max_share_of_disposable": ".nan"}}, "installments.max_share_of_disposable"),
    ({"installments": {"min_amount": 0}}, "installments.min_amount"),
    ({"installments": {"min_amount": "-5"}}, "installments.min_amount"),
    ({"installments": {"min_amount": "10.001"}}, "installments.min_amount"),
    ({"installments": {"min_amount": "ten"}}, "installments.min_amount"),
    ({"installments": {"max_count": 0}}, "installments.max_count"),
    ({"installments": {"max_count": 2.5}}, "installments.max_count"),
    ({"installments": {"max_count": "x"}}, "installments.max_count"),
    ({"installments": {"frequencies": []}}, "installments.frequencies"),
    ({"installments": {"frequencies": ["daily"]}}, "installments.frequencies"),
    ({"installments": {"frequencies": "monthly"}}, "installments.frequencies"),
    ({"installments": {"frequencies": ["monthly", "monthly"]}}, "installments.frequencies"),
    ({"first_payment_window_days": 0}, "first_payment_window_days"),
    ({"first_payment_window_days": "two weeks"}, "first_payment_window_days"),
    ({"deferral": {"max_days": -1}}, "deferral.max_days"),
    ({"settlement": {"allowed": "yes"}}, "settlement.allowed"),
    ({"settlement": {"floor": 0}}, "settlement.floor"),
    ({"settlement": {"floor": "1.2"}}, "settlement.floor"),
    ({"contact": {"max_outbound_per_7_days": 0}}, "contact.max_outbound_per_7_days"),
    ({"contact": {"verification_attempts": 0}}, "contact.verification_attempts"),
    ({"contact": {"quiet_hours": {"start": "8am"}}}, "contact.quiet_hours.start"),
    ({"contact": {"quiet_hours": {"end": "25:00"}}}, "contact.quiet_hours.end"),
    ({"contact": {"quiet_hours": {"end": 1260}}}, "contact.quiet_hours.end"),
    (
        {"contact": {"quiet_hours": {"start": "12:00", "end": "10:00"}}},
        "contact.quiet_hours.start must be before",
    ),
    ({"contact": {"quiet_hours": "08:00-21:00"}}, "contact.quiet_hours must be a section"),
]


@pytest.mark.parametrize(("data", "field"), INVALID)
def test_invalid_setting_is_a_policy_error_naming_the_field(
    data: dict[str, Any], field: str
) -> None:
    with pytest.raises(PolicyError) as raised:
        policy_from_dict(data, "policies/test.yml")
    message = str(raised.value)
    assert message.startswith("policies/test.yml: ")
    assert field in message


def test_unquoted_time_gets_a_hint_to_quote_it() -> None:
    # YAML 1.1 reads `end: 21:00` as the number 1260.
    data = yaml.safe_load("contact:\n  quiet_hours: {start: 08:00, end: 21:00}\n")
    with pytest.raises(PolicyError, match=r"contact\.quiet_hours\.end .*add the quotes"):
        policy_from_dict(data, "p.yml")


@pytest.mark.parametrize(
    ("quiet_hours", "field"),
    [
        ({"start": "07:00"}, "contact.quiet_hours.start"),
        ({"end": "21:30"}, "contact.quiet_hours.end"),
        ({"start": "06:00", "end": "23:00"}, "contact.quiet_hours.start"),
    ],
)
def test_quiet_hours_may_not_be_widened(quiet_hours: dict[str, str], field: str) -> None:
    with pytest.raises(PolicyError, match=rf"{field} may narrow 08:00-21:00"):
        policy_from_dict({"contact": {"quiet_hours": quiet_hours}}, "p.yml")


@pytest.mark.parametrize(
    ("data", "unknown", "suggestion"),
    [
        ({"installment": {}}, "'installment'", "did you mean installments?"),
        ({"installments": {"max_cout": 3}}, "'installments.max_cout'", "installments.max_count"),
        ({"contact": {"quiet_hours": {"begin": "09:00"}}}, "'contact.quiet_hours.begin'", ""),
        ({"currency": "USD"}, "'currency'", "known keys: name, installments"),
    ],
)
def test_unknown_keys_are_rejected(data: dict[str, Any], unknown: str, suggestion: str) -> None:
    with pytest.raises(PolicyError) as raised:
        policy_from_dict(data, "p.yml")
    assert f"unknown setting {unknown}" in str(raised.value)
    assert suggestion in str(raised.value)


def test_policy_from_dict_rejects_a_non_mapping() -> None:
    with pytest.raises(PolicyError, match="must be a mapping"):
        policy_from_dict(["monthly"], "p.yml")  # type: ignore[arg-type]


def test_constructing_a_policy_directly_validates_it() -> None:
    base = policy_from_dict({})
    with pytest.raises(PolicyError, match="max_share_of_disposable must be a number between"):
        Policy(**{**base.__dict__, "max_share_of_disposable": Decimal("2")})
    with pytest.raises(PolicyError, match="quiet_hours.end may narrow"):
        QuietHours(datetime.time(8, 0), datetime.time(22, 0))


def test_load_policy_from_file_names_it_after_the_file(tmp_path: Path) -> None:
    path = tmp_path / "clinic.yml"
    path.write_text('installments:\n  min_amount: "10.00"\n  frequencies: [monthly]\n')
    policy = load_policy(path)
    assert policy.name == "clinic"
    assert policy.min_installment == Decimal("10.00")
    assert policy.frequencies == (Frequency.MONTHLY,)


def test_load_policy_error_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.yml"
    path.write_text("settlement:\n  floor: 1.5\n")
    with pytest.raises(PolicyError, match=rf"^{path}: settlement.floor must be a number"):
        load_policy(path)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "not found"),
        ("installments: [unclosed\n", "not valid YAML"),
        ("- monthly\n- weekly\n", "must be a mapping"),
        ("", "empty"),
    ],
)
def test_load_policy_rejects_unusable_files(
    tmp_path: Path, content: str | None, problem: str
) -> None:
    path = tmp_path / "policy.yml"
    if content is not None:
        path.write_text(content)
    with pytest.raises(PolicyError, match=problem) as raised:
        load_policy(path)
    assert str(raised.value).startswith(str(path))
