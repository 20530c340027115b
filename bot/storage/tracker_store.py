"""Rasa tracker store on Parley's database, with card numbers masked on the way in.

On PostgreSQL it waits for the database at start (PARLEY_DB_WAIT_S), uses Parley's pool
(PARLEY_DB_POOL_*, pool_pre_ping), and retries a read or write once when the connection
drops (a server restart). A second failure fails the turn loudly: Rasa's
FailSafeTrackerStore would otherwise answer a failed read with a brand-new conversation
and keep a failed write in memory only, so a debtor mid-negotiation would be greeted
afresh and the turn lost on the next restart (docs/scale-out.md).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

from rasa.core.tracker_store import FailSafeTrackerStore, SQLTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from sqlalchemy.orm import sessionmaker

from bot.privacy import mask_card_numbers, mask_phone
from bot.settings import get_settings
from bot.storage.db import (
    DatabaseUnavailableError,
    await_database,
    create_db_engine,
    is_disconnect,
    safe_url,
    wait_for_database,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")


class TrackerStoreUnavailableError(DatabaseUnavailableError):
    """The conversation could not be read or written, even after one retry."""


# Message ids made by the system, not written by the debtor: Rasa's uuid4 hex (REST) and
# Twilio's MessageSid. One in a few hundred holds a Luhn-valid run of 13+ digits; masked,
# the stored turn no longer matched its message and the egress guard, unable to find it,
# blocked a verified debtor's options (seen in the debtor scripts).
_ID_KEYS = frozenset({"message_id"})
_SYSTEM_ID = re.compile(r"^(?:[0-9a-f]{32}|[SM]M[0-9a-fA-F]{32})$")


def redact_strings(value: Any) -> Any:
    """Mask card numbers in every string inside a JSON-like structure (a message id the
    system made is left as it is; anything else under that key is masked too)."""
    if isinstance(value, str):
        return mask_card_numbers(value)[0]
    if isinstance(value, dict):
        return {
            key: item
            if key in _ID_KEYS and isinstance(item, str) and _SYSTEM_ID.match(item)
            else redact_strings(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [redact_strings(item) for item in value]
    return value


class ParleyTrackerStore(SQLTrackerStore):
    """SQLTrackerStore on `DATABASE_URL` (SQLite under var/ by default).

    Channels already mask card numbers before Rasa sees the text; this store masks
    again on save so no path (REST, API, a future channel) can persist one.
    """

    def __init__(
        self,
        domain: Any = None,
        host: str | None = None,
        event_broker: Any = None,
        **kwargs: Any,
    ) -> None:
        url = get_settings().database_url
        # Rasa's own wait retries every 5 s forever with a bare warning; ours says what it
        # waits for and gives up after PARLEY_DB_WAIT_S.
        wait_for_database(url, progress=logger.warning)
        super().__init__(domain=domain, host=url, event_broker=event_broker, **kwargs)
        self.url = url
        # Rasa's engine has no busy timeout on SQLite (the action server and CLI write to
        # the same file) and, on PostgreSQL, no pre-ping and a pool of 50 + 100 per
        # process: swap in ours, keeping the 1.x API Rasa uses.
        self.engine.dispose()  # type: ignore[has-type]
        self.engine = create_db_engine(url, future=False)  # type: ignore[has-type]
        self.sessionmaker = sessionmaker(bind=self.engine)

    async def _once_more_on_disconnect(
        self, what: str, sender_id: str, operation: Callable[[], Awaitable[T]]
    ) -> T:
        try:
            return await operation()
        except Exception as exc:
            if not is_disconnect(exc):
                raise
            logger.warning(
                "tracker store: %s for %s failed (%s); retrying once when the database "
                "answers (up to PARLEY_DB_RETRY_WAIT_S)",
                what,
                mask_phone(sender_id),
                _reason(exc),
            )
        await await_database(self.url)
        try:
            return await operation()
        except Exception as exc:
            if not is_disconnect(exc):
                raise
            logger.error(
                "tracker store: %s for %s failed twice (%s): the turn is NOT processed "
                "and nothing of it is stored; the channel answers it as a failed turn",
                what,
                mask_phone(sender_id),
                _reason(exc),
            )
            raise TrackerStoreUnavailableError(
                f"the conversation store {safe_url(self.url)} cannot be reached: {_reason(exc)}"
            ) from exc

    async def _retrieve(
        self, sender_id: str, fetch_events_from_all_sessions: bool
    ) -> DialogueStateTracker | None:
        parent = super()._retrieve
        return await self._once_more_on_disconnect(
            "reading the conversation",
            sender_id,
            lambda: parent(sender_id, fetch_events_from_all_sessions),
        )

    async def keys(self) -> Iterable[str]:
        parent = super().keys
        return await self._once_more_on_disconnect("listing conversations", "-", parent)

    async def save(self, tracker: DialogueStateTracker) -> None:
        await self.stream_events(tracker)

        async def write() -> None:
            # In a thread: the commit waits for the disk (fsync on SQLite), and meanwhile
            # the event loop serves the other conversations. The tracker is this turn's
            # (the conversation's lock is held), so nothing changes it in the meantime.
            await asyncio.to_thread(self._save_events, tracker)

        # A retry is safe: the events to add are counted against what is stored, and a
        # commit is all or nothing.
        await self._once_more_on_disconnect("saving the conversation", tracker.sender_id, write)

    def _save_events(self, tracker: DialogueStateTracker) -> None:
        with self.session_scope() as session:
            rows = []
            for event in self._additional_events(session, tracker):
                data = redact_strings(event.as_dict())
                intent = data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY)
                rows.append(
                    {
                        "sender_id": tracker.sender_id,
                        "type_name": event.type_name,
                        "timestamp": data.get("timestamp"),
                        "intent_name": intent,
                        "action_name": data.get("name"),
                        "data": json.dumps(data),
                    }
                )
            if rows:
                # One statement for the turn's events (executemany), in their order: the
                # ORM's unit of work sent one INSERT per event, ~20 a turn.
                session.execute(self.SQLEvent.__table__.insert(), rows)
            session.commit()


def _reason(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip()
    return text.splitlines()[0] if text else type(orig).__name__


def _propagate_unavailable(original: Callable[[Any, Exception], None]) -> Any:
    def handler(self: Any, error: Exception) -> None:
        if isinstance(error, TrackerStoreUnavailableError):
            raise error
        original(self, error)

    return handler


# Rasa wraps every tracker store in a FailSafeTrackerStore that swallows errors (a failed
# read becomes "no such conversation", a failed write goes to memory). For this store's
# "unreachable after a retry" the turn must fail instead: let that one error through.
if not getattr(FailSafeTrackerStore, "_parley_propagates", False):
    FailSafeTrackerStore.on_tracker_store_error = _propagate_unavailable(  # type: ignore[method-assign]
        FailSafeTrackerStore.on_tracker_store_error
    )
    FailSafeTrackerStore.on_tracker_store_retrieve_error = _propagate_unavailable(  # type: ignore[method-assign]
        FailSafeTrackerStore.on_tracker_store_retrieve_error
    )
    FailSafeTrackerStore._parley_propagates = True  # type: ignore[attr-defined]
