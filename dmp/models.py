"""The DMP tables (persistence only; :mod:`dmp.store` translates rows into domain objects).

Search columns mirror the ITI-67/ITI-66 parameters (FACTS §3.2) so each query is one index range
scan: ``(workspace, patient_ins, status, date)`` serves the mandatory ``patient`` + ``status``
criteria and the default sort, even at 1,000,000 documents (``bench/dmp_ingest.py``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from sandbox.db import Base
from sandbox.models import JSONType


class DmpPatientRow(Base):
    """One DMP (FACTS §3.3 TD0.2): open/closed, authorizations, blocks, médecin traitant."""

    __tablename__ = "dmp_patients"
    workspace: Mapped[str] = mapped_column(String(64), primary_key=True)
    ins: Mapped[str] = mapped_column(String(15), primary_key=True)
    persona_id: Mapped[str] = mapped_column(String(80), default="")
    status: Mapped[str] = mapped_column(String(10))  # open | closed
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    close_motif: Mapped[str] = mapped_column(String(40), default="")
    close_reason: Mapped[str] = mapped_column(String(300), default="")
    medecin_traitant: Mapped[str] = mapped_column(String(40), default="")
    authorize_all: Mapped[bool] = mapped_column(Boolean, default=False)
    authorized: Mapped[list] = mapped_column(JSONType, default=list)
    blocked: Mapped[list] = mapped_column(JSONType, default=list)
    legal_reps: Mapped[list] = mapped_column(JSONType, default=list)
    mes_attached: Mapped[bool] = mapped_column(Boolean, default=True)
    #: the patient unticked the consent to bris de glace / regulation-centre access (FACTS §3.5)
    refuses_bris_de_glace: Mapped[bool] = mapped_column(Boolean, default=False)
    refuses_centre_15: Mapped[bool] = mapped_column(Boolean, default=False)


class DmpDocumentRow(Base):
    __tablename__ = "dmp_documents"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    workspace: Mapped[str] = mapped_column(String(64))
    patient_ins: Mapped[str] = mapped_column(String(15))
    master_id: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(20))
    version: Mapped[int] = mapped_column(Integer, default=1)
    date: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    creation: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    period_start: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    period_end: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    type_code: Mapped[str] = mapped_column(String(200), default="")
    class_code: Mapped[str] = mapped_column(String(200), default="")
    format_code: Mapped[str] = mapped_column(String(200), default="")
    facility_code: Mapped[str] = mapped_column(String(200), default="")
    setting_code: Mapped[str] = mapped_column(String(200), default="")
    #: ",system|code,...," of securityLabel codings and event codes (token search by LIKE)
    security: Mapped[str] = mapped_column(String(600), default="")
    events: Mapped[str] = mapped_column(String(600), default="")
    related: Mapped[str] = mapped_column(String(600), default="")
    masked_ps: Mapped[bool] = mapped_column(Boolean, default=False)
    invisible_patient: Mapped[bool] = mapped_column(Boolean, default=False)
    invisible_rl: Mapped[bool] = mapped_column(Boolean, default=False)
    is_archived: Mapped[bool] = mapped_column(Boolean, default=False)
    author_id: Mapped[str] = mapped_column(String(80), default="")
    author_family: Mapped[str] = mapped_column(String(100), default="")
    author_given: Mapped[str] = mapped_column(String(100), default="")
    relates_to: Mapped[str] = mapped_column(String(64), default="")
    submission_set: Mapped[str] = mapped_column(String(64), default="")
    binary_id: Mapped[str] = mapped_column(String(64), default="")
    content_type: Mapped[str] = mapped_column(String(100), default="")
    size: Mapped[int] = mapped_column(Integer, default=0)
    hash: Mapped[str] = mapped_column(String(40), default="")
    last_updated: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    resource: Mapped[dict] = mapped_column(JSONType)
    __table_args__ = (
        UniqueConstraint("workspace", "master_id", name="uq_dmp_documents_ws_master"),
        Index("ix_dmp_documents_find", "workspace", "patient_ins", "status", "date"),
    )


class DmpBinaryRow(Base):
    __tablename__ = "dmp_binaries"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    workspace: Mapped[str] = mapped_column(String(64), index=True)
    content_type: Mapped[str] = mapped_column(String(100))
    data: Mapped[bytes] = mapped_column(LargeBinary)


class DmpListRow(Base):
    """SubmissionSets and Folders (MHD List, FACTS §3.2)."""

    __tablename__ = "dmp_lists"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    workspace: Mapped[str] = mapped_column(String(64))
    patient_ins: Mapped[str] = mapped_column(String(15))
    kind: Mapped[str] = mapped_column(String(20))  # submissionset | folder
    status: Mapped[str] = mapped_column(String(20))
    date: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    identifier: Mapped[str] = mapped_column(String(300), default="")
    source_id: Mapped[str] = mapped_column(String(80), default="")
    designation: Mapped[str] = mapped_column(String(200), default="")
    last_updated: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    resource: Mapped[dict] = mapped_column(JSONType)
    __table_args__ = (Index("ix_dmp_lists_find", "workspace", "patient_ins", "kind", "date"),)


class DmpAuditRow(Base):
    """Access traces (FACTS §3.5), served as AuditEvent."""

    __tablename__ = "dmp_audit"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    workspace: Mapped[str] = mapped_column(String(64))
    patient_ins: Mapped[str] = mapped_column(String(15))
    recorded: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    operation: Mapped[str] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(1))
    outcome: Mapped[str] = mapped_column(String(2))
    actor_kind: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[str] = mapped_column(String(80))
    actor_name: Mapped[str] = mapped_column(String(200), default="")
    client_id: Mapped[str] = mapped_column(String(120), default="")
    mode: Mapped[str] = mapped_column(String(20), default="normal")
    emergency: Mapped[bool] = mapped_column(Boolean, default=False)
    entity: Mapped[str] = mapped_column(String(300), default="")
    detail: Mapped[dict] = mapped_column(JSONType, default=dict)
    __table_args__ = (Index("ix_dmp_audit_find", "workspace", "patient_ins", "recorded"),)


class DmpKeyRow(Base):
    """HMAC secret signing patient-persona tokens (shared by every node; not per workspace)."""

    __tablename__ = "dmp_keys"
    kid: Mapped[str] = mapped_column(String(40), primary_key=True)
    secret: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
