"""mss: client certificates issued for a workspace (fingerprint -> workspace)

Revision ID: 0002_mss_certificates
Revises: 0001_mss
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_mss_certificates"
down_revision = "0001_mss"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "mss_certificates",
        sa.Column("fingerprint", sa.String(64), primary_key=True),
        sa.Column("bound_workspace", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("persona_id", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(400), nullable=False),
        sa.Column("issued_at", TS, nullable=False),
        sa.Column("not_after", TS, nullable=False),
    )
    op.create_index("ix_mss_certificates_bound_workspace", "mss_certificates", ["bound_workspace"])


def downgrade() -> None:
    op.drop_table("mss_certificates")
