"""One live agreement per account: the repository replaces, the database refuses a second."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from alembic import command

from bot.storage import AccountRepository, AgreementRepository, Database
from bot.storage.db import alembic_config
from bot.storage.models import Agreement, AuditEntry
from bot.storage.repositories import ScheduledPayment
from tests.storage.test_repositories import make_row


def plan(total: str, count: int) -> list[ScheduledPayment]:
    amount = Decimal(total) / count
    return [ScheduledPayment(date(2027, m, 5), amount) for m in range(1, count + 1)]


def agree(db: Database, ref: str, key: str, total: str = "150.00", count: int = 1) -> str:
    with db.session() as session:
        account = AccountRepository(session).require(ref)
        agreement, _ = AgreementRepository(session).create(
            account,
            kind="full" if count == 1 else "installment",
            total=Decimal(total),
            currency="USD",
            schedule=plan(total, count),
            idempotency_key=key,
        )
        return str(agreement.reference)


def statuses(db: Database, ref: str) -> dict[str, tuple[str, str | None]]:
    with db.session() as session:
        account = AccountRepository(session).require(ref)
        return {
            a.reference: (a.status, a.superseded_by)
            for a in AgreementRepository(session).list(account)
        }


def test_new_terms_supersede_the_active_agreement(db: Database) -> None:
    with db.session() as session:
        AccountRepository(session).upsert_many([make_row("S-1", balance=Decimal("150.00"))])
    first = agree(db, "S-1", "conv:pay-in-full")
    second = agree(db, "S-1", "conv:two-payments", count=2)
    assert statuses(db, "S-1") == {first: ("superseded", second), second: ("active", None)}
    with db.session() as session:
        actions = session.execute(sa.select(AuditEntry.action, AuditEntry.detail)).all()
        account = AccountRepository(session).require("S-1")
        assert account.status == "in_agreement"
        active = AgreementRepository(session).active_for(account)
        assert active is not None and active.reference == second
    superseded = [d for a, d in actions if a == "agreement_superseded"]
    assert superseded == [{"reference": first, "superseded_by": second}]
    # What is scheduled is the debt once, not twice.
    with db.session() as session:
        live = (
            session.execute(sa.select(Agreement).where(Agreement.status == "active"))
            .scalars()
            .all()
        )
        assert sum(a.total for a in live) == Decimal("150.00")


def test_the_same_terms_again_return_the_same_agreement(db: Database) -> None:
    with db.session() as session:
        AccountRepository(session).upsert_many([make_row("S-2")])
    first = agree(db, "S-2", "conv:same")
    assert agree(db, "S-2", "conv:same") == first
    assert statuses(db, "S-2") == {first: ("active", None)}


def test_the_database_refuses_a_second_active_agreement(db: Database) -> None:
    """The guarantee does not depend on the repository: a raw insert is refused too."""
    with db.session() as session:
        AccountRepository(session).upsert_many([make_row("S-3")])
    agree_first = agree(db, "S-3", "conv:first")
    with pytest.raises(sa.exc.IntegrityError), db.engine.begin() as connection:
        account_id = connection.execute(
            sa.text("select account_id from agreements where reference = :r"),
            {"r": agree_first},
        ).scalar_one()
        connection.execute(
            sa.text(
                "insert into agreements (reference, account_id, kind, total, currency, "
                "settlement, requires_review, status, idempotency_key, created_at) values "
                "('PLY-RAW', :a, 'full', '150.00', 'USD', false, false, 'active', 'raw', "
                "CURRENT_TIMESTAMP)"
            ),
            {"a": account_id},
        )
    # Superseded and other statuses may be many.
    with db.engine.begin() as connection:
        connection.execute(
            sa.text(
                "insert into agreements (reference, account_id, kind, total, currency, "
                "settlement, requires_review, status, idempotency_key, created_at) "
                "select 'PLY-OLD', account_id, 'full', '150.00', 'USD', false, false, "
                "'superseded', 'old', CURRENT_TIMESTAMP from agreements where reference = :r"
            ),
            {"r": agree_first},
        )


def test_concurrent_different_terms_leave_exactly_one_active(db: Database) -> None:
    with db.session() as session:
        AccountRepository(session).upsert_many([make_row("S-4")])
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def confirm(key: str) -> None:
        try:
            barrier.wait()
            agree(db, "S-4", key, total="1200.00", count=3)
        except BaseException as exc:  # noqa: BLE001 - surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=confirm, args=(k,)) for k in ("conv:a", "conv:b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    found = statuses(db, "S-4")
    assert len(found) == 2
    assert sorted(s for s, _ in found.values()) == ["active", "superseded"]


def test_the_migration_repairs_accounts_that_already_have_two(database_url: str) -> None:
    """Databases from before revision 0002 may hold the bug: the newest stays active."""
    database = Database(database_url)
    try:
        with database.engine.begin() as connection:
            config = alembic_config(database_url)
            config.attributes["connection"] = connection
            command.upgrade(config, "0001")
        with database.engine.begin() as connection:
            connection.execute(
                sa.text(
                    "insert into accounts (account_ref, name, phone, balance, currency, "
                    "timezone, dob, channel, language, status, created_at, updated_at) values "
                    "('OLD-1', 'Old Timer', '+12025550100', '150.00', 'USD', 'UTC', "
                    "'1980-01-01', 'sms', 'en', 'in_agreement', CURRENT_TIMESTAMP, "
                    "CURRENT_TIMESTAMP)"
                )
            )
            for n in (1, 2):
                connection.execute(
                    sa.text(
                        "insert into agreements (reference, account_id, kind, total, currency, "
                        "settlement, requires_review, status, idempotency_key, created_at) "
                        f"select 'PLY-OLD{n}', id, 'full', '150.00', 'USD', false, false, "
                        f"'active', 'old-{n}', CURRENT_TIMESTAMP from accounts"
                    )
                )
        database.migrate()
        assert statuses(database, "OLD-1") == {
            "PLY-OLD1": ("superseded", None),
            "PLY-OLD2": ("active", None),
        }
    finally:
        database.dispose()
