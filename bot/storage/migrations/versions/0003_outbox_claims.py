"""outbox claims (several workers), retry times, and the per-sender send rate

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 12:45:00
"""

import sqlalchemy as sa
from alembic import op

import bot.storage.types

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=128), nullable=True))
        batch_op.add_column(
            sa.Column(
                "claim_expires_at", bot.storage.types.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column(
                "send_started_at", bot.storage.types.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column("retry_at", bot.storage.types.UTCDateTime(timezone=True), nullable=True)
        )
    op.create_table(
        "outbox_sender_slots",
        sa.Column("sender", sa.String(length=64), nullable=False),
        sa.Column(
            "theoretical_arrival", bot.storage.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("sender"),
    )


def downgrade() -> None:
    op.drop_table("outbox_sender_slots")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("retry_at")
        batch_op.drop_column("send_started_at")
        batch_op.drop_column("claim_expires_at")
        batch_op.drop_column("claimed_by")
