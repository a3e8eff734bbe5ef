"""chat: sites, live chat state, agents' chat presence, numbered messages

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 12:40:00

A chat is a ticket (channel chat) plus a `chats` row with its one owner (bot, queue,
agent, ended), its queue entry and the last sequence number of its messages; messages
get `seq` (unique per ticket) and `meta` (a bot answer's article links). A ticket the bot
still owns is `bot_only`, left out of agents' views. Teams get their chat hours.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

QUEUED = "owner = 'queue'"


def upgrade() -> None:
    # Plain ADD COLUMNs: on SQLite anything more rebuilds the table, and dropping the old
    # tickets table fails its messages' foreign keys.
    op.add_column("tickets", sa.Column("bot_only", sa.Boolean(), nullable=False,
                                       server_default=sa.false()))
    if op.get_context().dialect.name == "postgresql":
        op.alter_column("tickets", "bot_only", server_default=None)
    op.add_column("ticket_messages", sa.Column("seq", sa.Integer(), nullable=True))
    op.add_column("ticket_messages", sa.Column("meta", sa.JSON(), nullable=True))
    # A unique index, not a constraint: SQLite adds one without rebuilding the table.
    op.create_index("uq_ticket_messages_ticket_id_seq", "ticket_messages", ["ticket_id", "seq"],
                    unique=True)
    op.add_column("teams", sa.Column("hours", sa.String(length=64), nullable=True))
    _sites_and_chats()
    _agents_and_waits()


def _sites_and_chats() -> None:
    op.create_table(
        "chat_sites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("secret", sa.String(length=128), nullable=False),
        sa.Column("verified_only", sa.Boolean(), nullable=False),
        sa.Column("origins", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_sites")),
        sa.UniqueConstraint("key", name=op.f("uq_chat_sites_key")),
    )
    op.create_table(
        "chats",
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("visitor_id", sa.Integer(), nullable=False),
        sa.Column("owner", sa.String(length=10), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("problem_type", sa.String(length=32), nullable=False),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("verified_uid", sa.String(length=64), nullable=True),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("rejections", sa.Integer(), nullable=False),
        sa.Column("handoff_reason", sa.String(length=32), nullable=True),
        sa.Column("offered_agent_id", sa.Integer(), nullable=True),
        sa.Column("offered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"],
                                name=op.f("fk_chats_ticket_id_tickets")),
        sa.ForeignKeyConstraint(["site_id"], ["chat_sites.id"],
                                name=op.f("fk_chats_site_id_chat_sites")),
        sa.ForeignKeyConstraint(["visitor_id"], ["customers.id"],
                                name=op.f("fk_chats_visitor_id_customers")),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_chats_team_id_teams")),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"], name=op.f("fk_chats_agent_id_agents")),
        sa.ForeignKeyConstraint(["offered_agent_id"], ["agents.id"],
                                name=op.f("fk_chats_offered_agent_id_agents")),
        sa.PrimaryKeyConstraint("ticket_id", name=op.f("pk_chats")),
    )
    with op.batch_alter_table("chats", schema=None) as batch_op:
        batch_op.create_index("ix_chats_queue", ["team_id", "urgent", "queued_at"], unique=False,
                              postgresql_where=sa.text(QUEUED), sqlite_where=sa.text(QUEUED))
        batch_op.create_index("ix_chats_agent_owner", ["agent_id", "owner"], unique=False)
        batch_op.create_index(batch_op.f("ix_chats_visitor_id"), ["visitor_id"], unique=False)


def _agents_and_waits() -> None:
    op.create_table(
        "chat_agents",
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("presence", sa.String(length=10), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("active", sa.Integer(), nullable=False),
        sa.Column("idle_since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("languages", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"],
                                name=op.f("fk_chat_agents_agent_id_agents")),
        sa.PrimaryKeyConstraint("agent_id", name=op.f("pk_chat_agents")),
    )
    op.create_table(
        "chat_waits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("waited_seconds", sa.Integer(), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"],
                                name=op.f("fk_chat_waits_team_id_teams")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_waits")),
    )
    with op.batch_alter_table("chat_waits", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_chat_waits_accepted_at"), ["accepted_at"],
                              unique=False)


def downgrade() -> None:
    op.drop_table("chat_waits")
    op.drop_table("chat_agents")
    op.drop_table("chats")
    op.drop_table("chat_sites")
    with op.batch_alter_table("teams", schema=None) as batch_op:
        batch_op.drop_column("hours")
    op.drop_index("uq_ticket_messages_ticket_id_seq", "ticket_messages")
    with op.batch_alter_table("ticket_messages", schema=None) as batch_op:
        batch_op.drop_column("meta")
        batch_op.drop_column("seq")
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_column("bot_only")
