"""The egress guard: what a turn may say, judged by the state at each utterance."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from rasa.shared.core.events import BotUttered, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.accounts.csv_import import AccountRow
from bot.channels.egress import BLOCKED_REPLACEMENT, discloses, guard_replies
from bot.storage import AccountRepository, get_database
from bot.storage.tracker_store import ParleyTrackerStore

SENDER = "+12025550143"
DISCLOSURE = (
    "Thank you, Maria. This is an attempt to collect a debt owed to Northwind Clinic, "
    "and any information obtained will be used for that purpose. The balance is $1,200.00."
)


@pytest.fixture
def store(env_database: str) -> Iterator[ParleyTrackerStore]:
    with get_database().session() as session:
        AccountRepository(session).upsert_many(
            [
                AccountRow(
                    2, "ACC-1", "Maria Lopez", SENDER, Decimal("1200.00"), "USD",
                    "America/New_York", date(1985, 3, 14), creditor="Northwind Clinic",
                )
            ]
        )  # fmt: skip
    yield ParleyTrackerStore()


def said(text: str, response: str) -> BotUttered:
    return BotUttered(text, metadata={"utter_action": response})


def save_turn(store: ParleyTrackerStore, events: list[Any], message_id: str = "m1") -> None:
    tracker = DialogueStateTracker.from_events(
        SENDER, [SessionStarted(), UserUttered("march 14 1985", message_id=message_id), *events]
    )
    asyncio.run(store.save(tracker))


def replies(*texts: str) -> list[dict[str, Any]]:
    return [{"recipient_id": SENDER, "text": t} for t in texts]


def events_of_kind(kind: str) -> list[Any]:
    with get_database().session() as session:
        repo = AccountRepository(session)
        return [e for e in repo.events(repo.require("ACC-1")) if e.kind == kind]


def test_a_disclosure_before_verification_is_replaced_and_recorded(
    store: ParleyTrackerStore,
) -> None:
    save_turn(store, [said(DISCLOSURE, "utter_disclosure_written_by_a_trainer")])
    out = guard_replies(SENDER, "m1", replies(DISCLOSURE))
    assert [r["text"] for r in out] == [BLOCKED_REPLACEMENT]
    [event] = events_of_kind("reply_blocked")
    assert "disclosure before verification" in event.detail["blocked"][0]


def test_the_same_words_after_the_identity_check_in_the_same_turn_pass(
    store: ParleyTrackerStore,
) -> None:
    save_turn(store, [SlotSet("verified", True), said(DISCLOSURE, "utter_disclosure")])
    assert guard_replies(SENDER, "m1", replies(DISCLOSURE)) == replies(DISCLOSURE)
    assert events_of_kind("reply_blocked") == []


# Rasa's REST message ids are uuid4 hex; this one (seen in a test run) holds a
# Luhn-valid 16-digit run, and Twilio's MessageSids can too.
ID_WITH_A_CARD_LIKE_RUN = "a4c4111111111111111b49c805d78153"


@pytest.mark.parametrize("message_id", [ID_WITH_A_CARD_LIKE_RUN, "SM" + ID_WITH_A_CARD_LIKE_RUN])
def test_a_message_id_that_looks_like_a_card_number_still_finds_its_turn(
    store: ParleyTrackerStore, message_id: str
) -> None:
    save_turn(store, [SlotSet("verified", True), said(DISCLOSURE, "utter_disclosure")], message_id)
    assert guard_replies(SENDER, message_id, replies(DISCLOSURE)) == replies(DISCLOSURE)
    assert events_of_kind("reply_blocked") == []


def test_a_card_number_sent_as_a_message_id_is_still_masked(store: ParleyTrackerStore) -> None:
    save_turn(store, [], message_id="4111111111111111")
    with get_database().session() as session:
        stored = session.execute(
            sa.text("SELECT data FROM events WHERE type_name = 'user'")
        ).scalar_one()
    assert "4111111111111111" not in stored
    assert "[card number removed]" in stored


def test_state_is_judged_per_message(store: ParleyTrackerStore) -> None:
    early = "Your balance is 1200.00, by the way."
    save_turn(
        store,
        [
            said(early, "utter_early"),
            SlotSet("verified", True),
            said(DISCLOSURE, "utter_disclosure"),
        ],
    )
    out = guard_replies(SENDER, "m1", replies(early, DISCLOSURE))
    assert [r["text"] for r in out] == [BLOCKED_REPLACEMENT, DISCLOSURE]


def test_after_an_opt_out_only_the_confirmation_leaves(store: ParleyTrackerStore) -> None:
    with get_database().session() as session:
        repo = AccountRepository(session)
        repo.set_flag(repo.require("ACC-1"), "opted_out")
    confirm = "You won't get any more messages from us. Reply START to opt back in."
    save_turn(store, [said(confirm, "utter_opted_out"), said("Before you go...", "utter_winback")])
    out = guard_replies(SENDER, "m1", replies(confirm, "Before you go..."))
    assert [r["text"] for r in out] == [confirm]


def test_a_turn_not_in_the_store_is_judged_unverified(store: ParleyTrackerStore) -> None:
    out = guard_replies(SENDER, "unknown", replies("Hi! Who is this?", DISCLOSURE))
    assert [r["text"] for r in out] == ["Hi! Who is this?", BLOCKED_REPLACEMENT]


def test_harmless_replies_leave_without_reading_the_turn(
    store: ParleyTrackerStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Nothing to judge (no debt detail, no opt-out): the turn's events are not read.
    save_turn(store, [said("Hi! Who is this?", "utter_greet")])

    def unread(*_: Any) -> None:
        raise AssertionError("the turn was read")

    monkeypatch.setattr("bot.channels.egress.turn_utterances", unread)
    assert guard_replies(SENDER, "m1", replies("Hi! Who is this?")) == replies("Hi! Who is this?")


def test_a_long_history_is_judged_by_the_turn_and_the_last_state_before_it(
    store: ParleyTrackerStore,
) -> None:
    # Verified many turns ago, then a new session: unverified again, whatever came before.
    events: list[Any] = [SlotSet("verified", True)]
    for n in range(30):
        events += [UserUttered(f"turn {n}", message_id=f"old{n}"), said(f"reply {n}", "utter_x")]
    events += [SessionStarted(), UserUttered("hi again", message_id="m2")]
    events += [said(DISCLOSURE, "utter_disclosure")]
    save_turn(store, events)
    assert [r["text"] for r in guard_replies(SENDER, "m2", replies(DISCLOSURE))] == [
        BLOCKED_REPLACEMENT
    ]
    # ... and a disclosure in the old verified stretch was fine when it was said.
    assert guard_replies(SENDER, "old29", replies("reply 29")) == replies("reply 29")


@pytest.mark.parametrize(
    ("text", "blocked"),
    [
        ("The balance is $1,200.00.", True),
        ("You owe Northwind Clinic.", True),
        ("northwind clinic says hi", True),
        ("you owe 1200", True),
        ("a plan of 150.00 a month", True),
        ("Could you send me your date of birth? For example 03/14/1985.", False),
        ("call us on +1 202 555 0111", False),
        ("Reply with a number from 1 to 3.", False),
        ("It's 12:00 here", False),
    ],
)
def test_what_counts_as_a_debt_detail(text: str, blocked: bool) -> None:
    terms = ["$1,200.00", "1200.00", "1,200", "1200", "Northwind Clinic"]
    assert discloses(text, terms) is blocked
