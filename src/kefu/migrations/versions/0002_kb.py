"""help centre: categories, articles, versions, views, votes, deflections, proposed questions

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _index(table: str, *columns: str, name: str | None = None) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.create_index(name or f"ix_{table}_{columns[0]}", list(columns), unique=False)


def upgrade() -> None:
    op.create_table(
        "kb_categories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title_en", sa.String(length=200), nullable=False),
        sa.Column("title_zh", sa.String(length=200), nullable=False),
        sa.Column("description_en", sa.Text(), nullable=False),
        sa.Column("description_zh", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_kb_categories"),
        sa.UniqueConstraint("slug", name="uq_kb_categories_slug"),
    )
    op.create_table(
        "kb_articles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=100), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("context_keys", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["category_id"], ["kb_categories.id"],
                                name="fk_kb_articles_category_id_kb_categories"),
        sa.PrimaryKeyConstraint("id", name="pk_kb_articles"),
        sa.UniqueConstraint("slug", name="uq_kb_articles_slug"),
    )
    _index("kb_articles", "category_id")
    _index("kb_articles", "status")
    op.create_table(
        "kb_article_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("questions", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["kb_articles.id"],
                                name="fk_kb_article_versions_article_id_kb_articles"),
        sa.PrimaryKeyConstraint("id", name="pk_kb_article_versions"),
        sa.UniqueConstraint("article_id", "lang", name="uq_kb_article_versions_article_id"),
    )
    _index("kb_article_versions", "article_id")
    op.create_table(
        "kb_article_views",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["kb_articles.id"],
                                name="fk_kb_article_views_article_id_kb_articles"),
        sa.PrimaryKeyConstraint("id", name="pk_kb_article_views"),
    )
    _index("kb_article_views", "at", "article_id", name="ix_kb_article_views_at_article")
    op.create_table(
        "kb_votes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("voter", sa.String(length=64), nullable=False),
        sa.Column("helpful", sa.Boolean(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["kb_articles.id"],
                                name="fk_kb_votes_article_id_kb_articles"),
        sa.PrimaryKeyConstraint("id", name="pk_kb_votes"),
        sa.UniqueConstraint("article_id", "voter", name="uq_kb_votes_article_id"),
    )
    _index("kb_votes", "at", "article_id", name="ix_kb_votes_at_article")
    _create_feedback_tables()


def _create_feedback_tables() -> None:
    op.create_table(
        "kb_deflections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["kb_articles.id"],
                                name="fk_kb_deflections_article_id_kb_articles"),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"],
                                name="fk_kb_deflections_customer_id_customers"),
        sa.PrimaryKeyConstraint("id", name="pk_kb_deflections"),
    )
    _index("kb_deflections", "article_id")
    _index("kb_deflections", "customer_id")
    _index("kb_deflections", "opened_at")
    op.create_table(
        "kb_proposed_questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("question", sa.String(length=300), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["article_id"], ["kb_articles.id"],
                                name="fk_kb_proposed_questions_article_id_kb_articles"),
        sa.ForeignKeyConstraint(["decided_by"], ["agents.id"],
                                name="fk_kb_proposed_questions_decided_by_agents"),
        sa.PrimaryKeyConstraint("id", name="pk_kb_proposed_questions"),
    )
    _index("kb_proposed_questions", "article_id")
    _index("kb_proposed_questions", "status")


def downgrade() -> None:
    for table in ("kb_proposed_questions", "kb_deflections", "kb_votes", "kb_article_views",
                  "kb_article_versions", "kb_articles", "kb_categories"):
        op.drop_table(table)
