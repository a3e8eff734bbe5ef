"""ticket_facts and transfer_checks: transfer facts found in tickets, status lookups

Revision ID: 0009
Revises: 0010
Create Date: 2026-12-06 10:00:00

One row per fact (TxID, address, network ...) or flag, searched exactly through the
indexed `search` column; one row per deposit/withdrawal status lookup.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ticket_facts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("search", sa.String(length=200), nullable=False),
        sa.Column("chain", sa.String(length=16), nullable=True),
        sa.Column("valid", sa.Boolean(), nullable=True),
        sa.Column("flag", sa.String(length=32), nullable=True),
        sa.Column("detail", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_ticket_facts_ticket_id_tickets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_facts")),
    )
    op.create_index(op.f("ix_ticket_facts_ticket_id"), "ticket_facts", ["ticket_id"])
    op.create_index(op.f("ix_ticket_facts_search"), "ticket_facts", ["search"])
    op.create_table(
        "transfer_checks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("direction", sa.String(length=16), nullable=False),
        sa.Column("lookup", sa.String(length=200), nullable=False),
        sa.Column("found", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("confirmations", sa.Integer(), nullable=True),
        sa.Column("required_confirmations", sa.Integer(), nullable=True),
        sa.Column("credited", sa.Boolean(), nullable=False),
        sa.Column("on_hold", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("checked_by", sa.Integer(), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_transfer_checks_ticket_id_tickets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transfer_checks")),
    )
    op.create_index(op.f("ix_transfer_checks_ticket_id"), "transfer_checks", ["ticket_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_transfer_checks_ticket_id"), table_name="transfer_checks")
    op.drop_table("transfer_checks")
    op.drop_index(op.f("ix_ticket_facts_search"), table_name="ticket_facts")
    op.drop_index(op.f("ix_ticket_facts_ticket_id"), table_name="ticket_facts")
    op.drop_table("ticket_facts")
