"""mss: client certificates move to the sandbox's one registry (workspace_certificates)

Copies every row of ``mss_certificates`` into ``workspace_certificates`` (usage ``mss``; the serial
was not kept, it stays empty) and drops the old table. Rows of a workspace deleted before this
revision are copied revoked: a new workspace of that name must not revive them.

Revision ID: 0003_mss_certificates_registry
Revises: 0002_mss_certificates
Create Date: 2026-12-06
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0003_mss_certificates_registry"
down_revision = "0002_mss_certificates"
branch_labels = None
depends_on = "0005_workspace_certificates"

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    bind = op.get_bind()
    old = sa.table("mss_certificates", *(sa.column(c) for c in (
        "fingerprint", "bound_workspace", "kind", "persona_id", "subject")),
        *(sa.column(c, TS) for c in ("issued_at", "not_after")))
    new = sa.table("workspace_certificates", *(sa.column(c) for c in (
        "fingerprint", "bound_workspace", "usage", "kind", "persona_id", "subject", "serial")),
        *(sa.column(c, sa.DateTime(timezone=True)) for c in ("issued_at", "not_after", "revoked_at")))
    live = {name for (name,) in bind.execute(sa.text("SELECT name FROM workspaces"))}
    now = datetime.now(UTC)
    rows = [{**r, "usage": "mss", "serial": "", "revoked_at": None if r["bound_workspace"] in live else now}
            for r in bind.execute(sa.select(old)).mappings()]
    if rows:
        op.bulk_insert(new, rows)
    op.drop_table("mss_certificates")


def downgrade() -> None:
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
