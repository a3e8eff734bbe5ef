"""channel spine: message direction, channel and external id; contact identities

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 10:30:00

Every channel (portal, API, email, chat, Telegram …) lands in the same tickets and
messages. A message says which way it went (in, out, internal), the channel it came or
went by, and the channel's own id for it; (channel, external_id) is unique, so an email,
webhook or client resend delivered twice is stored once. The `internal` flag becomes the
direction `internal`. A customer's addresses on every channel (email, exchange UID,
Telegram id …) are rows of `contact_identities`; a ticket keeps which one was used.
The ticket channel "web" is renamed "portal".
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    _identities()
    op.execute("UPDATE tickets SET channel = 'portal' WHERE channel = 'web'")
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("identity_kind", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("identity_value", sa.String(length=254), nullable=True))
    op.execute(
        "UPDATE tickets SET identity_kind = CASE WHEN (SELECT email FROM customers c "
        "WHERE c.id = tickets.customer_id) IS NOT NULL THEN 'email' ELSE 'uid' END, "
        "identity_value = COALESCE((SELECT email FROM customers c WHERE c.id = "
        "tickets.customer_id), (SELECT uid FROM customers c WHERE c.id = tickets.customer_id))")
    _messages()


def _identities() -> None:
    op.create_table(
        "contact_identities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=254), nullable=False),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"],
                                name=op.f("fk_contact_identities_customer_id_customers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_identities")),
        sa.UniqueConstraint("kind", "value", name="uq_contact_identities_kind_value"),
    )
    with op.batch_alter_table("contact_identities", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contact_identities_customer_id"), ["customer_id"],
                              unique=False)
    # Sign-up addresses were never confirmed; a UID came signed by the exchange or from a
    # trusted API token.
    op.execute("INSERT INTO contact_identities (customer_id, kind, value, verified, created_at) "
               "SELECT id, 'email', email, false, created_at FROM customers "
               "WHERE email IS NOT NULL")
    op.execute("INSERT INTO contact_identities (customer_id, kind, value, verified, created_at) "
               "SELECT id, 'uid', uid, true, created_at FROM customers WHERE uid IS NOT NULL")


def _messages() -> None:
    with op.batch_alter_table("ticket_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("direction", sa.String(length=10), nullable=False,
                                      server_default="in"))
        batch_op.add_column(sa.Column("channel", sa.String(length=16), nullable=False,
                                      server_default="portal"))
        batch_op.add_column(sa.Column("external_id", sa.String(length=200), nullable=True))
    op.execute("UPDATE ticket_messages SET direction = CASE WHEN internal THEN 'internal' "
               "WHEN author_type = 'customer' THEN 'in' ELSE 'out' END, "
               "channel = (SELECT t.channel FROM tickets t WHERE t.id = ticket_messages.ticket_id)")
    with op.batch_alter_table("ticket_messages", schema=None) as batch_op:
        batch_op.alter_column("direction", server_default=None)
        batch_op.alter_column("channel", server_default=None)
        batch_op.drop_column("internal")
        batch_op.create_unique_constraint("uq_ticket_messages_channel_external_id",
                                          ["channel", "external_id"])


def downgrade() -> None:
    with op.batch_alter_table("ticket_messages", schema=None) as batch_op:
        batch_op.drop_constraint("uq_ticket_messages_channel_external_id", type_="unique")
        batch_op.add_column(sa.Column("internal", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    op.execute("UPDATE ticket_messages SET internal = (direction = 'internal')")
    with op.batch_alter_table("ticket_messages", schema=None) as batch_op:
        batch_op.alter_column("internal", server_default=None)
        batch_op.drop_column("external_id")
        batch_op.drop_column("channel")
        batch_op.drop_column("direction")
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_column("identity_value")
        batch_op.drop_column("identity_kind")
    op.execute("UPDATE tickets SET channel = 'web' WHERE channel = 'portal'")
    with op.batch_alter_table("contact_identities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contact_identities_customer_id"))
    op.drop_table("contact_identities")
