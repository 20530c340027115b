"""`parley accounts unlock`: an operator lifts an identity lock, and it is audited."""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa

from bot.storage import AccountRepository, Database
from bot.storage.identity import IdentityRepository
from bot.storage.models import AuditEntry
from tests.cli.test_cli import HEADER, ROWS, parley


def lock(database_url: str, ref: str) -> None:
    database = Database(database_url)
    try:
        with database.session() as session:
            account = AccountRepository(session).require(ref)
            for _ in range(3):
                IdentityRepository(session).record(account, matched=False, limit=3)
    finally:
        database.dispose()


def test_unlock_lifts_the_lock_and_writes_the_audit_log(tmp_path: Path, database_url: str) -> None:
    csv = tmp_path / "accounts.csv"
    csv.write_text(HEADER + ROWS)
    assert parley("accounts", "import", str(csv), database_url=database_url).returncode == 0
    lock(database_url, "A-1")
    shown = parley("accounts", "show", "A-1", database_url=database_url)
    assert "identity locked since" in shown.stdout

    done = parley(
        "accounts", "unlock", "A-1", "--by", "dana", "--note", "called back, ID checked",
        database_url=database_url,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Unlocked A-1" in done.stdout
    data = json.loads(parley("accounts", "show", "A-1", "--json", database_url=database_url).stdout)
    assert data["identity_locked_at"] is None
    database = Database(database_url)
    try:
        with database.session() as session:
            entries = session.execute(
                sa.select(AuditEntry.actor, AuditEntry.detail).where(
                    AuditEntry.action == "identity_unlocked"
                )
            ).all()
            account = AccountRepository(session).require("A-1")
            status = IdentityRepository(session).status(account, limit=3)
    finally:
        database.dispose()
    assert entries == [("cli:dana", {"note": "called back, ID checked"})]
    assert status.failures == 0 and not status.locked

    again = parley("accounts", "unlock", "A-1", database_url=database_url)
    assert again.returncode == 1
    assert again.stderr.strip() == "parley: error: account A-1 is not locked; nothing to unlock"
    missing = parley("accounts", "unlock", "NOPE", database_url=database_url)
    assert missing.returncode == 1 and "no account with reference 'NOPE'" in missing.stderr
