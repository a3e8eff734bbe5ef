"""email: the addresses a ticket allows besides its customer's

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 10:00:00

Someone the customer copied (Cc) on their mail, or an agent added: their mail joins the
ticket instead of opening a flagged one, and agent replies copy them. One row per ticket
and canonical (lower-case) address.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ticket_participants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=254), nullable=False),
        sa.Column("added_by", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"],
                                name=op.f("fk_ticket_participants_ticket_id_tickets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_participants")),
        sa.UniqueConstraint("ticket_id", "address",
                            name="uq_ticket_participants_ticket_id_address"),
    )


def downgrade() -> None:
    op.drop_table("ticket_participants")
