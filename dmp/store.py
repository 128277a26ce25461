"""DMP persistence: rows in, domain objects out (STYLE §13). Every function takes the caller's
``AsyncSession`` so a transaction spans as many calls as needed; except the ITI-65 write path (FACTS
§3.2: atomic), whose functions take a synchronous :class:`~sqlalchemy.Connection` and run together as
one function through :meth:`sandbox.db.Database.run` (see :func:`dmp.feed.provide`: on SQLite that
door skips aiosqlite's thread trip for each statement, ≈ 2 ms of CPU per submission)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dmp.access_rules import DmpFacts
from dmp.models import DmpAuditRow, DmpBinaryRow, DmpDocumentRow, DmpListRow, DmpPatientRow
from sandbox.db import Database, as_utc
from sandbox.db_bulk import insert_rows
from sandbox.evidence import Rows as EvidenceRows


@asynccontextmanager
async def read_session(db: Database) -> AsyncIterator[AsyncSession]:
    """A session for consultations: autocommit, so no BEGIN/COMMIT round trips (the reads of one
    consultation need no snapshot isolation: the DMP row, then an index range scan)."""
    async with db.engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        async with AsyncSession(bind=conn, expire_on_commit=False) as s:
            yield s


@dataclass(frozen=True)
class Dmp:
    workspace: str
    ins: str
    persona_id: str
    status: str
    created_at: datetime
    closed_at: datetime | None = None
    close_motif: str = ""
    close_reason: str = ""
    medecin_traitant: str = ""
    authorize_all: bool = False
    authorized: tuple[str, ...] = ()
    blocked: tuple[str, ...] = ()
    legal_reps: tuple[str, ...] = ()
    mes_attached: bool = True
    refuses_bris_de_glace: bool = False
    refuses_centre_15: bool = False

    @property
    def open(self) -> bool:
        return self.status == "open"

    def facts(self) -> DmpFacts:
        return DmpFacts(self.ins, self.open, self.medecin_traitant, self.authorize_all, self.authorized,
                        self.blocked, self.legal_reps, self.refuses_bris_de_glace, self.refuses_centre_15)

    def to_dict(self) -> dict[str, Any]:
        return {"ins": self.ins, "patient": self.persona_id, "status": self.status,
                "created_at": self.created_at.isoformat(),
                "closed_at": self.closed_at.isoformat() if self.closed_at else None,
                "close_motif": self.close_motif or None, "close_reason": self.close_reason or None,
                "medecin_traitant": self.medecin_traitant or None, "authorize_all": self.authorize_all,
                "authorized": list(self.authorized), "blocked": list(self.blocked),
                "legal_representatives": list(self.legal_reps), "mes_attached": self.mes_attached,
                "refuses_bris_de_glace": self.refuses_bris_de_glace, "refuses_centre_15": self.refuses_centre_15}


def _dmp(r: Any) -> Dmp:  # a DmpPatientRow or a Row of its columns
    return Dmp(r.workspace, r.ins, r.persona_id, r.status, as_utc(r.created_at),
               as_utc(r.closed_at) if r.closed_at else None, r.close_motif, r.close_reason,
               r.medecin_traitant, r.authorize_all, tuple(r.authorized or ()), tuple(r.blocked or ()),
               tuple(r.legal_reps or ()), r.mes_attached, bool(r.refuses_bris_de_glace), bool(r.refuses_centre_15))


async def get_dmp(s: AsyncSession, workspace: str, ins: str) -> Dmp | None:
    row = await s.get(DmpPatientRow, (workspace, ins))
    return _dmp(row) if row else None


async def list_dmps(s: AsyncSession, workspace: str) -> list[Dmp]:
    rows = await s.scalars(select(DmpPatientRow).where(DmpPatientRow.workspace == workspace)
                           .order_by(DmpPatientRow.persona_id))
    return [_dmp(r) for r in rows]


async def put_dmp(s: AsyncSession, dmp: Dmp) -> Dmp:
    row = await s.get(DmpPatientRow, (dmp.workspace, dmp.ins))
    values = dict(persona_id=dmp.persona_id, status=dmp.status, created_at=dmp.created_at,
                  closed_at=dmp.closed_at, close_motif=dmp.close_motif, close_reason=dmp.close_reason,
                  medecin_traitant=dmp.medecin_traitant, authorize_all=dmp.authorize_all,
                  authorized=list(dmp.authorized), blocked=list(dmp.blocked), legal_reps=list(dmp.legal_reps),
                  mes_attached=dmp.mes_attached, refuses_bris_de_glace=dmp.refuses_bris_de_glace,
                  refuses_centre_15=dmp.refuses_centre_15)
    if row is None:
        s.add(DmpPatientRow(workspace=dmp.workspace, ins=dmp.ins, **values))
    else:
        for k, v in values.items():
            setattr(row, k, v)
    await s.flush()
    return dmp


async def is_replaced(s: AsyncSession, workspace: str, doc_id: str) -> bool:
    """Does a document of the DMP replace ``doc_id`` (``relatesTo`` ``replaces``, TD2.1)?"""
    found = await s.scalar(select(DmpDocumentRow.id).where(
        DmpDocumentRow.workspace == workspace, DmpDocumentRow.relates_to == doc_id).limit(1))
    return found is not None


async def delete_dmp(s: AsyncSession, workspace: str, ins: str) -> bool:
    row = await s.get(DmpPatientRow, (workspace, ins))
    if row is None:
        return False
    await s.delete(row)
    return True


async def insert_dmps(s: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if rows:
        await s.execute(insert(DmpPatientRow), rows)


@dataclass(frozen=True)
class Document:
    """A stored DocumentReference with its search columns."""

    id: str
    workspace: str
    patient_ins: str
    master_id: str
    status: str
    version: int
    author_id: str
    masked_ps: bool
    invisible_patient: bool
    invisible_rl: bool
    is_archived: bool
    binary_id: str
    content_type: str
    last_updated: datetime
    resource: dict[str, Any] = field(repr=False)


DOC_COLUMNS = (DmpDocumentRow.id, DmpDocumentRow.workspace, DmpDocumentRow.patient_ins, DmpDocumentRow.master_id,
               DmpDocumentRow.status, DmpDocumentRow.version, DmpDocumentRow.author_id, DmpDocumentRow.masked_ps,
               DmpDocumentRow.invisible_patient, DmpDocumentRow.invisible_rl, DmpDocumentRow.is_archived,
               DmpDocumentRow.binary_id, DmpDocumentRow.content_type, DmpDocumentRow.last_updated,
               DmpDocumentRow.resource)


def document_of(r: Any) -> Document:
    return Document(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12],
                    as_utc(r[13]), r[14])


def _document_by_id(workspace: str, doc_id: str) -> Any:
    return select(*DOC_COLUMNS).where(DmpDocumentRow.id == doc_id, DmpDocumentRow.workspace == workspace)


async def get_document(s: AsyncSession, workspace: str, doc_id: str) -> Document | None:
    row = (await s.execute(_document_by_id(workspace, doc_id))).first()
    return document_of(row) if row else None


async def documents_by_master(s: AsyncSession, workspace: str, system: str | None, value: str,
                              limit: int = 5) -> list[Document]:
    """By masterIdentifier: ``system|value`` exactly, or any system when ``system`` is None."""
    q = select(*DOC_COLUMNS).where(DmpDocumentRow.workspace == workspace)
    if system is None:
        q = q.where(DmpDocumentRow.master_id.like(f"%|{_escape(value)}", escape="\\"))
    else:
        q = q.where(DmpDocumentRow.master_id == f"{system}|{value}")
    return [document_of(r) for r in (await s.execute(q.limit(limit))).all()]


_patients, _documents = DmpPatientRow.__table__.c, DmpDocumentRow.__table__.c
#: built once (ITI-65 hot path): a reused statement keeps SQLAlchemy's cache key and compiled form
_DMP_FOR_FEED = select(
    *_patients,
    select(func.count()).where(_documents.workspace == bindparam("ws"),
                               _documents.master_id.in_(bindparam("masters", expanding=True)))
    .scalar_subquery().label("duplicates"),
).where(_patients.workspace == bindparam("ws"), _patients.ins == bindparam("ins"))


@dataclass(frozen=True)
class DocList:
    """A stored SubmissionSet or Folder."""

    id: str
    patient_ins: str
    kind: str
    resource: dict[str, Any] = field(repr=False)


def _list_by_id(workspace: str, list_id: str) -> Any:
    return (select(DmpListRow.id, DmpListRow.patient_ins, DmpListRow.kind, DmpListRow.resource)
            .where(DmpListRow.id == list_id, DmpListRow.workspace == workspace))


def _optimistic_update(doc_id: str, expected_version: int, values: dict[str, Any]) -> Any:
    return (update(DmpDocumentRow).where(DmpDocumentRow.id == doc_id, DmpDocumentRow.version == expected_version)
            .values(**values))


_PERSONA_OF = select(_patients.persona_id).where(_patients.workspace == bindparam("ws"),
                                                 _patients.ins == bindparam("ins"))


def persona_of(conn: Connection, workspace: str, ins: str) -> str:
    """The patient persona of ``ins``'s DMP ("" when it has none)."""
    return conn.execute(_PERSONA_OF, {"ws": workspace, "ins": ins}).scalar() or ""


