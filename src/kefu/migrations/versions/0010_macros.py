"""macros: canned responses, personal or per team, in English and Chinese

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-06 10:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "macros",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("body_en", sa.Text(), nullable=False),
        sa.Column("body_zh", sa.Text(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("set_status", sa.String(length=20), nullable=True),
        sa.Column("set_priority", sa.String(length=10), nullable=True),
        sa.Column("set_team_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["owner_id"], ["agents.id"],
                                name=op.f("fk_macros_owner_id_agents")),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_macros_team_id_teams")),
        sa.ForeignKeyConstraint(["set_team_id"], ["teams.id"],
                                name=op.f("fk_macros_set_team_id_teams")),
        sa.ForeignKeyConstraint(["created_by_id"], ["agents.id"],
                                name=op.f("fk_macros_created_by_id_agents")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_macros")),
    )
    with op.batch_alter_table("macros", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_macros_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_macros_team_id"), ["team_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("macros", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_macros_team_id"))
        batch_op.drop_index(batch_op.f("ix_macros_owner_id"))
    op.drop_table("macros")
