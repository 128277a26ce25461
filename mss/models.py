"""MSSanté store tables (persistence only: :mod:`mss.store` returns domain objects).

Every table has a ``workspace`` column, so workspace reset and delete clear the mail with no code
here (:func:`sandbox.db.workspace_tables`). Raw messages are kept once per workspace, by the
SHA-256 of their bytes, like evidence bodies; each mailbox folder holds rows pointing at them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from sandbox.db import Base

JSONType = JSON().with_variant(JSONB(), "postgresql")


def _ws() -> Mapped[str]:
    return mapped_column(String(64), ForeignKey("workspaces.name", ondelete="CASCADE"), primary_key=True)


class BlobRow(Base):
    """A raw RFC 5322 message, stored once per workspace."""

    __tablename__ = "mss_blobs"
    workspace: Mapped[str] = _ws()
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class FolderRow(Base):
    """UID bookkeeping of one folder (RFC 3501 §2.3.1.1): UIDs grow strictly; a new UIDVALIDITY
    whenever the folder is created again (after a workspace reset)."""

    __tablename__ = "mss_folders"
    workspace: Mapped[str] = _ws()
    mailbox: Mapped[str] = mapped_column(String(254), primary_key=True)
    folder: Mapped[str] = mapped_column(String(40), primary_key=True)
    uidvalidity: Mapped[int] = mapped_column(Integer)
    next_uid: Mapped[int] = mapped_column(Integer)


class MailboxOptionRow(Base):
    """Per-mailbox behaviour set through ``/mss/api`` (e.g. integrating software answers MDNs)."""

    __tablename__ = "mss_mailbox_options"
    workspace: Mapped[str] = _ws()
    mailbox: Mapped[str] = mapped_column(String(254), primary_key=True)
    integrating: Mapped[bool] = mapped_column(Boolean, default=False)


class MessageRow(Base):
    """One message in one folder of one mailbox."""

    __tablename__ = "mss_messages"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    workspace: Mapped[str] = mapped_column(String(64), ForeignKey("workspaces.name", ondelete="CASCADE"))
    mailbox: Mapped[str] = mapped_column(String(254))
    folder: Mapped[str] = mapped_column(String(40))
    uid: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sender: Mapped[str] = mapped_column(String(254), default="")
    recipients: Mapped[list] = mapped_column(JSONType, default=list)
    subject: Mapped[str] = mapped_column(String(400), default="")
    message_id: Mapped[str] = mapped_column(String(300), default="")
    flags: Mapped[list] = mapped_column(JSONType, default=list)
    patient_ins: Mapped[str | None] = mapped_column(String(15), nullable=True)
    #: the content checks' result (findings, parsed XDM documents, MDN error) as JSON
    checks: Mapped[dict] = mapped_column(JSONType, default=dict)
    #: where the message came from: smtp session id, api, mdn
    origin: Mapped[dict] = mapped_column(JSONType, default=dict)
    __table_args__ = (
        Index("ux_mss_messages_folder_uid", "workspace", "mailbox", "folder", "uid", unique=True),
    )