# --- the ITI-65 transaction: synchronous, run as one function by Database.run (dmp.feed) ---

def dmp_for_feed(conn: Connection, workspace: str, ins: str, masters: list[str]) -> tuple[Dmp | None, int]:
    """The DMP and how many of ``masters`` are already stored, in one round trip (ITI-65 hot path)."""
    row = conn.execute(_DMP_FOR_FEED, {"ws": workspace, "ins": ins, "masters": masters}).first()
    return (_dmp(row), int(row.duplicates)) if row else (None, 0)


def existing_masters(conn: Connection, workspace: str, masters: list[str]) -> set[str]:
    if not masters:
        return set()
    q = select(DmpDocumentRow.master_id).where(DmpDocumentRow.workspace == workspace,
                                              DmpDocumentRow.master_id.in_(masters))
    return set(conn.scalars(q).all())


def document_in(conn: Connection, workspace: str, doc_id: str) -> Document | None:
    """:func:`get_document` within the ITI-65 transaction."""
    row = conn.execute(_document_by_id(workspace, doc_id)).first()
    return document_of(row) if row else None


def supersede(conn: Connection, doc_id: str, expected_version: int, values: dict[str, Any]) -> bool:
    """:func:`update_document` within the ITI-65 transaction."""
    return (conn.execute(_optimistic_update(doc_id, expected_version, values)).rowcount or 0) == 1


