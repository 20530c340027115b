"""Migrations build the schema the models describe, on both databases."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from bot.storage import Database
from bot.storage.db import alembic_config
from bot.storage.models import Base


def test_migrations_match_models(db: Database) -> None:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={"compare_type": True, "include_object": lambda o, n, t, r, c: n != "events"},
        )
        diff = compare_metadata(context, Base.metadata)
    assert diff == [], f"models and migrations differ; add a migration: {diff}"


def test_migrate_is_idempotent(db: Database) -> None:
    db.migrate()
    db.migrate()
    with db.engine.connect() as connection:
        version = connection.execute(
            sa.text("select version_num from alembic_version")
        ).scalar_one()
    head = ScriptDirectory.from_config(alembic_config(db.url)).get_current_head()
    assert version == head == "0003"
