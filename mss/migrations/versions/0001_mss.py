"""mss tables: raw messages by hash, folders with their UIDs, mailbox options, messages

Revision ID: 0001_mss
Revises:
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001_mss"
down_revision = None
branch_labels = ("mss",)
depends_on = "0001_platform"

JSONType = sa.JSON().with_variant(JSONB(), "postgresql")
TS = sa.DateTime(timezone=True)


def _ws(table: str, primary_key: bool = True) -> sa.Column:
    return sa.Column("workspace", sa.String(64),
                     sa.ForeignKey("workspaces.name", ondelete="CASCADE",
                                   name=f"fk_{table}_workspace_workspaces"),
                     primary_key=primary_key, nullable=False)


def upgrade() -> None:
    op.create_table(
        "mss_blobs", _ws("mss_blobs"),
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("size", sa.Integer, nullable=False), sa.Column("data", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "mss_folders", _ws("mss_folders"),
        sa.Column("mailbox", sa.String(254), primary_key=True), sa.Column("folder", sa.String(40), primary_key=True),
        sa.Column("uidvalidity", sa.Integer, nullable=False), sa.Column("next_uid", sa.Integer, nullable=False),
    )
    op.create_table(
        "mss_mailbox_options", _ws("mss_mailbox_options"),
        sa.Column("mailbox", sa.String(254), primary_key=True),
        sa.Column("integrating", sa.Boolean, nullable=False),
    )
    op.create_table(
        "mss_messages",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        _ws("mss_messages", primary_key=False),
        sa.Column("mailbox", sa.String(254), nullable=False), sa.Column("folder", sa.String(40), nullable=False),
        sa.Column("uid", sa.Integer, nullable=False), sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer, nullable=False), sa.Column("received_at", TS, nullable=False),
        sa.Column("sender", sa.String(254), nullable=False), sa.Column("recipients", JSONType, nullable=False),
        sa.Column("subject", sa.String(400), nullable=False), sa.Column("message_id", sa.String(300), nullable=False),
        sa.Column("flags", JSONType, nullable=False), sa.Column("patient_ins", sa.String(15), nullable=True),
        sa.Column("checks", JSONType, nullable=False), sa.Column("origin", JSONType, nullable=False),
    )
    op.create_index("ux_mss_messages_folder_uid", "mss_messages", ["workspace", "mailbox", "folder", "uid"],
                    unique=True)


def downgrade() -> None:
    for table in ("mss_messages", "mss_mailbox_options", "mss_folders", "mss_blobs"):
        op.drop_table(table)
