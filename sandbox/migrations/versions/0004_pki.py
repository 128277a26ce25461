"""pki: the test PKI's CA and server material, shared by every node of one database (issue 19)

Private keys are sealed (AES-256-GCM) with the deployment's PKI secret file, never stored in clear
(sandbox/pki_store.py).

Revision ID: 0004_pki
Revises: 0003_deployment
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_pki"
down_revision = "0003_deployment"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pki_material",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("cert_pem", sa.Text, nullable=False),
        sa.Column("key_sealed", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("pki_material")
