"""Conformance tables (persistence only; :mod:`conformance.store` returns domain objects).

The workspace column is deliberately not named ``workspace``: a workspace reset purges every
table with that column (:func:`sandbox.db.workspace_tables`), and a finished run with its signed
report must outlive a reset of the world it was run in.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from sandbox.db import Base
from sandbox.models import JSONType


class RunRow(Base):
    __tablename__ = "conformance_runs"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    run_workspace: Mapped[str] = mapped_column(String(64))
    suite: Mapped[str] = mapped_column(String(64))
    suite_version: Mapped[str] = mapped_column(String(40))
    #: running | done | cancelled | interrupted
    state: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str] = mapped_column(String(10))
    lang: Mapped[str] = mapped_column(String(2))
    inputs: Mapped[dict] = mapped_column(JSONType)
    selected: Mapped[list] = mapped_column(JSONType)
    options: Mapped[dict] = mapped_column(JSONType)
    rerun_of: Mapped[str | None] = mapped_column(String(36), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    #: the step the run waits on (prompt, machine-readable action), null when none
    pending: Mapped[dict | None] = mapped_column(JSONType, nullable=True)
    current_test: Mapped[str] = mapped_column(String(200), default="")
    done_count: Mapped[int] = mapped_column(Integer, default=0)
    total_count: Mapped[int] = mapped_column(Integer, default=0)
    cancel_requested: Mapped[int] = mapped_column(Integer, default=0)
    #: the signed report file (canonical JSON bytes), once finished
    report: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    error: Mapped[str] = mapped_column(Text, default="")
    __table_args__ = (Index("ix_conformance_runs_ws_created", "run_workspace", "created_at"),)


class ResultRow(Base):
    __tablename__ = "conformance_results"
    run_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    test_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(10))
    data: Mapped[dict] = mapped_column(JSONType)


class LockRow(Base):
    """One live run per workspace, across processes and nodes (the primary key decides)."""

    __tablename__ = "conformance_locks"
    workspace_name: Mapped[str] = mapped_column(String(64), primary_key=True)
    run_id: Mapped[str] = mapped_column(String(36))
    heartbeat_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
