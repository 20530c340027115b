"""The send rate per sending number, shared by every worker through the database.

Twilio accepts about one message per second from a US long code (more from a toll-free
number or a short code) and queues the excess on its side. Parley keeps to the rate itself,
so the send-time gate (opt-out, quiet hours, caps) is checked when a message really leaves
and not minutes before it sits in Twilio's queue.

The limiter is the generic cell rate algorithm: one row per sender holds the time the next
message would go out at the steady rate (its "theoretical arrival"). A message may go
`burst - 1` intervals ahead of it, so an idle number sends `burst` messages at once and
then one per interval; `burst = 1` (the default) spaces every message by the interval.
Reserving a slot locks the sender's row (`SELECT ... FOR UPDATE` on PostgreSQL, SQLite's
one writer), so several workers together keep the rate of one number.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from bot.storage.models import OutboxSenderSlot

# A reservation further ahead than this is a clock that jumped (or a `--now` dry run in the
# past): start again from now rather than wait for it.
MAX_AHEAD = timedelta(minutes=5)


@dataclass(frozen=True)
class SendRate:
    """`per_second` messages per second from one number, `burst` at once when idle."""

    per_second: float = 1.0
    burst: int = 1

    def __post_init__(self) -> None:
        if not self.per_second > 0:
            raise ValueError("the send rate must be more than 0 messages per second")
        if self.burst < 1:
            raise ValueError("the send burst must be at least 1 message")

    @property
    def interval(self) -> timedelta:
        return timedelta(seconds=1 / self.per_second)

    def describe(self) -> str:
        return f"{self.per_second:g} message(s)/s per sending number, burst {self.burst}"


def reserve_slot(session: Session, sender: str, now: datetime, rate: SendRate) -> datetime:
    """Reserve the next send slot of `sender`; returns when that message may go (>= now).

    Call inside a short transaction: the sender's row stays locked until it commits.
    """
    table = OutboxSenderSlot.__table__
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            pg_insert(table)
            .values(sender=sender, theoretical_arrival=now)
            .on_conflict_do_nothing(index_elements=["sender"])
        )
    else:
        session.execute(
            sa.insert(table).prefix_with("OR IGNORE").values(sender=sender, theoretical_arrival=now)
        )
    slot = session.execute(
        sa.select(OutboxSenderSlot).where(OutboxSenderSlot.sender == sender).with_for_update()
    ).scalar_one()
    arrival = slot.theoretical_arrival
    if arrival > now + MAX_AHEAD:
        arrival = now
    arrival = max(arrival, now)
    allowed = max(now, arrival - (rate.burst - 1) * rate.interval)
    slot.theoretical_arrival = arrival + rate.interval
    session.flush()
    return allowed
