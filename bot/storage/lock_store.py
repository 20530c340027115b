"""A Redis lock store whose tickets are issued atomically, so several Rasa processes sharing
one Redis serialise each conversation's turns.

Rasa Open Source 3.6's `RedisLockStore` keeps a conversation's whole ticket queue in one
JSON value and changes it by GET, edit, SET: two processes issuing a ticket at the same
moment read the same queue and hand out the same number, and both believe they are being
served (RasaHQ/rasa #9213; the fix was reverted in #11428). Here every change to a queue
is one Lua script, which Redis runs atomically:

- `seq` (a counter, INCR) numbers the conversation's tickets; it expires after a day
  without turns.
- `queue` (a sorted set) holds the waiting and served tickets, each scored with the
  moment it expires (Redis's own clock, so hosts' clocks do not matter); the queue itself
  expires with its last ticket.

The ticket with the lowest number among those not expired is served. A ticket expires
after the lock lifetime (Rasa's `TICKET_LOCK_LIFETIME`, 60 s by default), so a process
that died holding a lock blocks its conversation for at most that long.

When Redis cannot be reached the turn is refused with `LockError` (a turn is never run
unlocked), after one clear log line; the channel then answers as it does for any failed
turn (docs/scale-out.md says what the debtor gets).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import redis
from rasa.core.lock import Ticket, TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, LockStore

from bot.privacy import mask_phone

logger = logging.getLogger(__name__)

DEFAULT_KEY_PREFIX = "parley:lock"
# How often a waiting turn asks whether it is its turn (Rasa's stock store: 1 s).
DEFAULT_POLL_INTERVAL_S = 0.02
# The counter outlives any ticket by far, so a number is never issued twice to one
# conversation while an older holder could still release it.
COUNTER_TTL_MS = 24 * 3600 * 1000
SOCKET_TIMEOUT_S = 5.0
CONNECT_TIMEOUT_S = 2.0

# KEYS: seq, queue. ARGV: lifetime in ms, counter ttl in ms. Returns the ticket number.
_ISSUE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local n = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
redis.call('ZADD', KEYS[2], now + ttl, n)
local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[2], math.max(tonumber(last[2]), now + ttl))
return n
"""

