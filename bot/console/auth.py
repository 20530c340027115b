"""Console logins: argon2 passwords (bot.storage.users), a lock-out after repeated
failures, roles, and the audit trail of every attempt."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import wraps
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import abort, g
from sqlalchemy.orm import Session

from bot.storage import record_audit
from bot.storage.models import AuditEntry
from bot.storage.types import utcnow
from bot.storage.users import UserRepository

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
LOGIN_FAILED = "console_login_failed"
LOGIN_SUCCEEDED = "console_login"
LOGIN_LOCKED = "console_login_locked"

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class LoginResult:
    username: str | None
    role: str | None
    error: str | None


def _login_actor(username: str) -> str:
    return f"login:{username}"[:64]


def locked_until(session: Session, username: str, now: datetime | None = None) -> datetime | None:
    """When the name may try again, if MAX_FAILURES failures in a row fell within LOCKOUT."""
    now = now or utcnow()
    rows = session.execute(
        sa.select(AuditEntry.action, AuditEntry.at)
        .where(
            AuditEntry.actor == _login_actor(username),
            AuditEntry.action.in_((LOGIN_FAILED, LOGIN_SUCCEEDED)),
            AuditEntry.at >= now - LOCKOUT,
        )
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    ).all()
    failures: list[datetime] = []
    for action, at in rows:
        if action == LOGIN_SUCCEEDED:
            break
        failures.append(at)
    if len(failures) >= MAX_FAILURES:
        return failures[0] + LOCKOUT
    return None


def attempt_login(
    session: Session, username: str, password: str, remote: str | None
) -> LoginResult:
    """Check a login; every outcome is written to the audit log."""
    name = username.strip()
    actor = _login_actor(name or "-")
    detail = {"remote": remote}
    until = locked_until(session, name) if name else None
    if until is not None:
        record_audit(session, actor, LOGIN_LOCKED, detail=detail)
        return LoginResult(
            None,
            None,
            f"Too many failed attempts: this account is locked until {until:%H:%M} UTC. "
            "Ask an admin if you need in sooner.",
        )
    user = UserRepository(session).authenticate(name, password) if name and password else None
    if user is None:
        record_audit(session, actor, LOGIN_FAILED, detail=detail)
        session.flush()
        left = MAX_FAILURES - _recent_failures(session, name)
        hint = f" {left} attempt(s) left before a 15-minute lock." if 0 < left <= 2 else ""
        return LoginResult(None, None, "Wrong user name or password." + hint)
    record_audit(session, actor, LOGIN_SUCCEEDED, detail=detail)
    return LoginResult(user.username, user.role, None)


def _recent_failures(session: Session, username: str) -> int:
    now = utcnow()
    count = 0
    for (action,) in session.execute(
        sa.select(AuditEntry.action)
        .where(
            AuditEntry.actor == _login_actor(username),
            AuditEntry.action.in_((LOGIN_FAILED, LOGIN_SUCCEEDED)),
            AuditEntry.at >= now - LOCKOUT,
        )
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    ):
        if action == LOGIN_SUCCEEDED:
            break
        count += 1
    return count


def requires(*roles: str) -> Callable[[F], F]:
    """Only these roles (admin always) may use the view; others get 403."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            user = g.get("user")
            if user is None:
                abort(401)
            if user.role != "admin" and user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorate
