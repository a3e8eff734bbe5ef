"""desk_events: the desk feed, one row per ticket event, written with the change

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 10:00:00

Agents' consoles get ticket events live (kefu.web.live); a console that reconnects
reads what it missed from here, by id. No foreign keys: a log outlives the team or
agent it names.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "desk_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("reference", sa.String(20), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_desk_events"),
    )
    op.create_index("ix_desk_events_created_at", "desk_events", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_desk_events_created_at", table_name="desk_events")
    op.drop_table("desk_events")
