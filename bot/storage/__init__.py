"""Persistence: SQLAlchemy models, the session factory, repositories and migrations."""

from bot.storage.db import Database, DatabaseUnavailableError, get_database, reset_databases
from bot.storage.repositories import (
    AccountNotFoundError,
    AccountRepository,
    AgreementRepository,
    InboundMessageRepository,
    record_audit,
)

__all__ = [
    "AccountNotFoundError",
    "AccountRepository",
    "AgreementRepository",
    "Database",
    "DatabaseUnavailableError",
    "InboundMessageRepository",
    "get_database",
    "record_audit",
    "reset_databases",
]
