"""``/sandbox/api/workspaces/{ws}/dmp``: integrators create, open, close and delete patients' DMPs,
set authorizations, the médecin traitant and legal representatives, issue patient tokens, and read
a patient's access traces (the conformance runner's view; no token, sandbox API, problem JSON)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from dmp import audit, patient_view, store
from dmp.store import Dmp
from sandbox.context import SandboxContext
from sandbox.errors import ProblemError
from sandbox.http_evidence import annotate


class DmpIn(BaseModel):
    medecin_traitant: str = Field("", description="IDNPS of the médecin traitant DMP")
    authorize_all: bool = Field(True, description="every professional is authorized by the patient")
    authorized: list[str] = Field(default_factory=list, description="IDNPS authorized (when not authorize_all)")
    blocked: list[str] = Field(default_factory=list, description="IDNPS blocked by the patient")
    refuses_bris_de_glace: bool = Field(False, description="the patient refused bris de glace (emergency) access")
    refuses_centre_15: bool = Field(False, description="the patient refused regulation-centre access (centre_15)")
    legal_representatives: list[str] = Field(default_factory=list, description="patient persona ids")
    mes_attached: bool = True


class CloseIn(BaseModel):
    motif: str = Field("DEMANDE_PATIENT", description="motifFermeture code")
    reason: str = Field("", description="raisonFermeture text")


class TokenIn(BaseModel):
    patient: str = Field(description="patient persona id (pat-0001) or INS")
    represents: str = Field("", description="INS of the patient represented (legal representative token)")


def build(ctx: SandboxContext) -> APIRouter:
    router = APIRouter(prefix="/sandbox/api/workspaces/{ws}/dmp", tags=["sandbox: DMP"])

    async def workspace(request: Request, ws: str) -> None:
        annotate(request, workspace=ws, service="dmp")
        await ctx.workspaces.require(ws)

    async def persona_for(ws: str, ins: str) -> dict[str, Any]:
        hit = next((p for p in ctx.world.patients if p.ins.value == ins), None)
        persona = await ctx.personas.get(ws, "patient", hit.id) if hit else None
        if persona is None:
            raise ProblemError(404, "unknown-patient", f"aucun patient d'INS {ins[:20]!r} dans l'espace {ws}")
        return persona

    @router.get("/patients")
    async def list_patients(ws: str, request: Request) -> dict[str, Any]:
        await workspace(request, ws)
        async with ctx.db.session() as s:
            return {"patients": [d.to_dict() for d in await store.list_dmps(s, ws)]}

    @router.get("/patients/{ins}")
    async def get_patient(ws: str, ins: str, request: Request) -> dict[str, Any]:
        await workspace(request, ws)
        async with ctx.db.session() as s:
            dmp = await store.get_dmp(s, ws, ins)
        if dmp is None:
            raise ProblemError(404, "no-dmp", f"le patient {ins} n'a pas de DMP", ins=ins)
        return dmp.to_dict()

    @router.put("/patients/{ins}")
    async def open_patient(ws: str, ins: str, body: DmpIn, request: Request) -> dict[str, Any]:
        """Create (or reopen and reconfigure) the patient's DMP."""
        await workspace(request, ws)
        persona = await persona_for(ws, ins)
        async with ctx.db.session() as s:
            old = await store.get_dmp(s, ws, ins)
            dmp = Dmp(ws, ins, persona["id"], "open", old.created_at if old else datetime.now(UTC),
                      medecin_traitant=body.medecin_traitant, authorize_all=body.authorize_all,
                      authorized=tuple(body.authorized), blocked=tuple(body.blocked),
                      legal_reps=tuple(body.legal_representatives), mes_attached=body.mes_attached,
                      refuses_bris_de_glace=body.refuses_bris_de_glace, refuses_centre_15=body.refuses_centre_15)
            await store.put_dmp(s, dmp)
        return dmp.to_dict()

    @router.post("/patients/{ins}/close")
    async def close_patient(ws: str, ins: str, body: CloseIn, request: Request) -> dict[str, Any]:
        await workspace(request, ws)
        async with ctx.db.session() as s:
            dmp = await store.get_dmp(s, ws, ins)
            if dmp is None:
                raise ProblemError(404, "no-dmp", f"le patient {ins} n'a pas de DMP", ins=ins)
            dmp = replace(dmp, status="closed", closed_at=datetime.now(UTC), close_motif=body.motif[:40],
                          close_reason=body.reason[:300])
            await store.put_dmp(s, dmp)
        return dmp.to_dict()

    @router.delete("/patients/{ins}", status_code=204)
    async def delete_patient(ws: str, ins: str, request: Request) -> Response:
        """Remove the DMP entirely (TD0.2 then answers 0 entries); documents stay stored."""
        await workspace(request, ws)
        async with ctx.db.session() as s:
            if not await store.delete_dmp(s, ws, ins):
                raise ProblemError(404, "no-dmp", f"le patient {ins} n'a pas de DMP", ins=ins)
        return Response(status_code=204)

    @router.post("/patient-token")
    async def patient_token(ws: str, body: TokenIn, request: Request) -> dict[str, Any]:
        await workspace(request, ws)
        return await patient_view.issue_token(ctx, ws, body.patient, body.represents)

    @router.get("/audit")
    async def audit_trail(ws: str, request: Request, patient: str = Query(..., description="INS"),
                          limit: int = Query(100, ge=1, le=1000)) -> dict[str, Any]:
        await workspace(request, ws)
        await audit.writer(ctx).flush()
        async with ctx.db.session() as s:
            records = await audit.list_records(s, ws, patient, limit=limit)
        return {"resourceType": "Bundle", "type": "searchset", "total": len(records),
                "entry": [{"resource": audit.to_fhir(r)} for r in records]}

    return router
