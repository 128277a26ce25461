"""Access traces of the DMP as FHIR ``AuditEvent`` (FACTS §3.5 traceability; IHE MHD audit
examples in shared/examples/mhd; TRE_R248 access modes, FACTS §3.1).

Each feed, consultation, update and refusal writes one :class:`AuditRecord` in the caller's
transaction; the patient reads them at ``GET /dmp/fhir/AuditEvent?patient=...`` (and in the
patient's view), the conformance runner through the same endpoint or :func:`list_records`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from dmp.access_rules import TRE_R248
from dmp.fhir import RPPS_SYSTEM, SANDBOX_EXT, instant, now, patient_identifier
from dmp.models import DmpAuditRow
from sandbox.db import as_utc

EMERGENCY_EXT = f"{SANDBOX_EXT}/dmp-emergency-access"
ACCESS_RULE_EXT = f"{SANDBOX_EXT}/dmp-access-rule"

#: operation -> (IHE event code, display, FHIR action)
OPERATIONS: dict[str, tuple[str, str, str]] = {
    "iti-65": ("ITI-65", "Provide Document Bundle", "C"),
    "iti-66": ("ITI-66", "Find Document Lists", "E"),
    "iti-67": ("ITI-67", "Find Document References", "E"),
    "iti-68": ("ITI-68", "Retrieve Document", "R"),
    "pdsm-patch": ("PDSm-Flux3", "Mise à jour des métadonnées", "U"),
    "td0.2": ("TD0.2", "Vérification de l'existence du DMP", "E"),
    "mes-manage": ("MES", "Paramétrage par le patient (Mon Espace Santé)", "U"),
    "audit-read": ("AuditEvent", "Consultation de l'historique", "R"),
}
OUTCOME_TEXT = {"0": "Succès", "4": "Refusé", "8": "Échec"}


@dataclass(frozen=True)
class AuditRecord:
    workspace: str
    patient_ins: str
    operation: str
    outcome: str  # 0 success, 4 minor failure (refused), 8 serious failure
    actor_kind: str
    actor_id: str
    actor_name: str = ""
    client_id: str = ""
    mode: str = "normal"
    emergency: bool = False
    entity: str = ""
    detail: dict[str, Any] = field(default_factory=dict)
    recorded: datetime = field(default_factory=now)
    id: str = field(default_factory=lambda: str(uuid.uuid4()))


async def record(s: AsyncSession, rec: AuditRecord) -> None:
    """Write ``rec`` in the caller's transaction (feeds, updates: atomic with the change)."""
    await s.execute(insert(DmpAuditRow), [row_of(rec)])


async def list_records(s: AsyncSession, workspace: str, ins: str, *, limit: int = 100, offset: int = 0,
                       emergency_only: bool = False) -> list[AuditRecord]:
    q = select(DmpAuditRow).where(DmpAuditRow.workspace == workspace, DmpAuditRow.patient_ins == ins)
    if emergency_only:
        q = q.where(DmpAuditRow.emergency.is_(True))
    q = q.order_by(DmpAuditRow.recorded.desc(), DmpAuditRow.id).limit(limit).offset(offset)
    return [AuditRecord(r.workspace, r.patient_ins, r.operation, r.outcome, r.actor_kind, r.actor_id,
                        r.actor_name, r.client_id, r.mode, r.emergency, r.entity, r.detail or {},
                        as_utc(r.recorded), r.id) for r in await s.scalars(q)]


