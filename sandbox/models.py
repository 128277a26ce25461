"""The platform's own tables. They stay inside persistence: repositories translate rows into the
domain objects of :mod:`sandbox.domain`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from sandbox.db import Base

JSONType = JSON().with_variant(JSONB(), "postgresql")


class WorkspaceRow(Base):
    __tablename__ = "workspaces"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    seeded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    options: Mapped[dict] = mapped_column(JSONType, default=dict)
    #: SHA-256 of the workspace's API key (sandbox.credentials); None = only the operator key opens it
    api_key_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)


class DeploymentSecretRow(Base):
    """Secrets of one deployment shared by every node (e.g. the evidence redaction salt)."""

    __tablename__ = "deployment_secrets"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))


class PersonaRow(Base):
    __tablename__ = "personas"
    workspace: Mapped[str] = mapped_column(
        String(64), ForeignKey("workspaces.name", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    ordinal: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(200))
    data: Mapped[dict] = mapped_column(JSONType)
    __table_args__ = (Index("ix_personas_ws_kind_ordinal", "workspace", "kind", "ordinal"),)


class BodyRow(Base):
    """Evidence bodies, stored once by SHA-256 of the full original bytes."""

    __tablename__ = "evidence_bodies"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    truncated: Mapped[bool] = mapped_column(Boolean, default=False)
    content_type: Mapped[str] = mapped_column(String(200), default="")
    data: Mapped[bytes] = mapped_column(LargeBinary)


class ExchangeRow(Base):
    __tablename__ = "exchanges"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    workspace: Mapped[str] = mapped_column(String(64))
    protocol: Mapped[str] = mapped_column(String(10))
    service: Mapped[str] = mapped_column(String(32))
    operation: Mapped[str] = mapped_column(String(120), default="")
    direction: Mapped[str] = mapped_column(String(10))
    actor: Mapped[str] = mapped_column(String(300), default="")
    correlation_id: Mapped[str] = mapped_column(String(120), default="")
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(40), default="")
    summary: Mapped[dict] = mapped_column(JSONType, default=dict)
    request_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    response_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    __table_args__ = (
        Index("ix_exchanges_ws_started", "workspace", "started_at"),
        Index("ix_exchanges_correlation", "correlation_id"),
    )


class FaultRow(Base):
    __tablename__ = "faults"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    workspace: Mapped[str] = mapped_column(
        String(64), ForeignKey("workspaces.name", ondelete="CASCADE"), index=True
    )
    service: Mapped[str] = mapped_column(String(32))
    operation: Mapped[str] = mapped_column(String(120), default="")
    kind: Mapped[str] = mapped_column(String(60))
    times: Mapped[int | None] = mapped_column(Integer, nullable=True)
    ratio: Mapped[float | None] = mapped_column(Float, nullable=True)
    params: Mapped[dict] = mapped_column(JSONType, default=dict)
    matched: Mapped[int] = mapped_column(Integer, default=0)
    fired: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class DeploymentRow(Base):
    """A fact every node sharing the database must agree on (:mod:`sandbox.deployment`)."""

    __tablename__ = "deployment"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class WorkspaceCertificateRow(Base):
    """A test-PKI client certificate the sandbox issued for one workspace
    (:mod:`sandbox.workspace_certificates`), whichever service it was issued for (``usage``).

    The column is ``bound_workspace``, not ``workspace``: a *reset* keeps the workspace's
    certificates (credentials, like its API key). A *delete* revokes them (``revoked_at``) instead
    of dropping them: a certificate of a deleted workspace must stay refused, not become one the
    sandbox never bound (which MSSanté would let into the default workspace)."""

    __tablename__ = "workspace_certificates"
    fingerprint: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 of the DER, hex
    bound_workspace: Mapped[str] = mapped_column(String(64), index=True)
    usage: Mapped[str] = mapped_column(String(16))  # "insi" | "mss"
    kind: Mapped[str] = mapped_column(String(20))  # "organisation" | "professional"
    persona_id: Mapped[str] = mapped_column(String(64))  # RPPS/IDNPS or FINESS (OU) it names
    subject: Mapped[str] = mapped_column(String(400))
    serial: Mapped[str] = mapped_column(String(64))  # hex
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    not_after: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
