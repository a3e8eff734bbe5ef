"""jobs and tickets: partial indexes where every ticket create paid for full ones

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21 18:00:00

The jobs table had an index on every job's kind, status and run_after; the runners'
claim needs the due jobs by run_after, the admin page the dead ones, and done jobs
(most of the table) need neither. Unassigned tickets (every new one) need no entry in
the assignee index.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNFINISHED = sa.text("status IN ('queued', 'running')")
DEAD = sa.text("status = 'dead'")
ASSIGNED = sa.text("assignee_id IS NOT NULL")


def _partial(name: str, table: str, columns: list[str], where: sa.TextClause) -> None:
    op.create_index(name, table, columns, postgresql_where=where, sqlite_where=where)


def upgrade() -> None:
    for column in ("kind", "status", "run_after"):
        op.drop_index(f"ix_jobs_{column}", table_name="jobs")
    _partial("ix_jobs_due", "jobs", ["run_after", "id"], UNFINISHED)
    _partial("ix_jobs_dead", "jobs", ["id"], DEAD)
    op.drop_index("ix_tickets_assignee_id", table_name="tickets")
    _partial("ix_tickets_assignee_id", "tickets", ["assignee_id"], ASSIGNED)


def downgrade() -> None:
    op.drop_index("ix_tickets_assignee_id", table_name="tickets")
    op.create_index("ix_tickets_assignee_id", "tickets", ["assignee_id"])
    op.drop_index("ix_jobs_dead", table_name="jobs")
    op.drop_index("ix_jobs_due", table_name="jobs")
    for column in ("kind", "status", "run_after"):
        op.create_index(f"ix_jobs_{column}", "jobs", [column])
