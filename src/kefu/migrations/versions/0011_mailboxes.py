"""email channel: mailboxes and the raw messages they received

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-06 11:00:00

A mailbox is an address the desk receives at, routed to a team with a default category
and priority, optionally polled over IMAP (server, account, folder, and how far polling
got: UIDVALIDITY and the last UID). Every message that arrives is stored raw before it is
parsed (its bytes in a file in the data folder, named by SHA-256; the row keeps what was
read out of it), so a parser failure loses nothing and the message can be processed again.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mailboxes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=254), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("priority", sa.String(length=10), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("imap_host", sa.String(length=254), nullable=True),
        sa.Column("imap_port", sa.Integer(), nullable=True),
        sa.Column("imap_username", sa.String(length=254), nullable=True),
        sa.Column("imap_password", sa.String(length=254), nullable=True),
        sa.Column("imap_folder", sa.String(length=100), nullable=True),
        sa.Column("imap_uidvalidity", sa.BigInteger(), nullable=True),
        sa.Column("imap_last_uid", sa.BigInteger(), nullable=True),
        sa.Column("imap_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_mailboxes_team_id_teams")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mailboxes")),
        sa.UniqueConstraint("address", name=op.f("uq_mailboxes_address")),
    )
    op.create_table(
        "raw_emails",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mailbox_id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("message_id", sa.String(length=200), nullable=True),
        sa.Column("sender", sa.String(length=254), nullable=True),
        sa.Column("subject", sa.String(length=200), nullable=True),
        sa.Column("ticket_reference", sa.String(length=20), nullable=True),
        sa.Column("flags", sa.JSON(), nullable=False),
        sa.Column("full_text", sa.Text(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["mailbox_id"], ["mailboxes.id"],
                                name=op.f("fk_raw_emails_mailbox_id_mailboxes")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_raw_emails")),
    )
    with op.batch_alter_table("raw_emails", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_raw_emails_mailbox_id"), ["mailbox_id"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_raw_emails_sha256"), ["sha256"], unique=False)
        batch_op.create_index(batch_op.f("ix_raw_emails_ticket_reference"),
                              ["ticket_reference"], unique=False)
        batch_op.create_index("ix_raw_emails_sender_received", ["sender", "received_at"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("raw_emails", schema=None) as batch_op:
        batch_op.drop_index("ix_raw_emails_sender_received")
        batch_op.drop_index(batch_op.f("ix_raw_emails_ticket_reference"))
        batch_op.drop_index(batch_op.f("ix_raw_emails_sha256"))
        batch_op.drop_index(batch_op.f("ix_raw_emails_mailbox_id"))
    op.drop_table("raw_emails")
    op.drop_table("mailboxes")
