"""The trainers' simulator: chat with the bot as a chosen account, never as the debtor.

Each session gets a twin of the account under its own reference and sender id
(`sim:<account_ref>:<n>`): the bot verifies, negotiates and stores agreements on the twin,
so nothing lands on the real account, and the twin is closed, so the outbox never sends it
anything. Simulated conversations are marked as such and left out of the dashboard.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.console.rasa_client import RasaClient
from bot.console.tracker import SIMULATED_PREFIX
from bot.storage import AccountRepository, record_audit
from bot.storage.models import Account

_COPIED = ("name", "balance", "currency", "timezone", "dob", "creditor", "language", "due_date")
SIMULATED_PHONE = "simulated"


class SimulationError(ValueError):
    """A simulation cannot start; the message says why."""


def start_simulation(session: Session, account_ref: str, username: str) -> Account:
    """A closed twin of the account for one simulated conversation; returns the twin."""
    if account_ref.startswith(SIMULATED_PREFIX):
        raise SimulationError("choose a real account, not a simulated one")
    account = AccountRepository(session).get_by_ref(account_ref)
    if account is None:
        raise SimulationError(f"no account with reference {account_ref!r}")
    prefix = f"{SIMULATED_PREFIX}{account_ref}:"
    taken = session.execute(
        sa.select(sa.func.count(Account.id)).where(Account.account_ref.like(prefix + "%"))
    ).scalar_one()
    sender_id = f"{prefix}{int(taken) + 1}"
    if len(sender_id) > 64:
        raise SimulationError("the account reference is too long to simulate")
    twin = Account(account_ref=sender_id, phone=SIMULATED_PHONE, channel="sms", status="closed")
    for name in _COPIED:
        setattr(twin, name, getattr(account, name))
    session.add(twin)
    session.flush()
    record_audit(
        session,
        f"console:{username}",
        "console_simulation_started",
        account_id=account.id,
        detail={"sender_id": sender_id},
    )
    return twin


def seed_conversation(rasa: RasaClient, twin: Account) -> None:
    """Start the simulated conversation on the twin: the bot knows the account (as it would
    from the debtor's number) and has verified nothing."""
    first = twin.name.split()[0] if twin.name.split() else None
    # Two calls: the first creates the conversation (Rasa runs the session start, which finds
    # no account for a sender id without a phone); the second tells the bot which account it
    # is. In one call Rasa would stamp our events before its session start and the tracker
    # store, which reads events in time order, would replay the start over them.
    rasa.append_events(twin.account_ref, [{"event": "slot", "name": "verified", "value": False}])
    rasa.append_events(
        twin.account_ref,
        [
            {"event": "slot", "name": "account_known", "value": True},
            {"event": "slot", "name": "account_ref", "value": twin.account_ref},
            {"event": "slot", "name": "first_name", "value": first},
            # The state rules branch on (domain.yml): an account, not yet verified.
            {"event": "slot", "name": "identity", "value": "unverified"},
        ],
    )
