"""Rasa tracker store on Parley's database, with card numbers masked on the way in."""

from __future__ import annotations

import json
import logging
from typing import Any

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from sqlalchemy.orm import sessionmaker

from bot.privacy import mask_card_numbers
from bot.settings import get_settings
from bot.storage.db import create_db_engine

logger = logging.getLogger(__name__)


def redact_strings(value: Any) -> Any:
    """Mask card numbers in every string inside a JSON-like structure."""
    if isinstance(value, str):
        return mask_card_numbers(value)[0]
    if isinstance(value, dict):
        return {key: redact_strings(item) for key, item in value.items()}
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
        super().__init__(domain=domain, host=url, event_broker=event_broker, **kwargs)
        if url.startswith("sqlite"):
            # Rasa's engine has no busy timeout; the action server and CLI write to the
            # same file, so swap in ours (WAL + busy timeout), keeping the 1.x API Rasa uses.
            self.engine.dispose()  # type: ignore[has-type]
            self.engine = create_db_engine(url, future=False)  # type: ignore[has-type]
            self.sessionmaker = sessionmaker(bind=self.engine)

    async def save(self, tracker: DialogueStateTracker) -> None:
        await self.stream_events(tracker)
        with self.session_scope() as session:
            for event in self._additional_events(session, tracker):
                data = redact_strings(event.as_dict())
                intent = data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY)
                session.add(
                    self.SQLEvent(
                        sender_id=tracker.sender_id,
                        type_name=event.type_name,
                        timestamp=data.get("timestamp"),
                        intent_name=intent,
                        action_name=data.get("name"),
                        data=json.dumps(data),
                    )
                )
            session.commit()
