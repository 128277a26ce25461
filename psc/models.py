"""PSC tables (persistence only; :mod:`psc.store`, :mod:`psc.clients` and :mod:`psc.keys`
translate rows into domain objects).

``psc_keys`` is shared by every workspace and node (signing keys); the other tables carry a
``workspace`` column so workspace reset/delete purge them generically.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from sandbox.db import Base
from sandbox.models import JSONType


class PscKeyRow(Base):
    __tablename__ = "psc_keys"
    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    alg: Mapped[str] = mapped_column(String(10))
    private_pem: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: when the key stopped signing (rotation); null while it is the active key of its alg
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    #: published in the JWKS until then (tokens it signed have expired)
    publish_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


def _ws_fk() -> ForeignKey:
    return ForeignKey("workspaces.name", ondelete="CASCADE")


class PscClientRow(Base):
    __tablename__ = "psc_clients"
    client_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    workspace: Mapped[str] = mapped_column(String(64), _ws_fk(), index=True)
    data: Mapped[dict] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PscSessionRow(Base):
    """One professional's authentication for one client (OIDC ``sid``)."""

    __tablename__ = "psc_sessions"
    sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    workspace: Mapped[str] = mapped_column(String(64), _ws_fk(), index=True)
    client_id: Mapped[str] = mapped_column(String(128))
    persona_id: Mapped[str] = mapped_column(String(80))
    auth_mode: Mapped[str] = mapped_column(String(20))
    acr: Mapped[str] = mapped_column(String(20))
    auth_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revoked_reason: Mapped[str] = mapped_column(String(120), default="")


class PscCodeRow(Base):
    __tablename__ = "psc_codes"
    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    workspace: Mapped[str] = mapped_column(String(64), _ws_fk(), index=True)
    sid: Mapped[str] = mapped_column(String(64))
    client_id: Mapped[str] = mapped_column(String(128))
    redirect_uri: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(Text)
    nonce: Mapped[str | None] = mapped_column(Text, nullable=True)
    code_challenge: Mapped[str | None] = mapped_column(String(128), nullable=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class PscAssertionJtiRow(Base):
    """A ``private_key_jwt`` assertion already used: hash of ``client_id:jti`` (RFC 7523 §3 item 7)."""

    __tablename__ = "psc_assertion_jtis"
    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    workspace: Mapped[str] = mapped_column(String(64), _ws_fk(), index=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PscRefreshRow(Base):
    __tablename__ = "psc_refresh_tokens"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    workspace: Mapped[str] = mapped_column(String(64), _ws_fk(), index=True)
    sid: Mapped[str] = mapped_column(String(64))
    client_id: Mapped[str] = mapped_column(String(128))
    scope: Mapped[str] = mapped_column(Text)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    __table_args__ = (Index("ix_psc_refresh_tokens_sid", "sid"),)
