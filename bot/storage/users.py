"""Console users, with passwords hashed by argon2 (argon2-cffi)."""

from __future__ import annotations

import re

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from bot.storage.models import ConsoleUser
from bot.storage.repositories import record_audit

ROLES = ("operator", "trainer", "admin")
MIN_PASSWORD_LENGTH = 12
_NAME = re.compile(r"^[A-Za-z0-9._-]{2,64}$")
_hasher = PasswordHasher()


class UserError(ValueError):
    """A console user cannot be created or found; the message says why."""


class UserRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, username: str) -> ConsoleUser | None:
        return self.session.execute(
            sa.select(ConsoleUser).where(ConsoleUser.username == username)
        ).scalar_one_or_none()

    def add(self, username: str, password: str, role: str, *, actor: str = "cli") -> ConsoleUser:
        if not _NAME.match(username):
            raise UserError("user names are 2-64 letters, digits, '.', '_' or '-'")
        if role not in ROLES:
            raise UserError(f"role must be one of {', '.join(ROLES)}")
        if len(password) < MIN_PASSWORD_LENGTH:
            raise UserError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
        if self.get(username) is not None:
            raise UserError(f"user {username!r} already exists")
        user = ConsoleUser(username=username, password_hash=_hasher.hash(password), role=role)
        self.session.add(user)
        self.session.flush()
        record_audit(self.session, actor, "user_added", detail={"username": username, "role": role})
        return user

    def authenticate(self, username: str, password: str) -> ConsoleUser | None:
        user = self.get(username)
        if user is None or not user.active:
            _hasher.hash(password)  # same work either way: no timing hint that the name exists
            return None
        try:
            _hasher.verify(user.password_hash, password)
        except (VerificationError, InvalidHashError):
            return None
        return user
