"""Repositories against a real SQLite file and the real PostgreSQL server."""

from __future__ import annotations

import threading
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
import sqlalchemy as sa

from bot.accounts.csv_import import AccountRow
from bot.storage import AccountRepository, AgreementRepository, Database, InboundMessageRepository
from bot.storage.models import Account, AuditEntry
from bot.storage.repositories import ScheduledPayment


def make_row(ref: str = "A-1", **overrides: object) -> AccountRow:
    values: dict[str, object] = dict(
        line=2,
        account_ref=ref,
        name="Maria López",
        phone="+12025550143",
        balance=Decimal("1200.00"),
        currency="USD",
        timezone="America/New_York",
        dob=date(1985, 3, 4),
    )
    values.update(overrides)
    return AccountRow(**values)  # type: ignore[arg-type]


def test_import_is_idempotent_and_updates_changes(db: Database) -> None:
    with db.session() as session:
        first = AccountRepository(session).upsert_many([make_row("A-1"), make_row("A-2")])
    with db.session() as session:
        again = AccountRepository(session).upsert_many([make_row("A-1"), make_row("A-2")])
    with db.session() as session:
        changed = AccountRepository(session).upsert_many(
            [make_row("A-1", balance=Decimal("900.50")), make_row("A-2")]
        )
    assert (first.created, first.updated, first.unchanged) == (2, 0, 0)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert (changed.created, changed.updated, changed.unchanged) == (0, 1, 1)
    with db.session() as session:
        count = session.execute(sa.select(sa.func.count(Account.id))).scalar_one()
        account = AccountRepository(session).require("A-1")
        assert count == 2
        assert account.balance == Decimal("900.50")
        assert isinstance(account.balance, Decimal)


def test_money_survives_round_trip_exactly(db: Database) -> None:
    awkward = Decimal("12345678.91")
    with db.session() as session:
        AccountRepository(session).upsert_many([make_row("M-1", balance=awkward)])
    with db.session() as session:
        assert AccountRepository(session).require("M-1").balance == awkward


def test_float_money_is_refused(db: Database) -> None:
    with pytest.raises(sa.exc.StatementError, match="Decimal"), db.session() as session:
        AccountRepository(session).upsert_many([make_row("F-1", balance=0.1)])


def test_timestamps_come_back_timezone_aware_utc(db: Database) -> None:
    moment = datetime(2026, 11, 28, 22, 15, tzinfo=timezone.utc)
    with db.session() as session:
        repo = AccountRepository(session)
        repo.upsert_many([make_row("T-1")])
        repo.touch_inbound(repo.require("T-1"), moment)
    with db.session() as session:
        stored = AccountRepository(session).require("T-1").last_inbound_at
    assert stored == moment and stored.tzinfo is not None


def test_flags_drive_status_and_are_not_duplicated(db: Database) -> None:
    with db.session() as session:
        repo = AccountRepository(session)
        repo.upsert_many([make_row("S-1")])
        account = repo.require("S-1")
        assert repo.set_flag(account, "disputed", debtor_words="I never had this loan")
        assert not repo.set_flag(account, "disputed")
        assert account.status == "paused"
        assert not repo.collection_allowed(account)
        repo.set_flag(account, "opted_out", source="twilio")
        assert account.status == "opted_out"
    with db.session() as session:
        repo = AccountRepository(session)
        account = repo.require("S-1")
        assert repo.active_flags(account) == ["disputed", "opted_out"]
        repo.clear_flag(account, "opted_out", source="debtor")
        repo.clear_flag(account, "disputed", source="operator:ana")
        assert account.status == "active"
        assert repo.collection_allowed(account)
        actions = session.execute(sa.select(AuditEntry.action)).scalars().all()
        assert "flag_set:disputed" in actions and "flag_cleared:disputed" in actions


def test_unknown_flag_is_rejected(db: Database) -> None:
    with db.session() as session:
        repo = AccountRepository(session)
        repo.upsert_many([make_row("U-1")])
        with pytest.raises(ValueError, match="unknown flag"):
            repo.set_flag(repo.require("U-1"), "angry")


def _schedule() -> list[ScheduledPayment]:
    return [
        ScheduledPayment(date(2027, 1, 5), Decimal("400.00")),
        ScheduledPayment(date(2027, 2, 5), Decimal("400.00")),
        ScheduledPayment(date(2027, 3, 5), Decimal("400.00")),
    ]


