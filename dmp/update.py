"""PDSm PATCH use case (Flux 03/04, TD3.3a–d; FACTS §3.2, appendix A.5): conditional on
``identifier`` (404 none, 412 several), versioned (``If-Match: W/"n"`` → 412 on mismatch),
author-only deletion, traced. The patch language is in :mod:`dmp.pdsm_patch`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dmp import audit, guard, pdsm_patch, store, terminology
from dmp.access_rules import Action, Decision, Role
from dmp.auth import Caller
from dmp.fhir import instant, now
from sandbox.errors import FhirError

if TYPE_CHECKING:
    from sandbox.context import SandboxContext

JSON_PATCH = "application/json-patch+json"


@dataclass
class PatchResult:
    resource: dict[str, Any]
    version: int
    warnings: list[dict[str, Any]]
    decision: Decision


def _find_error(n: int, identifier: str) -> FhirError:
    if n == 0:
        return FhirError(404, "not-found", f"aucun DocumentReference d'identifiant {identifier[:200]!r}")
    return FhirError(412, "multiple-matches", f"{n} DocumentReference correspondent à {identifier[:200]!r} : "
                                              "précisez le système (system|value)")


def parse_etag(if_match: str | None) -> int | None:
    if not if_match:
        return None
    v = if_match.strip().removeprefix("W/").strip('"')
    if not v.isdigit():
        raise FhirError(400, "invalid", f"If-Match invalide : {if_match[:40]!r} (W/\"<versionId>\" attendu)")
    return int(v)


def parse_ops(content_type: str, body: Any, resource: dict[str, Any], warnings: list[dict[str, Any]]
              ) -> list[pdsm_patch.Op]:
    try:
        if content_type == JSON_PATCH:
            return pdsm_patch.parse_json_patch(body, resource, warnings)
        return pdsm_patch.parse_fhirpath_patch(body, warnings)
    except pdsm_patch.PatchError as exc:
        raise FhirError(exc.status, exc.code, exc.text, expression=exc.expression) from None


async def patch(ctx: SandboxContext, caller: Caller, identifier: str, content_type: str, body: Any,
                if_match: str | None, *, doc_id: str | None = None) -> PatchResult:
    expected = parse_etag(if_match)
    system, sep, value = identifier.rpartition("|")
    async with ctx.db.session() as s:
        if doc_id:
            found = [d for d in [await store.get_document(s, caller.workspace, doc_id)] if d]
        else:
            found = await store.documents_by_master(s, caller.workspace, system if sep else None, value)
        if len(found) != 1:
            raise _find_error(len(found), identifier or doc_id or "")
        doc = found[0]
        warnings: list[dict[str, Any]] = []
        try:
            ops = parse_ops(content_type, body, doc.resource, warnings)
            out = pdsm_patch.apply(doc.resource, ops, [])
            # superseded after a replacement (TD2.1) is not a deletion; asked only then (no index needed)
            replaced = out.deleted and out.resource.get("status") == "superseded" \
                and await store.is_replaced(s, caller.workspace, doc.id)
            out = pdsm_patch.apply(doc.resource, ops, warnings, replaced=replaced)
        except pdsm_patch.PatchError as exc:
            raise FhirError(exc.status, exc.code, exc.text, expression=exc.expression) from None
        except (TypeError, AttributeError, KeyError, IndexError, ValueError) as exc:
            raise FhirError(400, "structure", f"patch mal formé ({type(exc).__name__}: {str(exc)[:120]})") from None
        action = Action.DELETE if out.deleted else Action.UPDATE
        if caller.role is not Role.PROFESSIONAL:
            action = Action.MANAGE
            _patient_may_change(doc.resource, out.resource)
        _, decision = await guard.check(s, caller, doc.patient_ins, action, "pdsm-patch",
                                        is_author=doc.author_id == caller.actor_id)
        if expected is not None and expected != doc.version:
            raise FhirError(412, "conflict", f"If-Match W/\"{expected}\" ≠ version courante W/\"{doc.version}\"")
        t = now()
        v = doc.version + 1
        res = out.resource
        res["meta"] = {**(res.get("meta") or {}), "versionId": str(v), "lastUpdated": instant(t)}
        vis = terminology.visibility(res.get("securityLabel"))
        ok = await store.update_document(s, doc.id, doc.version, {
            "status": res.get("status"), "version": v, "last_updated": t, "resource": res,
            "masked_ps": vis.masked_ps, "invisible_patient": vis.invisible_patient, "invisible_rl": vis.invisible_rl,
            "is_archived": pdsm_patch.is_archived(res),
            "security": _security(res)})
        if not ok:
            raise FhirError(412, "conflict", "document modifié en parallèle : relisez-le et réessayez")
        await audit.record(s, guard.audit_record(caller, doc.patient_ins, "pdsm-patch", "0", decision,
                                                 entity=f"DocumentReference/{doc.id}",
                                                 changes=[o.where for o in ops], version=v))
    return PatchResult(res, v, warnings, decision)


def _security(res: dict[str, Any]) -> str:
    toks = [f"{c.get('system') or ''}|{c.get('code')}" for lab in res.get("securityLabel") or []
            for c in (lab or {}).get("coding") or [] if isinstance(c, dict) and c.get("code")]
    return ("," + ",".join(toks) + ",")[:600] if toks else ""


def _patient_may_change(before: dict[str, Any], after: dict[str, Any]) -> None:
    """A patient may only mask/unmask from professionals (MASQUE_PS), nothing else (FACTS §3.5)."""
    vb, va = terminology.visibility(before.get("securityLabel")), terminology.visibility(after.get("securityLabel"))
    if before.get("status") != after.get("status") or vb.invisible_patient != va.invisible_patient \
            or vb.invisible_rl != va.invisible_rl or pdsm_patch.is_archived(before) != pdsm_patch.is_archived(after):
        raise FhirError(403, "forbidden", "le patient ne peut que masquer ou démasquer un document aux "
                                          "professionnels (MASQUE_PS)")
