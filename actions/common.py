"""What every action needs: the account behind a conversation, the policy, the local date."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.negotiation import Finances, Option, Policy, format_money, load_policy
from bot.nlu.normalize import local_today
from bot.privacy import sender_phone
from bot.settings import Settings, get_settings
from bot.storage import AccountRepository, AgreementRepository, get_database
from bot.storage.models import Account
from bot.storage.repositories import PAUSING_FLAGS

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AccountView:
    """A read-only snapshot of the account an action is talking about."""

    account_ref: str
    first_name: str
    balance: Decimal
    currency: str
    timezone: str
    dob: date
    creditor: str
    due_date: date | None
    flags: tuple[str, ...]
    # Too many wrong dates of birth: nothing but "locked" until an operator unlocks.
    identity_locked: bool = False
    # The live agreement, if any: new terms replace it (and the debtor is told so).
    active_agreement_ref: str | None = None

    @property
    def paused(self) -> bool:
        return bool(set(self.flags) & (PAUSING_FLAGS | {"opted_out"}))

    @property
    def balance_text(self) -> str:
        return format_money(self.balance, self.currency)


def first_name(full_name: str) -> str:
    parts = full_name.strip().split()
    return parts[0] if parts else "there"


def _view(account: Account, repo: AccountRepository, settings: Settings) -> AccountView:
    active = AgreementRepository(repo.session).active_for(account)
    return AccountView(
        account_ref=account.account_ref,
        first_name=first_name(account.name),
        balance=account.balance,
        currency=account.currency,
        timezone=account.timezone,
        dob=account.dob,
        creditor=account.creditor or settings.creditor_name,
        due_date=account.due_date,
        flags=tuple(repo.active_flags(account)),
        identity_locked=account.identity_locked_at is not None,
        active_agreement_ref=active.reference if active is not None else None,
    )


def identity_of(account: AccountView | None, *, verified: bool = False) -> str:
    """The `identity` slot rules and stories branch on (domain.yml)."""
    if account is None:
        return "unknown"
    if account.identity_locked:
        return "locked"
    return "verified" if verified else "unverified"


def offers_slots(options: list[Option] | None) -> list[EventType]:
    """The options on the table, and the featurized flag rules and stories read."""
    kept = [o.to_dict() for o in options] if options else None
    return [SlotSet("offers", kept), SlotSet("options_on_table", bool(kept))]


def find_account(sender_id: str, account_ref: str | None = None) -> AccountView | None:
    """The account for a conversation: by reference if known, else by the sender's number."""
    settings = get_settings()
    with get_database().session() as session:
        repo = AccountRepository(session)
        account = repo.get_by_ref(account_ref) if account_ref else None
        if account is None:
            phone = sender_phone(sender_id)
            account = repo.find_by_phone(phone) if phone else None
        return _view(account, repo, settings) if account is not None else None


def tracker_account(tracker: Tracker) -> AccountView | None:
    """The account behind this tracker's conversation."""
    return find_account(tracker.sender_id, tracker.get_slot("account_ref"))


@lru_cache(maxsize=4)
def _policy(path: str, mtime: float) -> Policy:
    return load_policy(Path(path))


def current_policy() -> Policy:
    """The creditor policy (reloaded when the file changes)."""
    path = get_settings().policy_file
    return _policy(str(path), path.stat().st_mtime)


def today_for(account: AccountView | None, now: datetime | None = None) -> date:
    """The debtor's local date: plans and relative dates follow their calendar."""
    if account is None:
        return (now or datetime.now(timezone.utc)).date()
    return local_today(account.timezone, now)


def message_kwargs(account: AccountView | None, *, disclose: bool = False) -> dict[str, Any]:
    """Values the domain's responses may use ({creditor}, {support_phone}, ...).

    The creditor and balance are only handed over once identity is verified
    (`disclose`), so no response can leak them to whoever holds the phone.
    """
    settings = get_settings()
    values: dict[str, Any] = {
        "support_phone": settings.support_phone,
        "support_url": settings.support_url,
        "creditor": "us",
        "first_name": account.first_name if account else "there",
        "balance": "",
    }
    if account is not None and disclose:
        values.update(creditor=account.creditor, balance=account.balance_text)
    return values


def utter(
    dispatcher: CollectingDispatcher,
    response: str,
    account: AccountView | None,
    *,
    disclose: bool = False,
    **extra: Any,
) -> None:
    values = {**message_kwargs(account, disclose=disclose), **extra}
    dispatcher.utter_message(response=response, **values)


def known_finances(tracker: Tracker) -> Finances | None:
    income = tracker.get_slot("monthly_income")
    expenses = tracker.get_slot("monthly_expenses")
    if income is None or expenses is None:
        return None
    try:
        return Finances(Decimal(str(income)), Decimal(str(expenses)))
    except (ArithmeticError, ValueError):
        return None


def latest_intent(tracker: Tracker) -> str | None:
    return (tracker.latest_message.get("intent") or {}).get("name")


def latest_text(tracker: Tracker) -> str:
    return str(tracker.latest_message.get("text") or "")


def entity_values(tracker: Tracker, name: str) -> list[Any]:
    return [
        e.get("value")
        for e in tracker.latest_message.get("entities") or []
        if e.get("entity") == name and e.get("value") is not None
    ]


def first_entity(tracker: Tracker, name: str) -> Any:
    values = entity_values(tracker, name)
    return values[0] if values else None


def options_from_slot(value: Any) -> list[Option]:
    options = []
    for item in value or []:
        try:
            options.append(Option.from_dict(item))
        except (KeyError, ValueError, TypeError):
            logger.warning("ignoring an unreadable option kept in the tracker")
    return options


def option_from_slot(value: Any) -> Option | None:
    if not value:
        return None
    try:
        return Option.from_dict(value)
    except (KeyError, ValueError, TypeError):
        return None
