"""workspace certificates: one registry of the client certificates issued for a workspace

INSi's (``ins_client_certificates``) and MSSanté's (``mss_certificates``) registries become this
table; each service's own branch copies its rows here and drops its table (ins
``0003_ins_certificates_registry``, mss ``0003_mss_certificates_registry``): this branch cannot
name the services' revisions, a deployment may run without either service.

Revision ID: 0005_workspace_certificates
Revises: 0004_pki
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_workspace_certificates"
down_revision = "0004_pki"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "workspace_certificates",
        sa.Column("fingerprint", sa.String(64), primary_key=True),
        sa.Column("bound_workspace", sa.String(64), nullable=False),
        sa.Column("usage", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("persona_id", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(400), nullable=False),
        sa.Column("serial", sa.String(64), nullable=False),
        sa.Column("issued_at", TS, nullable=False),
        sa.Column("not_after", TS, nullable=False),
        sa.Column("revoked_at", TS, nullable=True),
    )
    op.create_index("ix_workspace_certificates_bound_workspace", "workspace_certificates", ["bound_workspace"])


def downgrade() -> None:
    op.drop_table("workspace_certificates")
