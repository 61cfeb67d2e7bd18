"""Rate-limit buckets shared by every process on the database.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_buckets",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("client", sa.String(64), primary_key=True),
        sa.Column("tokens", sa.Float(), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
    )
    op.create_index("ix_rate_buckets_at", "rate_buckets", ["at"])


def downgrade() -> None:
    op.drop_index("ix_rate_buckets_at", table_name="rate_buckets")
    op.drop_table("rate_buckets")