def test_agreement_is_stored_once_per_key(db: Database) -> None:
    with db.session() as session:
        AccountRepository(session).upsert_many([make_row("G-1")])
    references = []
    for _ in range(2):
        with db.session() as session:
            account = AccountRepository(session).require("G-1")
            agreement, created = AgreementRepository(session).create(
                account,
                kind="installment",
                frequency="monthly",
                total=Decimal("1200.00"),
                currency="USD",
                schedule=_schedule(),
                idempotency_key="conv-1:offer-abc",
            )
            references.append((agreement.reference, created))
    assert references[0][1] is True and references[1][1] is False
    assert references[0][0] == references[1][0]
    with db.session() as session:
        rows = AgreementRepository(session).list()
        assert len(rows) == 1
        data = AgreementRepository.to_dict(rows[0])
        assert data["schedule"][0] == {
            "due_date": "2027-01-05",
            "amount": "400.00",
            "status": "due",
        }
        assert data["account_ref"] == "G-1" and data["total"] == "1200.00"
        assert AccountRepository(session).require("G-1").status == "in_agreement"


def test_agreement_schedule_must_sum_to_total(db: Database) -> None:
    with db.session() as session:
        repo = AccountRepository(session)
        repo.upsert_many([make_row("G-2")])
        with pytest.raises(ValueError, match="sums to"):
            AgreementRepository(session).create(
                repo.require("G-2"),
                kind="installment",
                total=Decimal("1000.00"),
                currency="USD",
                schedule=_schedule(),
                idempotency_key="k",
            )


def test_concurrent_confirmations_create_one_agreement(db: Database) -> None:
    """Two workers confirming the same offer at once: one agreement, same reference."""
    with db.session() as session:
        AccountRepository(session).upsert_many([make_row("C-1")])
    results: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def confirm() -> None:
        try:
            barrier.wait()
            with db.session() as session:
                account = AccountRepository(session).require("C-1")
                agreement, _ = AgreementRepository(session).create(
                    account,
                    kind="installment",
                    total=Decimal("1200.00"),
                    currency="USD",
                    schedule=_schedule(),
                    idempotency_key="race-key",
                )
                results.append(agreement.reference)
        except BaseException as exc:  # noqa: BLE001 - surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=confirm) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with db.session() as session:
        stored = AgreementRepository(session).list()
    assert len(stored) == 1
    # SQLite serialises writers, so both succeed; PostgreSQL's loser re-reads the winner.
    assert not errors, errors
    assert set(results) == {stored[0].reference}


def test_inbound_message_claimed_once(db: Database) -> None:
    with db.session() as session:
        first = InboundMessageRepository(session).claim(
            "SM123", channel="sms", sender="+12025550143"
        )
    with db.session() as session:
        second = InboundMessageRepository(session).claim(
            "SM123", channel="sms", sender="+12025550143"
        )
        assert second.first is False and second.status == "processing"
        InboundMessageRepository(session).complete("SM123", "<Response/>")
    with db.session() as session:
        third = InboundMessageRepository(session).claim(
            "SM123", channel="sms", sender="+12025550143"
        )
    assert first.first is True
    assert third.first is False and third.reply == "<Response/>" and third.status == "done"


def test_debtor_text_is_stored_verbatim_not_executed(db: Database) -> None:
    hostile = "Robert'); DROP TABLE accounts;-- <script>alert(1)</script> 😡 \u202e"
    with db.session() as session:
        repo = AccountRepository(session)
        repo.upsert_many([make_row("X-1", name=hostile)])
        account = repo.require("X-1")
        repo.record_event(account, "dispute", debtor_words=hostile)
    with db.session() as session:
        repo = AccountRepository(session)
        account = repo.require("X-1")
        assert account.name == hostile
        assert repo.events(account)[0].debtor_words == hostile


def _statements(db: Database) -> list[str]:
    seen: list[str] = []
    sa.event.listen(db.engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
    return seen


def test_an_account_by_phone_without_its_related_rows_reads_them_when_used(
    db: Database,
) -> None:
    with db.session() as session:
        repo = AccountRepository(session)
        repo.upsert_many([make_row("P-1")])
        repo.set_flag(repo.require("P-1"), "disputed")
        AgreementRepository(session).create(
            repo.require("P-1"),
            kind="installment",
            frequency="monthly",
            total=Decimal("1200.00"),
            currency="USD",
            schedule=_schedule(),
            idempotency_key="conv-p:offer-1",
        )
    seen = _statements(db)
    with db.session() as session:
        eager = AccountRepository(session).find_by_phone("+12025550143")
        assert eager is not None
        eager_count = len(seen)
    seen.clear()
    with db.session() as session:
        lazy = AccountRepository(session).find_by_phone("+12025550143", load_related=False)
        assert lazy is not None and lazy.account_ref == "P-1"
        # the gate and the guard read the account's own columns: one query
        assert len(seen) == 1 < eager_count
        # what is used is still there, read on use, the same as the eager load's
        assert [f.flag for f in lazy.flags] == ["disputed"]
        assert [a.total for a in lazy.agreements] == [Decimal("1200.00")]
        assert len(lazy.agreements[0].installments) == 3
