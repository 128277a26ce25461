"""psc_assertion_jtis: the jti of private_key_jwt client assertions already used, shared by every
worker and node (RFC 7523 §3 item 7: a replay sent to another worker is refused too)

Revision ID: 0002_psc_assertion_jti
Revises: 0001_psc
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_psc_assertion_jti"
down_revision = "0001_psc"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "psc_assertion_jtis",
        sa.Column("key_hash", sa.String(64), primary_key=True),
        sa.Column("workspace", sa.String(64),
                  sa.ForeignKey("workspaces.name", ondelete="CASCADE",
                                name="fk_psc_assertion_jtis_workspace_workspaces"), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_psc_assertion_jtis_workspace", "psc_assertion_jtis", ["workspace"])


def downgrade() -> None:
    op.drop_index("ix_psc_assertion_jtis_workspace", table_name="psc_assertion_jtis")
    op.drop_table("psc_assertion_jtis")
