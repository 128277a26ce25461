"""Identity repository: the INS reference identities of a workspace (FACTS §1.1–1.4, A.2).

Domain objects in, domain objects out; :mod:`ins.models` stays inside this module. Queries are
SQLAlchemy Core selects over the indexed columns, so one traits lookup is one index range scan
(the benchmark ``bench/ins_lookup.py`` holds it to p99 ≤ 10 ms at 1,000,000 identities).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from ins.models import IdentityRow
from ins.rniv import Status
from ins.traits import Traits, TraitsQuery, normalise
from sandbox.db import Database


@dataclass(frozen=True)
class InsNumber:
    """A matricule as INSi returns it: 13-character ``NumIdentifiant`` + ``Cle`` + OID."""

    number: str
    key: str
    oid: str
    start: str | None = None
    end: str | None = None

    @property
    def value(self) -> str:
        return self.number + self.key


@dataclass(frozen=True)
class Identity:
    id: str
    traits: Traits
    ins: InsNumber
    history: tuple[InsNumber, ...]
    status: Status
    vitale_od: str | None
    vitale_rank: int | None


@dataclass(frozen=True)
class VitaleQuery:
    """RECVITALE selection (FACTS A.2 step 4): card holder + birth date + birth rank."""

    matricule_od: str  # 15 characters
    birth_date: str
    rank: int
    matricule_individu: str | None = None  # 13 characters (+ key ignored)
    birth_name: str | None = None


_COLUMNS = (
    IdentityRow.id, IdentityRow.birth_name, IdentityRow.first_names, IdentityRow.sex,
    IdentityRow.birth_date, IdentityRow.birth_place, IdentityRow.number, IdentityRow.key,
    IdentityRow.oid, IdentityRow.history, IdentityRow.identity_status, IdentityRow.vitale_od,
    IdentityRow.vitale_rank,
)
#: more candidates than this for one traits lookup is pathological; INSi answers 02 anyway
CANDIDATE_LIMIT = 50


def _identity(r: Sequence[Any]) -> Identity:
    history = tuple(InsNumber(h["number"], h["key"], h["oid"], h.get("start"), h.get("end"))
                    for h in (r[9] or ()))
    return Identity(
        id=r[0],
        traits=Traits(r[1], tuple(r[2].split(" ")) if r[2] else (), r[3], r[4], r[5]),
        ins=InsNumber(r[6], r[7], r[8]), history=history, status=Status(r[10]),
        vitale_od=r[11], vitale_rank=r[12],
    )


def traits_select(workspace: str, birth_name: str, birth_date: str, sex: str,
                  birth_place: str | None = None) -> Select:
    """The traits lookup query (also the benchmark's raw baseline)."""
    q = select(*_COLUMNS).where(
        IdentityRow.workspace == workspace, IdentityRow.birth_name == birth_name,
        IdentityRow.birth_date == birth_date, IdentityRow.sex == sex,
    )
    if birth_place:
        q = q.where(IdentityRow.birth_place == birth_place)
    return q.limit(CANDIDATE_LIMIT)


def row_values(workspace: str, identity: Identity) -> dict[str, Any]:
    t = identity.traits
    return {
        "workspace": workspace, "id": identity.id, "birth_name": normalise(t.birth_name),
        "first_names": " ".join(normalise(f) for f in t.first_names), "sex": t.sex,
        "birth_date": t.birth_date, "birth_place": t.birth_place, "number": identity.ins.number,
        "key": identity.ins.key, "oid": identity.ins.oid,
        "history": [{"number": h.number, "key": h.key, "oid": h.oid, "start": h.start, "end": h.end}
                    for h in identity.history],
        "identity_status": identity.status.value, "vitale_od": identity.vitale_od,
        "vitale_rank": identity.vitale_rank,
    }


async def insert_identities(session: AsyncSession, workspace: str, identities: Iterable[Identity],
                            batch: int = 1000) -> int:
    """Bulk insert (executemany) in batches; returns the number of rows written."""
    rows: list[dict[str, Any]] = []
    n = 0
    for identity in identities:
        rows.append(row_values(workspace, identity))
        if len(rows) >= batch:
            await session.execute(insert(IdentityRow), rows)
            n += len(rows)
            rows = []
    if rows:
        await session.execute(insert(IdentityRow), rows)
        n += len(rows)
    return n


class IdentityRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def by_traits(self, workspace: str, query: TraitsQuery) -> list[Identity]:
        """Identities matching ``query`` (first names filtered after the indexed lookup)."""
        q = traits_select(workspace, query.birth_name, query.birth_date, query.sex, query.birth_place)
        async with self.db.engine.connect() as s:
            rows = (await s.execute(q)).all()
        wanted = set(query.first_names)
        return [_identity(r) for r in rows if wanted.intersection(r[2].split(" "))]

    async def by_matricule(self, workspace: str, number: str) -> list[Identity]:
        """Identities whose active matricule is ``number`` (13 characters)."""
        q = select(*_COLUMNS).where(IdentityRow.workspace == workspace, IdentityRow.number == number)
        async with self.db.engine.connect() as s:
            return [_identity(r) for r in (await s.execute(q.limit(CANDIDATE_LIMIT))).all()]

    async def by_id(self, workspace: str, identity_id: str) -> Identity | None:
        q = select(*_COLUMNS).where(IdentityRow.workspace == workspace, IdentityRow.id == identity_id)
        async with self.db.engine.connect() as s:
            row = (await s.execute(q)).first()
        return _identity(row) if row is not None else None

    async def by_vitale(self, workspace: str, query: VitaleQuery) -> list[Identity]:
        q = select(*_COLUMNS).where(IdentityRow.workspace == workspace,
                                    IdentityRow.vitale_od == query.matricule_od,
                                    IdentityRow.birth_date == query.birth_date)
        async with self.db.engine.connect() as s:
            rows = [_identity(r) for r in (await s.execute(q.limit(CANDIDATE_LIMIT))).all()]
        out = [i for i in rows if i.vitale_rank == query.rank]
        if query.matricule_individu:
            out = [i for i in out if i.ins.number == query.matricule_individu[:13]]
        if query.birth_name:
            out = [i for i in out if i.traits.birth_name == query.birth_name]
        return out

    async def search(self, workspace: str, *, birth_name: str | None = None,
                     first_names: tuple[str, ...] = (), sex: str | None = None,
                     birth_date: str | None = None, birth_place: str | None = None,
                     limit: int = 50) -> list[Identity]:
        """FHIR-style search on any subset of traits (at least one given; AND semantics)."""
        q = select(*_COLUMNS).where(IdentityRow.workspace == workspace)
        if birth_name:
            q = q.where(IdentityRow.birth_name == birth_name)
        if sex:
            q = q.where(IdentityRow.sex == sex)
        if birth_date:
            q = q.where(IdentityRow.birth_date == birth_date)
        if birth_place:
            q = q.where(IdentityRow.birth_place == birth_place)
        q = q.order_by(IdentityRow.birth_name, IdentityRow.id)
        async with self.db.engine.connect() as s:
            rows = (await s.execute(q.limit(limit if not first_names else limit * 20))).all()
        out = [_identity(r) for r in rows]
        if first_names:
            out = [i for i in out if all(f in i.traits.first_names for f in first_names)]
        return out[:limit]
