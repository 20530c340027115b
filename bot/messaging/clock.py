"""Time for the outbox: the wall clock in production, one a test moves by itself."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""

    async def sleep(self, seconds: float, stop: asyncio.Event | None = None) -> bool:
        """Wait `seconds`; False if `stop` was set first (the caller should wind down)."""


class SystemClock:
    """The wall clock; `start` shifts it (a `--now` dry run), and it still moves on."""

    def __init__(self, start: datetime | None = None) -> None:
        self._offset = timedelta(0) if start is None else start - datetime.now(timezone.utc)

    def now(self) -> datetime:
        return datetime.now(timezone.utc) + self._offset

    async def sleep(self, seconds: float, stop: asyncio.Event | None = None) -> bool:
        if seconds <= 0:
            return not (stop and stop.is_set())
        if stop is None:
            await asyncio.sleep(seconds)
            return True
        try:
            await asyncio.wait_for(stop.wait(), timeout=seconds)
        except asyncio.TimeoutError:
            return True
        return False


class ManualClock:
    """A clock that moves only when slept on or advanced (tests: no wall-clock waits)."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("the clock's start must be timezone-aware")
        self._now = start.astimezone(timezone.utc)
        self.sleeps: list[float] = []

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)

    async def sleep(self, seconds: float, stop: asyncio.Event | None = None) -> bool:
        if stop is not None and stop.is_set():
            return False
        self.sleeps.append(seconds)
        self.advance(max(0.0, seconds))
        await asyncio.sleep(0)
        return not (stop and stop.is_set())
