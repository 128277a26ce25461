"""dmp tables: DMPs, documents, binaries, lists, audit trail, patient-token keys

Revision ID: 0001_dmp
Revises:
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001_dmp"
down_revision = None
branch_labels = ("dmp",)
depends_on = "0001_platform"

JSONType = sa.JSON().with_variant(JSONB(), "postgresql")
TS = sa.DateTime(timezone=True)


def _str(name: str, n: int, **kw) -> sa.Column:  # noqa: ANN003 - column options
    return sa.Column(name, sa.String(n), nullable=kw.pop("nullable", False), **kw)


def upgrade() -> None:
    op.create_table(
        "dmp_patients",
        _str("workspace", 64, primary_key=True), _str("ins", 15, primary_key=True),
        _str("persona_id", 80), _str("status", 10),
        sa.Column("created_at", TS, nullable=False), sa.Column("closed_at", TS, nullable=True),
        _str("close_motif", 40), _str("close_reason", 300), _str("medecin_traitant", 40),
        sa.Column("authorize_all", sa.Boolean, nullable=False),
        sa.Column("authorized", JSONType, nullable=False), sa.Column("blocked", JSONType, nullable=False),
        sa.Column("legal_reps", JSONType, nullable=False),
        sa.Column("mes_attached", sa.Boolean, nullable=False),
    )
    op.create_table(
        "dmp_documents",
        _str("id", 64, primary_key=True), _str("workspace", 64), _str("patient_ins", 15),
        _str("master_id", 300), _str("status", 20), sa.Column("version", sa.Integer, nullable=False),
        sa.Column("date", TS, nullable=False), sa.Column("creation", TS, nullable=True),
        sa.Column("period_start", TS, nullable=True), sa.Column("period_end", TS, nullable=True),
        _str("type_code", 200), _str("class_code", 200), _str("format_code", 200),
        _str("facility_code", 200), _str("setting_code", 200), _str("security", 600),
        _str("events", 600), _str("related", 600),
        sa.Column("masked_ps", sa.Boolean, nullable=False),
        sa.Column("invisible_patient", sa.Boolean, nullable=False),
        sa.Column("invisible_rl", sa.Boolean, nullable=False),
        sa.Column("is_archived", sa.Boolean, nullable=False),
        _str("author_id", 80), _str("author_family", 100), _str("author_given", 100),
        _str("relates_to", 64), _str("submission_set", 64), _str("binary_id", 64),
        _str("content_type", 100), sa.Column("size", sa.Integer, nullable=False), _str("hash", 40),
        sa.Column("last_updated", TS, nullable=False), sa.Column("resource", JSONType, nullable=False),
        sa.UniqueConstraint("workspace", "master_id", name="uq_dmp_documents_ws_master"),
    )
    op.create_index("ix_dmp_documents_find", "dmp_documents", ["workspace", "patient_ins", "status", "date"])
    op.create_table(
        "dmp_binaries",
        _str("id", 64, primary_key=True), _str("workspace", 64), _str("content_type", 100),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )
    op.create_index("ix_dmp_binaries_workspace", "dmp_binaries", ["workspace"])
    op.create_table(
        "dmp_lists",
        _str("id", 64, primary_key=True), _str("workspace", 64), _str("patient_ins", 15),
        _str("kind", 20), _str("status", 20), sa.Column("date", TS, nullable=False),
        _str("identifier", 300), _str("source_id", 80), _str("designation", 200),
        sa.Column("last_updated", TS, nullable=False), sa.Column("resource", JSONType, nullable=False),
    )
    op.create_index("ix_dmp_lists_find", "dmp_lists", ["workspace", "patient_ins", "kind", "date"])
    op.create_table(
        "dmp_audit",
        _str("id", 36, primary_key=True), _str("workspace", 64), _str("patient_ins", 15),
        sa.Column("recorded", TS, nullable=False), _str("operation", 40), _str("action", 1),
        _str("outcome", 2), _str("actor_kind", 20), _str("actor_id", 80), _str("actor_name", 200),
        _str("client_id", 120), _str("mode", 20), sa.Column("emergency", sa.Boolean, nullable=False),
        _str("entity", 300), sa.Column("detail", JSONType, nullable=False),
    )
    op.create_index("ix_dmp_audit_find", "dmp_audit", ["workspace", "patient_ins", "recorded"])
    op.create_table(
        "dmp_keys",
        _str("kid", 40, primary_key=True), _str("secret", 128), sa.Column("created_at", TS, nullable=False),
    )


def downgrade() -> None:
    for table in ("dmp_keys", "dmp_audit", "dmp_lists", "dmp_binaries", "dmp_documents", "dmp_patients"):
        op.drop_table(table)
