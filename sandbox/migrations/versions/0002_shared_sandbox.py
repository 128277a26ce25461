"""shared sandbox: workspace API key hashes, per-deployment secrets (evidence salt)

Revision ID: 0002_shared_sandbox
Revises: 0001_platform
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_shared_sandbox"
down_revision = "0001_platform"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("workspaces", sa.Column("api_key_hash", sa.String(64), nullable=True))
    op.create_table(
        "deployment_secrets",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.String(200), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("deployment_secrets")
    with op.batch_alter_table("workspaces") as batch:
        batch.drop_column("api_key_hash")
