"""Turn a stored conversation into a Rasa test story (for trainers)."""

from __future__ import annotations

import asyncio

from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.core.training_data.story_writer.yaml_story_writer import YAMLStoryWriter

from bot.settings import PROJECT_ROOT

# Slots the rules read; others are bookkeeping the actions re-create when the story runs.
_STORY_SLOTS = {"next_step", "requested_slot", "dob_answer", "monthly_income", "monthly_expenses"}


class TranscriptNotFoundError(LookupError):
    """No conversation stored for that sender id."""


def export_story(sender_id: str, story_name: str | None = None) -> str:
    """The latest session with `sender_id` as test-story YAML (texts as the debtor wrote
    them, already card-masked; the YAML writer quotes whatever they typed)."""
    from bot.storage.tracker_store import ParleyTrackerStore

    domain = Domain.load(str(PROJECT_ROOT / "domain.yml"))
    store = ParleyTrackerStore(domain=domain)
    tracker = asyncio.run(store.retrieve(sender_id))
    if tracker is None or not any(isinstance(e, UserUttered) for e in tracker.events):
        raise TranscriptNotFoundError(f"no conversation stored for {sender_id!r}")
    kept = []
    for event in tracker.events:
        if isinstance(event, SlotSet) and event.key not in _STORY_SLOTS:
            continue
        if isinstance(event, ActionExecuted) and event.action_name in (
            "action_session_start",
            "action_extract_slots",
        ):
            continue
        if isinstance(event, UserUttered):
            # keep the text and the intent; entities are graded only when annotated
            event = UserUttered(event.text, event.intent, [], event.parse_data)
        kept.append(event)
    trimmed = DialogueStateTracker.from_events(sender_id, kept, domain.slots)
    story = trimmed.as_story()
    story.story_steps[0].block_name = story_name or f"transcript {sender_id}"
    return YAMLStoryWriter().dumps(story.story_steps, is_test_story=True)