# KEYS: queue. ARGV: ticket. Returns 0 when the ticket is served now, the number of
# tickets ahead of it otherwise, -1 when it has expired (or was never issued).
_POSITION = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local mine = tonumber(ARGV[1])
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return -1 end
local ahead = 0
for _, member in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if tonumber(member) < mine then ahead = ahead + 1 end
end
return ahead
"""

# KEYS: queue. ARGV: ticket. Removes the ticket; returns how many tickets are left.
_RELEASE = """
redis.call('ZREM', KEYS[1], ARGV[1])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return redis.call('ZCARD', KEYS[1])
"""


class LockStoreUnavailableError(LockError):
    """Redis, which holds the conversation locks, cannot be reached."""


def describe_redis_url(url: str) -> str:
    """`redis://host:port/db` without a password, for messages and logs."""
    kwargs = redis.connection.parse_url(url)
    scheme = "rediss" if kwargs.get("connection_class") is redis.SSLConnection else "redis"
    if "path" in kwargs:
        return f"unix://{kwargs['path']}"
    return (
        f"{scheme}://{kwargs.get('host', 'localhost')}:{kwargs.get('port', 6379)}"
        f"/{kwargs.get('db', 0)}"
    )


def _masked(conversation_id: str) -> str:
    return mask_phone(conversation_id) if any(c.isdigit() for c in conversation_id) else "?"


class AtomicRedisLockStore(LockStore):
    """Rasa lock store on Redis with atomic ticket issuance (see the module docstring).

    In endpoints.yml (`parley serve` writes this when REDIS_URL is set)::

        lock_store:
          type: bot.storage.lock_store.AtomicRedisLockStore
          url: ${REDIS_URL}          # or host/port/db/password, as for Rasa's store
    """

    def __init__(
        self,
        endpoint_config: Any = None,
        *,
        url: str | None = None,
        host: str | None = None,
        port: int | None = None,
        db: int | None = None,
        password: str | None = None,
        key_prefix: str = DEFAULT_KEY_PREFIX,
        poll_interval_s: float = DEFAULT_POLL_INTERVAL_S,
        check: bool = True,
    ) -> None:
        if endpoint_config is not None:
            kwargs = dict(endpoint_config.kwargs or {})
            url = url or endpoint_config.url
            host = host or kwargs.get("host")
            port = port or kwargs.get("port")
            db = db if db is not None else kwargs.get("db")
            password = password or kwargs.get("password")
            key_prefix = str(kwargs.get("key_prefix") or key_prefix)
        if url and "://" not in url:
            host, url = url, None  # Rasa's own style: `url` is the host name
        if url:
            self.url = url
        else:
            self.url = f"redis://{host or 'localhost'}:{int(port or 6379)}/{int(db or 0)}"
        self.where = describe_redis_url(self.url)
        self.red = redis.Redis.from_url(
            self.url,
            password=password or None,
            socket_timeout=SOCKET_TIMEOUT_S,
            socket_connect_timeout=CONNECT_TIMEOUT_S,
        )
        self.key_prefix = key_prefix.rstrip(":")
        self.poll_interval_s = poll_interval_s
        self._issue = self.red.register_script(_ISSUE)
        self._position = self.red.register_script(_POSITION)
        self._release = self.red.register_script(_RELEASE)
        if check:
            self.check()
        super().__init__()

    # Keys share a hash tag, so a Redis Cluster keeps one conversation's keys together.
    def _seq_key(self, conversation_id: str) -> str:
        return f"{self.key_prefix}:{{{conversation_id}}}:seq"

    def _queue_key(self, conversation_id: str) -> str:
        return f"{self.key_prefix}:{{{conversation_id}}}:queue"

    def check(self) -> None:
        """Raise LockStoreUnavailableError unless Redis answers."""
        try:
            self.red.ping()
        except redis.RedisError as exc:
            raise LockStoreUnavailableError(
                f"cannot reach the Redis lock store at {self.where} (REDIS_URL): {exc}. "
                "Start Redis, fix REDIS_URL, or unset it to use the in-memory lock "
                "(one Rasa process only)"
            ) from exc

    def _unavailable(self, conversation_id: str, exc: Exception) -> LockStoreUnavailableError:
        logger.error(
            "lock store unreachable (Redis at %s: %s): the turn for conversation %s was NOT "
            "processed; the channel answers it as a failed turn",
            self.where,
            exc,
            _masked(conversation_id),
        )
        return LockStoreUnavailableError(
            f"the Redis lock store at {self.where} cannot be reached: {exc}"
        )

    # The ticket operations, each one atomic script.

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        """A new ticket for `conversation_id`, valid for `lock_lifetime` seconds."""
        try:
            return int(
                self._issue(
                    keys=[self._seq_key(conversation_id), self._queue_key(conversation_id)],
                    args=[max(1, int(lock_lifetime * 1000)), COUNTER_TTL_MS],
                )
            )
        except redis.RedisError as exc:
            raise self._unavailable(conversation_id, exc) from exc

    def position(self, conversation_id: str, ticket: int) -> int:
        """0: `ticket` is served now; N > 0: N tickets are ahead; -1: it expired."""
        try:
            return int(self._position(keys=[self._queue_key(conversation_id)], args=[ticket]))
        except redis.RedisError as exc:
            raise self._unavailable(conversation_id, exc) from exc

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        try:
            self._release(keys=[self._queue_key(conversation_id)], args=[ticket_number])
        except redis.RedisError as exc:
            # The ticket expires by itself after the lock lifetime.
            logger.error(
                "could not release the lock of conversation %s on Redis at %s (%s); "
                "it expires by itself",
                _masked(conversation_id),
                self.where,
                exc,
            )

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        # Releasing removes the ticket and, with the last one, the queue: nothing to add.
        self.finish_serving(conversation_id, ticket_number)

    @asynccontextmanager
    async def lock(
        self,
        conversation_id: str,
        lock_lifetime: float = LOCK_LIFETIME,
        wait_time_in_seconds: float | None = None,
    ) -> AsyncIterator[TicketLock]:
        """Hold the conversation's lock for the block; LockError if it cannot be had."""
        ticket = self.issue_ticket(conversation_id, lock_lifetime)
        try:
            yield await self._acquire_lock(
                conversation_id,
                ticket,
                self.poll_interval_s if wait_time_in_seconds is None else wait_time_in_seconds,
            )
        finally:
            self.cleanup(conversation_id, ticket)

    async def _acquire_lock(
        self, conversation_id: str, ticket: int, wait_time_in_seconds: float
    ) -> TicketLock:
        # Rasa passes 1 s by default; a turn waiting behind another need not wait that long.
        interval = min(wait_time_in_seconds, self.poll_interval_s)
        while True:
            ahead = self.position(conversation_id, ticket)
            if ahead == 0:
                return self.get_lock(conversation_id) or TicketLock(conversation_id)
            if ahead < 0:
                raise LockError(
                    f"the lock ticket for conversation {_masked(conversation_id)} expired "
                    "while waiting behind another turn"
                )
            await asyncio.sleep(interval)

    # The rest of Rasa's LockStore interface, for inspection.

    def get_lock(self, conversation_id: str) -> TicketLock | None:
        """The conversation's unexpired tickets as Rasa's TicketLock (a snapshot)."""
        try:
            entries = self.red.zrange(self._queue_key(conversation_id), 0, -1, withscores=True)
        except redis.RedisError as exc:
            raise self._unavailable(conversation_id, exc) from exc
        tickets = sorted(
            (Ticket(int(member), score / 1000) for member, score in entries),
            key=lambda t: t.number,
        )
        live = deque(t for t in tickets if not t.has_expired())
        return TicketLock(conversation_id, live) if live else None

    def delete_lock(self, conversation_id: str) -> None:
        deleted = self.red.delete(self._queue_key(conversation_id))
        self._log_deletion(conversation_id, bool(deleted))

    def save_lock(self, lock: TicketLock) -> None:
        raise NotImplementedError(
            "AtomicRedisLockStore changes tickets only through its atomic scripts; "
            "a read-modify-write of the whole lock is what it exists to avoid"
        )

    def update_lock(self, conversation_id: str) -> None:
        """Expired tickets are dropped by every script; nothing to do."""

    def is_someone_waiting(self, conversation_id: str) -> bool:
        return self.get_lock(conversation_id) is not None
