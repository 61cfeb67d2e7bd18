"""What each fetched web address answered last (ETag, Last-Modified).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fetched_urls",
        sa.Column("url", sa.String(2048), primary_key=True),
        sa.Column("etag", sa.String(512), nullable=False),
        sa.Column("last_modified", sa.String(64), nullable=False),
        sa.Column("checked", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("fetched_urls")