def to_fhir(rec: AuditRecord) -> dict[str, Any]:
    code, display, action = OPERATIONS.get(rec.operation, (rec.operation, rec.operation, "E"))
    who: dict[str, Any] = {"display": rec.actor_name or rec.actor_id}
    if rec.actor_kind == "professional":
        who["identifier"] = {"system": RPPS_SYSTEM, "value": rec.actor_id}
    else:
        who["identifier"] = {"system": "https://mes-sandbox.invalid/personas", "value": rec.actor_id}
    entities: list[dict[str, Any]] = [{
        "what": {"reference": f"Patient/{rec.patient_ins}",
                 "identifier": patient_identifier(rec.patient_ins)},
        "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-entity-type", "code": "1"},
        "role": {"system": "http://terminology.hl7.org/CodeSystem/object-role", "code": "1"},
    }]
    if rec.entity:
        entities.append({"what": {"reference": rec.entity} if "/" in rec.entity and " " not in rec.entity
                         else {"display": rec.entity},
                         "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-entity-type", "code": "2"}})
    return {
        "resourceType": "AuditEvent",
        "id": rec.id,
        "extension": [{"url": EMERGENCY_EXT, "valueBoolean": rec.emergency}]
        + ([{"url": ACCESS_RULE_EXT, "valueString": rec.detail["rule"]}] if rec.detail.get("rule") else []),
        "type": {"system": "http://dicom.nema.org/resources/ontology/DCM", "code": "110110",
                 "display": "Patient Record"},
        "subtype": [{"system": "urn:ihe:event-type-code", "code": code, "display": display}],
        "action": action,
        "recorded": instant(rec.recorded),
        "outcome": rec.outcome,
        "outcomeDesc": OUTCOME_TEXT.get(rec.outcome, "") + (f" : {rec.detail['reason']}"
                                                            if rec.detail.get("reason") else ""),
        "purposeOfEvent": [{"coding": [{"system": TRE_R248, "code": rec.mode}]}],
        "agent": [{"type": {"coding": [{"system": "http://dicom.nema.org/resources/ontology/DCM",
                                        "code": "110153", "display": "Source Role ID"}]},
                   "who": who, "requestor": True,
                   **({"altId": rec.client_id} if rec.client_id else {})}],
        "source": {"observer": {"display": "mes-sandbox DMP"},
                   "type": [{"system": "http://terminology.hl7.org/CodeSystem/security-source-type",
                             "code": "4"}]},
        "entity": entities,
    }


class AuditWriter:
    """Write-behind of consultation traces (ITI-66/67/68 reads): batched inserts every
    ``interval`` seconds, off the request's critical path. Feeds and updates keep writing their trace
    in their own transaction (:func:`record`). :meth:`flush` before reading a history."""

    def __init__(self, db: Any, interval: float = 0.05) -> None:
        import asyncio

        self.db, self.interval = db, interval
        self._pending: list[AuditRecord] = []
        self._task: asyncio.Task | None = None
        self._lock = asyncio.Lock()

    def add(self, rec: AuditRecord) -> None:
        import asyncio

        self._pending.append(rec)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._later())

    async def _later(self) -> None:
        import asyncio

        await asyncio.sleep(self.interval)
        await self.flush()

    async def flush(self) -> None:
        async with self._lock:
            batch, self._pending = self._pending, []
            if not batch:
                return
            async with self.db.session() as s:
                await s.execute(insert(DmpAuditRow), [row_of(r) for r in batch])


def row_of(rec: AuditRecord) -> dict[str, Any]:
    action = OPERATIONS.get(rec.operation, ("", "", "E"))[2]
    return {"id": rec.id, "workspace": rec.workspace, "patient_ins": rec.patient_ins, "recorded": rec.recorded,
            "operation": rec.operation, "action": action, "outcome": rec.outcome, "actor_kind": rec.actor_kind,
            "actor_id": rec.actor_id[:80], "actor_name": rec.actor_name[:200], "client_id": rec.client_id[:120],
            "mode": rec.mode, "emergency": rec.emergency, "entity": rec.entity[:300], "detail": rec.detail}


def writer(ctx: Any) -> AuditWriter:
    found = ctx.state.get("dmp.audit_writer")
    if found is None:
        found = ctx.state["dmp.audit_writer"] = AuditWriter(ctx.db)
    return found
