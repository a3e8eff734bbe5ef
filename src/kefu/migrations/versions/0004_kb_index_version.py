"""kb: search-index change feed read by every process

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Readers poll `id > last applied` and min/max(id): the primary key serves both, so
    # no further index. AUTOINCREMENT keeps SQLite from reusing ids (see the model).
    op.create_table(
        "kb_index_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_index_changes")),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    op.drop_table("kb_index_changes")
