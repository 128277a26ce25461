"""ins: INSi client certificates move to the sandbox's one registry (workspace_certificates)

Copies every row of ``ins_client_certificates`` into ``workspace_certificates`` (usage ``insi``,
kind ``organisation``, persona = the FINESS in the subject's ``OU``) and drops the old table.

Revision ID: 0003_ins_certificates_registry
Revises: 0002_ins_certificates
Create Date: 2026-12-06
"""

import re
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0003_ins_certificates_registry"
down_revision = "0002_ins_certificates"
branch_labels = None
depends_on = "0005_workspace_certificates"

_OU = re.compile(r"(?:^|,)OU=((?:[^,\\]|\\.)*)")


def _when(text: str) -> datetime:
    dt = datetime.fromisoformat(text)
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def upgrade() -> None:
    bind = op.get_bind()
    old = sa.table("ins_client_certificates", *(sa.column(c) for c in (
        "fingerprint", "bound_workspace", "subject", "serial", "not_after", "created_at")))
    new = sa.table("workspace_certificates", *(sa.column(c) for c in (
        "fingerprint", "bound_workspace", "usage", "kind", "persona_id", "subject", "serial")),
        *(sa.column(c, sa.DateTime(timezone=True)) for c in ("issued_at", "not_after", "revoked_at")))
    rows = []
    for r in bind.execute(sa.select(old)).mappings():
        ou = _OU.search(r["subject"])
        rows.append({"fingerprint": r["fingerprint"], "bound_workspace": r["bound_workspace"], "usage": "insi",
                     "kind": "organisation", "persona_id": ou.group(1)[:64] if ou else "", "subject": r["subject"],
                     "serial": r["serial"], "issued_at": _when(r["created_at"]), "not_after": _when(r["not_after"]),
                     "revoked_at": None})
    if rows:
        op.bulk_insert(new, rows)
    op.drop_table("ins_client_certificates")


def downgrade() -> None:
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
