"""The patient's view of the DMP in Mon Espace Santé (FACTS §3.5, §2.7; appendix B): with a
sandbox patient token (:mod:`dmp.patient_tokens`) a patient — or a legal representative — lists
the documents (never ``INVISIBLE_PATIENT`` ones; representatives never see
``INVISIBLE_REPRESENTANTS_LEGAUX`` either), masks/unmasks a document from professionals
(``MASQUE_PS``), blocks/unblocks a professional, and reads the access history, emergency accesses
flagged."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from dmp import audit, consult, document_urls, guard, store, update
from dmp.access_rules import Action, Role
from dmp.auth import Caller, issuer, patient_keys
from dmp.patient_tokens import TTL_SECONDS, PatientClaims
from dmp.terminology import TRE_A07
from sandbox.errors import FhirError, ProblemError

if TYPE_CHECKING:
    from sandbox.context import SandboxContext


async def issue_token(ctx: SandboxContext, workspace: str, patient: str, represents: str = "") -> dict[str, Any]:
    """A patient token for persona ``patient`` (persona id or INS), optionally as legal representative."""
    persona = await ctx.personas.get(workspace, "patient", patient)
    if persona is None:
        hits = [p for p in ctx.world.patients if p.ins.value == patient]
        persona = await ctx.personas.get(workspace, "patient", hits[0].id) if hits else None
    if persona is None:
        raise ProblemError(404, "unknown-patient", f"aucun patient {patient[:40]!r} dans l'espace {workspace}")
    role = "patient"
    if represents:
        async with ctx.db.session() as s:
            dmp = await store.get_dmp(s, workspace, represents)
        if dmp is None or persona["id"] not in dmp.legal_reps:
            raise ProblemError(403, "not-a-legal-representative",
                               f"{persona['id']} n'est pas représentant légal du titulaire de l'INS {represents}")
        role = Role.LEGAL_REP.value
    claims = PatientClaims(workspace, persona["id"], persona["matricule"], role, represents)
    token = await patient_keys(ctx).issue(issuer(ctx), claims)
    return {"access_token": token, "token_type": "Bearer", "expires_in": TTL_SECONDS, "patient": persona["id"],
            "ins": persona["matricule"], "role": role, "represents": represents or None}


def _summary(doc: dict[str, Any]) -> dict[str, Any]:
    labels = [c.get("code") for lab in doc.get("securityLabel") or [] for c in (lab or {}).get("coding") or []]
    return {"id": doc.get("id"), "title": ((doc.get("content") or [{}])[0].get("attachment") or {}).get("title")
            or doc.get("description"), "type": ((doc.get("type") or {}).get("coding") or [{}])[0].get("code"),
            "date": doc.get("date"), "status": doc.get("status"), "masked_from_professionals": "MASQUE_PS" in labels,
            "url": ((doc.get("content") or [{}])[0].get("attachment") or {}).get("url")}


async def documents(ctx: SandboxContext, caller: Caller) -> dict[str, Any]:
    bundle, _ = await consult.find_documents(ctx, caller, [("status", "current"), ("_count", "100")])
    docs = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "DocumentReference"]
    return {"patient": guard.target_ins(caller, None), "total": bundle["total"],
            "documents": [_summary(d) for d in docs]}


async def set_masked(ctx: SandboxContext, caller: Caller, doc_id: str, masked: bool) -> dict[str, Any]:
    async with ctx.db.session() as s:
        doc = await store.get_document(s, caller.workspace, doc_id)
    hidden = doc is not None and (doc.invisible_patient or (caller.role is Role.LEGAL_REP and doc.invisible_rl))
    if doc is None or doc.patient_ins != guard.target_ins(caller, None) or hidden:
        raise FhirError(404, "not-found", f"document {doc_id[:64]} inconnu")
    labels = [lab for lab in doc.resource.get("securityLabel") or []
              if not any(c.get("code") == "MASQUE_PS" for c in (lab or {}).get("coding") or [])]
    if masked:
        labels.append({"coding": [{"system": TRE_A07, "code": "MASQUE_PS"}]})
    ops = [{"op": "replace" if "securityLabel" in doc.resource else "add", "path": "/securityLabel", "value": labels}]
    if not labels:
        ops = [{"op": "remove", "path": "/securityLabel"}] if "securityLabel" in doc.resource else []
    if not ops:
        return _summary(document_urls.render(doc.resource, ctx.settings.base_url))
    result = await update.patch(ctx, caller, "", update.JSON_PATCH, ops, None, doc_id=doc_id)
    return _summary(document_urls.render(result.resource, ctx.settings.base_url))


async def set_blocked(ctx: SandboxContext, caller: Caller, idnps: str, blocked: bool) -> dict[str, Any]:
    ins = guard.target_ins(caller, None)
    async with ctx.db.session() as s:
        dmp, decision = await guard.check(s, caller, ins, Action.MANAGE, "mes-manage")
        if blocked and await ctx.personas.get(caller.workspace, "professional", idnps) is None:
            raise FhirError(404, "not-found", f"professionnel {idnps[:40]} inconnu")
        current = [b for b in dmp.blocked if b != idnps] + ([idnps] if blocked else [])
        await store.put_dmp(s, replace(dmp, blocked=tuple(current)))
        await audit.record(s, guard.audit_record(caller, ins, "mes-manage", "0", decision,
                                                 entity=f"Practitioner/{idnps}", blocked=blocked))
    return {"patient": ins, "blocked": current}


async def blocked(ctx: SandboxContext, caller: Caller) -> dict[str, Any]:
    ins = guard.target_ins(caller, None)
    async with ctx.db.session() as s:
        dmp, _ = await guard.check(s, caller, ins, Action.MANAGE, "mes-manage")
    return {"patient": ins, "blocked": list(dmp.blocked)}


async def history(ctx: SandboxContext, caller: Caller, ins: str | None, count: int = 100) -> list[audit.AuditRecord]:
    target = guard.target_ins(caller, ins)
    await audit.writer(ctx).flush()
    async with ctx.db.session() as s:
        _, decision = await guard.check(s, caller, target, Action.READ_AUDIT, "audit-read")
        records = await audit.list_records(s, caller.workspace, target, limit=count)
    return records


def history_json(records: list[audit.AuditRecord]) -> dict[str, Any]:
    return {"events": [{"when": r.recorded.isoformat(), "operation": r.operation,
                        "label": audit.OPERATIONS.get(r.operation, ("", r.operation, ""))[1],
                        "who": r.actor_name or r.actor_id, "actor_kind": r.actor_kind, "mode": r.mode,
                        "emergency": r.emergency, "outcome": audit.OUTCOME_TEXT.get(r.outcome, r.outcome),
                        "entity": r.entity} for r in records],
            "emergency_accesses": sum(1 for r in records if r.emergency)}
