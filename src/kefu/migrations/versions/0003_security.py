"""security: official-channel registry and self-service account freezes

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "official_channels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("value", sa.String(length=320), nullable=False),
        sa.Column("display", sa.String(length=320), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("added_by_id", sa.Integer(), nullable=True),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["added_by_id"], ["agents.id"],
                                name=op.f("fk_official_channels_added_by_id_agents")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_official_channels")),
        sa.UniqueConstraint("kind", "value", name="uq_official_channels_kind_value"),
    )
    op.create_table(
        "account_freezes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=64), nullable=False),
        sa.Column("uid_source", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("idempotency_key", sa.String(length=64), nullable=False),
        sa.Column("ticket_reference", sa.String(length=20), nullable=True),
        sa.Column("exchange_reference", sa.String(length=64), nullable=True),
        sa.Column("error", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"],
                                name=op.f("fk_account_freezes_customer_id_customers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_freezes")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_account_freezes_idempotency_key")),
    )
    with op.batch_alter_table("account_freezes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_account_freezes_customer_id"), ["customer_id"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_account_freezes_uid"), ["uid"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("account_freezes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_account_freezes_uid"))
        batch_op.drop_index(batch_op.f("ix_account_freezes_customer_id"))
    op.drop_table("account_freezes")
    op.drop_table("official_channels")
