"""sandbox_changes: one generation per watched table, raised in the transaction of every change
to it (sandbox.changes). Its own branch, so it depends on nothing but the platform's base.

Revision ID: changes_0001
Revises:
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "changes_0001"
down_revision = None
branch_labels = ("changes",)
depends_on = "0001_platform"


def upgrade() -> None:
    op.create_table(
        "sandbox_changes",
        sa.Column("topic", sa.String(64), primary_key=True),
        sa.Column("generation", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("sandbox_changes")
