"""``/dmp/mes/api``: the patient's view (Mon Espace Santé) over a sandbox patient token —
documents, masking from professionals, blocked professionals, access history (:mod:`dmp.patient_view`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from dmp import consult, patient_view
from dmp.access_rules import Role
from dmp.auth import Caller
from dmp.routes.common import caller_of
from sandbox.context import SandboxContext
from sandbox.errors import FhirError


def build(ctx: SandboxContext) -> APIRouter:
    router = APIRouter(prefix="/dmp/mes/api", tags=["dmp: Mon Espace Santé (vue patient)"])

    async def patient(request: Request, operation: str) -> Caller:
        caller = await caller_of(ctx, request, operation)
        if caller.role is Role.PROFESSIONAL:
            raise FhirError(403, "forbidden", "vue patient : jeton patient du bac à sable requis "
                                              "(POST /sandbox/api/workspaces/{ws}/dmp/patient-token)")
        return caller

    async def traced(coro: Any) -> Any:
        try:
            return await coro
        except FhirError as exc:
            await consult.write_refusal(ctx, exc)
            raise

    @router.get("/documents")
    async def documents(request: Request) -> dict[str, Any]:
        return await traced(patient_view.documents(ctx, await patient(request, "mes.documents")))

    @router.post("/documents/{doc_id}/mask")
    async def mask(doc_id: str, request: Request) -> dict[str, Any]:
        return await traced(patient_view.set_masked(ctx, await patient(request, "mes.mask"), doc_id, True))

    @router.post("/documents/{doc_id}/unmask")
    async def unmask(doc_id: str, request: Request) -> dict[str, Any]:
        return await traced(patient_view.set_masked(ctx, await patient(request, "mes.unmask"), doc_id, False))

    @router.get("/blocked-professionals")
    async def blocked(request: Request) -> dict[str, Any]:
        return await traced(patient_view.blocked(ctx, await patient(request, "mes.blocked")))

    @router.put("/blocked-professionals/{idnps}")
    async def block(idnps: str, request: Request) -> dict[str, Any]:
        return await traced(patient_view.set_blocked(ctx, await patient(request, "mes.block"), idnps, True))

    @router.delete("/blocked-professionals/{idnps}")
    async def unblock(idnps: str, request: Request) -> dict[str, Any]:
        return await traced(patient_view.set_blocked(ctx, await patient(request, "mes.unblock"), idnps, False))

    @router.get("/history")
    async def history(request: Request) -> dict[str, Any]:
        caller = await patient(request, "mes.history")
        return patient_view.history_json(await traced(patient_view.history(ctx, caller, None)))

    return router
