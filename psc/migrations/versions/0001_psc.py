"""psc tables: signing keys, clients, sessions, authorization codes, refresh tokens

Revision ID: 0001_psc
Revises:
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001_psc"
down_revision = None
branch_labels = ("psc",)
depends_on = "0001_platform"

JSONType = sa.JSON().with_variant(JSONB(), "postgresql")
TS = sa.DateTime(timezone=True)


def _ws(table: str) -> sa.Column:
    return sa.Column("workspace", sa.String(64),
                     sa.ForeignKey("workspaces.name", ondelete="CASCADE",
                                   name=f"fk_{table}_workspace_workspaces"),
                     nullable=False)


def upgrade() -> None:
    op.create_table(
        "psc_keys",
        sa.Column("kid", sa.String(64), primary_key=True),
        sa.Column("alg", sa.String(10), nullable=False),
        sa.Column("private_pem", sa.Text, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("retired_at", TS, nullable=True),
        sa.Column("publish_until", TS, nullable=True),
    )
    op.create_table(
        "psc_clients",
        sa.Column("client_id", sa.String(128), primary_key=True),
        _ws("psc_clients"),
        sa.Column("data", JSONType, nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_psc_clients_workspace", "psc_clients", ["workspace"])
    op.create_table(
        "psc_sessions",
        sa.Column("sid", sa.String(64), primary_key=True),
        _ws("psc_sessions"),
        sa.Column("client_id", sa.String(128), nullable=False),
        sa.Column("persona_id", sa.String(80), nullable=False),
        sa.Column("auth_mode", sa.String(20), nullable=False),
        sa.Column("acr", sa.String(20), nullable=False),
        sa.Column("auth_time", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("revoked_at", TS, nullable=True),
        sa.Column("revoked_reason", sa.String(120), nullable=False),
    )
    op.create_index("ix_psc_sessions_workspace", "psc_sessions", ["workspace"])
    op.create_table(
        "psc_codes",
        sa.Column("code_hash", sa.String(64), primary_key=True),
        _ws("psc_codes"),
        sa.Column("sid", sa.String(64), nullable=False),
        sa.Column("client_id", sa.String(128), nullable=False),
        sa.Column("redirect_uri", sa.Text, nullable=False),
        sa.Column("scope", sa.Text, nullable=False),
        sa.Column("nonce", sa.Text, nullable=True),
        sa.Column("code_challenge", sa.String(128), nullable=True),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("used_at", TS, nullable=True),
    )
    op.create_index("ix_psc_codes_workspace", "psc_codes", ["workspace"])
    op.create_table(
        "psc_refresh_tokens",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        _ws("psc_refresh_tokens"),
        sa.Column("sid", sa.String(64), nullable=False),
        sa.Column("client_id", sa.String(128), nullable=False),
        sa.Column("scope", sa.Text, nullable=False),
        sa.Column("issued_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("used_at", TS, nullable=True),
    )
    op.create_index("ix_psc_refresh_tokens_workspace", "psc_refresh_tokens", ["workspace"])
    op.create_index("ix_psc_refresh_tokens_sid", "psc_refresh_tokens", ["sid"])


def downgrade() -> None:
    for table in ("psc_refresh_tokens", "psc_codes", "psc_sessions", "psc_clients", "psc_keys"):
        op.drop_table(table)
