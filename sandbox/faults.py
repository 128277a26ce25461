"""Fault injection registry (DESIGN "Fault injection").

Services declare the kinds they support (:class:`sandbox.services.FaultKind`); a workspace
scripts faults against them (``times`` = the next N matching calls, or ``ratio`` = that share of
matching calls, deterministically: with ratio r the n-th call fires when ⌊n·r⌋ grows). A service
asks :meth:`FaultRegistry.take` at the point where the fault applies and acts on the answer.

``take`` is on every hot path, so each process remembers which services of a workspace have live
faults at all: a call with nothing scripted costs no query. The ``faults`` table is watched
(:mod:`sandbox.changes`): a fault scripted, cleared or exhausted through any worker or node is
honoured by every process from its next request on. Counting a call against a
fault is one conditional ``UPDATE`` in the database (:func:`_claim`), so ``times`` is exact under
concurrency across processes and nodes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, delete, or_, select, update

from sandbox.changes import FreshCache, watch
from sandbox.db import Database
from sandbox.errors import ProblemError
from sandbox.models import FaultRow
from sandbox.services import FaultKind, Service


@dataclass(frozen=True)
class FaultSpec:
    service: str
    kind: str
    operation: str = ""
    times: int | None = None
    ratio: float | None = None
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Fault:
    """A scripted fault (domain object)."""

    id: int
    workspace: str
    service: str
    operation: str
    kind: str
    times: int | None
    ratio: float | None
    params: dict[str, Any]
    matched: int
    fired: int

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.fired >= self.times

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "workspace": self.workspace, "service": self.service,
            "operation": self.operation or None, "kind": self.kind, "times": self.times,
            "ratio": self.ratio, "params": self.params, "matched": self.matched, "fired": self.fired,
            "exhausted": self.exhausted,
        }


def _domain(row: FaultRow) -> Fault:
    return Fault(row.id, row.workspace, row.service, row.operation, row.kind, row.times, row.ratio,
                 row.params or {}, row.matched, row.fired)


#: bounds how long a change made outside the sandbox goes unseen (its own changes are seen at once)
ARMED_TTL = 60.0
FAULTS = watch(FaultRow.__table__)


class FaultRegistry:
    def __init__(self, db: Database, services: list[Service]) -> None:
        self.db = db
        self.kinds: dict[str, dict[str, FaultKind]] = {
            s.name: {k.name: k for k in s.fault_kinds} for s in services if s.fault_kinds
        }
        # workspace -> services with live faults
        self._armed = FreshCache(ARMED_TTL, db.changes, tables=[FAULTS])

    async def _armed_services(self, workspace: str) -> frozenset[str]:
        return await self._armed.get(workspace, lambda: self._load_armed(workspace))

    async def _load_armed(self, workspace: str) -> frozenset[str]:
        async with self.db.engine.connect() as conn:
            rows = await conn.execute(
                select(FaultRow.service).distinct().where(FaultRow.workspace == workspace, _LIVE))
            return frozenset(r[0] for r in rows)

    def catalogue(self) -> dict[str, list[dict[str, Any]]]:
        return {
            svc: [{"kind": k.name, "description": k.description, "operations": list(k.operations),
                   "params": k.params} for k in kinds.values()]
            for svc, kinds in sorted(self.kinds.items())
        }

    def check(self, spec: FaultSpec) -> None:
        """Refuse a spec naming an unknown service/kind/operation (422 with the valid values)."""
        if spec.service not in self.kinds:
            raise ProblemError(422, "unknown-fault-service",
                               f"service {spec.service!r} supports no fault injection",
                               valid_services=sorted(self.kinds))
        kinds = self.kinds[spec.service]
        if spec.kind not in kinds:
            raise ProblemError(422, "unknown-fault-kind",
                               f"unknown fault kind {spec.kind!r} for service {spec.service!r}",
                               valid_kinds=sorted(kinds))
        ops = kinds[spec.kind].operations
        if spec.operation and ops and spec.operation not in ops:
            raise ProblemError(422, "unknown-fault-operation",
                               f"fault kind {spec.kind!r} does not apply to operation {spec.operation!r}",
                               valid_operations=list(ops))
        if spec.times is not None and spec.ratio is not None:
            raise ProblemError(422, "invalid-fault", "give either 'times' or 'ratio', not both")
        if spec.times is not None and spec.times < 1:
            raise ProblemError(422, "invalid-fault", "'times' must be at least 1")
        if spec.ratio is not None and not 0 < spec.ratio <= 1:
            raise ProblemError(422, "invalid-fault", "'ratio' must be in (0, 1]")

    async def add(self, workspace: str, spec: FaultSpec) -> Fault:
        self.check(spec)
        times = 1 if spec.times is None and spec.ratio is None else spec.times
        async with self.db.session() as s:
            row = FaultRow(workspace=workspace, service=spec.service, operation=spec.operation,
                           kind=spec.kind, times=times, ratio=spec.ratio, params=spec.params,
                           matched=0, fired=0, created_at=datetime.now(UTC))
            s.add(row)
            await s.flush()
            fault = _domain(row)
        return fault

    async def list(self, workspace: str) -> list[Fault]:
        async with self.db.session() as s:
            rows = await s.scalars(select(FaultRow).where(FaultRow.workspace == workspace).order_by(FaultRow.id))
            return [_domain(r) for r in rows]

    async def clear(self, workspace: str, service: str | None = None) -> int:
        async with self.db.session() as s:
            q = delete(FaultRow).where(FaultRow.workspace == workspace)
            if service:
                q = q.where(FaultRow.service == service)
            n = getattr(await s.execute(q), "rowcount", 0) or 0
        return n

    async def take(self, workspace: str, service: str, operation: str = "",
                   kinds: tuple[str, ...] = ()) -> Fault | None:
        """The fault to apply to this call, if any (counts the call against the fault).

        ``kinds`` narrows the faults considered to those the call site can act on. Each count
        is one conditional ``UPDATE … WHERE fired < times RETURNING`` so the database arbitrates
        between concurrent calls of any process or node: a fault scripted for ``times: N`` fires
        exactly N times, and ``matched``/``fired`` are exact.
        """
        if service not in await self._armed_services(workspace):
            return None
        return await self.db.run(lambda conn: _claim(conn, workspace, service, operation, kinds))


_LIVE = or_(FaultRow.times.is_(None), FaultRow.fired < FaultRow.times)


def _claim(conn: Connection, workspace: str, service: str, operation: str, kinds: tuple[str, ...]) -> Fault | None:
    """Count this call against the first matching live fault that fires (in one transaction)."""
    q = select(FaultRow.id, FaultRow.operation, FaultRow.ratio).where(
        FaultRow.workspace == workspace, FaultRow.service == service, _LIVE)
    if kinds:
        q = q.where(FaultRow.kind.in_(kinds))
    table = FaultRow.__table__
    for fid, op, ratio in conn.execute(q.order_by(FaultRow.id)).all():
        if op and operation and op != operation:
            continue
        mine = update(FaultRow).where(FaultRow.id == fid, _LIVE)
        if ratio is None:  # every match fires: count both at once, if any firing is left
            row = conn.execute(mine.values(matched=FaultRow.matched + 1, fired=FaultRow.fired + 1)
                               .returning(*table.c)).first()
            if row is not None:
                return _domain_core(row)
            continue  # exhausted by a concurrent call meanwhile
        matched = conn.execute(mine.values(matched=FaultRow.matched + 1).returning(FaultRow.matched)).scalar()
        if matched is None:
            continue
        if math.floor(matched * ratio) > math.floor((matched - 1) * ratio):
            row = conn.execute(update(FaultRow).where(FaultRow.id == fid)
                               .values(fired=FaultRow.fired + 1).returning(*table.c)).one()
            return _domain_core(row)
    return None


def _domain_core(row: Any) -> Fault:
    m = row._mapping
    return Fault(m["id"], m["workspace"], m["service"], m["operation"], m["kind"], m["times"], m["ratio"],
                 m["params"] or {}, m["matched"], m["fired"])
