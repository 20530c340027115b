"""identity lockout on the account; at most one active agreement per account

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 09:30:00
"""

import sqlalchemy as sa
from alembic import op

import bot.storage.types

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

ONE_ACTIVE = "uq_agreements_one_active_per_account"


def upgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "identity_locked_at", bot.storage.types.UTCDateTime(timezone=True), nullable=True
            )
        )
    op.create_table(
        "identity_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("matched", sa.Boolean(), nullable=False),
        sa.Column("sender_id", sa.String(length=64), nullable=True),
        sa.Column("at", bot.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("identity_attempts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_identity_attempts_account_id"), ["account_id"], unique=False
        )
    with op.batch_alter_table("agreements", schema=None) as batch_op:
        batch_op.add_column(sa.Column("superseded_by", sa.String(length=32), nullable=True))
    # Databases from before this revision may hold two active agreements for one account
    # (the bug this revision closes): keep the newest active, mark the others superseded.
    op.execute(
        """
        UPDATE agreements SET status = 'superseded'
        WHERE status = 'active' AND id NOT IN (
            SELECT MAX(id) FROM agreements WHERE status = 'active' GROUP BY account_id
        )
        """
    )
    op.create_index(
        ONE_ACTIVE,
        "agreements",
        ["account_id"],
        unique=True,
        sqlite_where=sa.text("status = 'active'"),
        postgresql_where=sa.text("status = 'active'"),
    )


def downgrade() -> None:
    op.drop_index(ONE_ACTIVE, table_name="agreements")
    with op.batch_alter_table("agreements", schema=None) as batch_op:
        batch_op.drop_column("superseded_by")
    with op.batch_alter_table("identity_attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identity_attempts_account_id"))
    op.drop_table("identity_attempts")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("identity_locked_at")
