"""deployment: facts every node of one database shares (the public base URL)

Revision ID: 0003_deployment
Revises: 0002_shared_sandbox
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_deployment"
down_revision = "0002_shared_sandbox"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deployment",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("deployment")
