"""ins tables: identities known to the INSi mock

Revision ID: 0001_ins
Revises:
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001_ins"
down_revision = None
branch_labels = ("ins",)
depends_on = "0001_platform"

JSONType = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "ins_identities",
        sa.Column("workspace", sa.String(64),
                  sa.ForeignKey("workspaces.name", ondelete="CASCADE",
                                name="fk_ins_identities_workspace_workspaces"),
                  primary_key=True),
        sa.Column("id", sa.String(80), primary_key=True),
        sa.Column("birth_name", sa.String(100), nullable=False),
        sa.Column("first_names", sa.String(300), nullable=False),
        sa.Column("sex", sa.String(1), nullable=False),
        sa.Column("birth_date", sa.String(10), nullable=False),
        sa.Column("birth_place", sa.String(5), nullable=False),
        sa.Column("number", sa.String(13), nullable=False),
        sa.Column("key", sa.String(2), nullable=False),
        sa.Column("oid", sa.String(64), nullable=False),
        sa.Column("history", JSONType, nullable=False),
        sa.Column("identity_status", sa.String(5), nullable=False),
        sa.Column("vitale_od", sa.String(15), nullable=True),
        sa.Column("vitale_rank", sa.Integer, nullable=True),
    )
    op.create_index("ix_ins_identities_traits", "ins_identities",
                    ["workspace", "birth_name", "birth_date", "sex"])
    op.create_index("ix_ins_identities_number", "ins_identities", ["workspace", "number"])
    op.create_index("ix_ins_identities_vitale", "ins_identities", ["workspace", "vitale_od"])


def downgrade() -> None:
    op.drop_table("ins_identities")