def list_in(conn: Connection, workspace: str, list_id: str) -> DocList | None:
    """:func:`get_list` within the ITI-65 transaction."""
    row = conn.execute(_list_by_id(workspace, list_id)).first()
    return DocList(row[0], row[1], row[2], row[3]) if row else None


def update_list(conn: Connection, list_id: str, values: dict[str, Any]) -> None:
    conn.execute(update(DmpListRow).where(DmpListRow.id == list_id).values(**values))


def insert_submission(conn: Connection, binaries: list[dict[str, Any]], documents: list[dict[str, Any]],
                      lists: list[dict[str, Any]], audit_rows: list[dict[str, Any]],
                      evidence: EvidenceRows | None = None) -> None:
    """The rows of one ITI-65 submission, in one round trip on PostgreSQL (:mod:`sandbox.db_bulk`),
    with the rows of the exchange recording it when given
    (:meth:`sandbox.evidence.EvidenceRepository.parts`)."""
    extra, keep = evidence or ([], frozenset())
    insert_rows(conn, [(DmpBinaryRow.__table__, binaries), (DmpDocumentRow.__table__, documents),
                       (DmpListRow.__table__, lists), (DmpAuditRow.__table__, audit_rows), *extra],
                skip_existing=keep)


def _escape(v: str) -> str:
    return v.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def insert_documents(s: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if rows:
        await s.execute(insert(DmpDocumentRow), rows)


async def update_document(s: AsyncSession, doc_id: str, expected_version: int, values: dict[str, Any]) -> bool:
    """Optimistic update: only when the stored version is still ``expected_version``."""
    res = await s.execute(_optimistic_update(doc_id, expected_version, values))
    return (res.rowcount or 0) == 1


async def get_binary(s: AsyncSession, workspace: str, binary_id: str) -> tuple[str, bytes] | None:
    row = (await s.execute(select(DmpBinaryRow.content_type, DmpBinaryRow.data).where(
        DmpBinaryRow.id == binary_id, DmpBinaryRow.workspace == workspace))).first()
    return (row[0], row[1]) if row else None


async def document_of_binary(s: AsyncSession, workspace: str, binary_id: str) -> Document | None:
    row = (await s.execute(select(*DOC_COLUMNS).where(DmpDocumentRow.workspace == workspace,
                                                       DmpDocumentRow.binary_id == binary_id).limit(1))).first()
    return document_of(row) if row else None


async def get_list(s: AsyncSession, workspace: str, list_id: str) -> DocList | None:
    row = (await s.execute(_list_by_id(workspace, list_id))).first()
    return DocList(row[0], row[1], row[2], row[3]) if row else None


async def count(s: AsyncSession, q: Any) -> int:
    return int(await s.scalar(select(func.count()).select_from(q.order_by(None).limit(None).offset(None)
                                                               .subquery())) or 0)
