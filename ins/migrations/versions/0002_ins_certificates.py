"""ins tables: INSi client certificates bound to a workspace

Revision ID: 0002_ins_certificates
Revises: 0001_ins
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_ins_certificates"
down_revision = "0001_ins"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ins_client_certificates",
        sa.Column("fingerprint", sa.String(64), primary_key=True),
        sa.Column("bound_workspace", sa.String(64),
                  sa.ForeignKey("workspaces.name", ondelete="CASCADE",
                                name="fk_ins_client_certificates_bound_workspace_workspaces"),
                  nullable=False),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("serial", sa.String(64), nullable=False),
        sa.Column("not_after", sa.String(40), nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
    )
    op.create_index("ix_ins_client_certificates_bound_workspace", "ins_client_certificates",
                    ["bound_workspace"])


def downgrade() -> None:
    op.drop_table("ins_client_certificates")
