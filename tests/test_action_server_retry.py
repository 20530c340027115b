"""The action server runs an action once more when it lost the database, and only once."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from rasa_sdk import Action
from rasa_sdk.executor import ActionExecutor

from bot.runtime.action_server import retry_actions_once_on_database_loss
from bot.settings import get_settings
from bot.storage import DatabaseUnavailableError

CALLS: list[str] = []


class FlakyAction(Action):
    """Loses the database on the calls listed in `failing`."""

    failing: set[int] = set()

    def name(self) -> str:
        return "action_flaky_for_test"

    def run(self, dispatcher: Any, tracker: Any, domain: Any) -> list[dict[str, Any]]:
        CALLS.append("run")
        if len(CALLS) in self.failing:
            raise DatabaseUnavailableError("database error on postgresql://db: server closed")
        dispatcher.utter_message(text="stored")
        return []


def _call() -> dict[str, Any]:
    return {
        "next_action": "action_flaky_for_test",
        "tracker": {"sender_id": "+12025550601", "slots": {}, "events": [],
                    "latest_message": {}, "paused": False, "active_loop": {}},
        "domain": {},
    }  # fmt: skip


@pytest.fixture
def executor(monkeypatch: pytest.MonkeyPatch) -> Iterator[ActionExecutor]:
    monkeypatch.setattr(ActionExecutor, "run", ActionExecutor.run)  # restored afterwards
    monkeypatch.setenv("DATABASE_URL", "sqlite:///:memory:")  # SQLite: nothing to wait for
    get_settings.cache_clear()
    retry_actions_once_on_database_loss()
    CALLS.clear()
    executor = ActionExecutor()
    executor.register_action(FlakyAction())
    yield executor
    get_settings.cache_clear()


def test_an_action_that_lost_the_database_runs_once_more(executor: ActionExecutor) -> None:
    FlakyAction.failing = {1}
    response = asyncio.run(executor.run(_call()))
    assert CALLS == ["run", "run"]
    assert response is not None and response["responses"][0]["text"] == "stored"


def test_a_second_loss_is_an_error_for_rasa(executor: ActionExecutor) -> None:
    FlakyAction.failing = {1, 2}
    with pytest.raises(DatabaseUnavailableError):
        asyncio.run(executor.run(_call()))
    assert CALLS == ["run", "run"]


def test_installing_twice_wraps_once(executor: ActionExecutor) -> None:
    retry_actions_once_on_database_loss()
    FlakyAction.failing = {1, 2}
    with pytest.raises(DatabaseUnavailableError):
        asyncio.run(executor.run(_call()))
    assert CALLS == ["run", "run"]
