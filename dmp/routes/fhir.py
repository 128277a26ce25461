"""``/dmp/fhir``: FHIR adapters of ITI-65/66/67/68, PDSm PATCH, TD0.2, AuditEvent, metadata.
Each handler: authenticate (:mod:`dmp.auth`), apply scripted faults, call the use case, annotate
the evidence, shape the FHIR answer. Refusals are traced even though the use case rolled back."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from dmp import (
    audit,
    cache,
    capability,
    consult,
    document_urls,
    faults,
    feed,
    guard,
    patient_view,
    store,
    td02_patient,
    update,
    validation,
)
from dmp.access_rules import Role
from dmp.auth import Caller
from dmp.fhir import BASE_PATH, ins_of_search
from dmp.iti67_find import searchset
from dmp.iti68_retrieve import binary_resource, wants_resource
from dmp.routes.common import caller_of, fhir, json_body, media_type
from dmp.search_params import count_offset, grouped
from sandbox import __version__
from sandbox.context import SandboxContext
from sandbox.errors import FhirError
from sandbox.evidence import Exchange
from sandbox.http_evidence import annotate, written_for, written_with_change

DEFAULT_MAX_BUNDLE_BYTES = 10 * 1024 * 1024


def _bundle_limit(options: dict) -> int:
    """The workspace's ``options.dmp.max_bundle_bytes``; a value that is not a positive integer
    (options are free JSON) falls back to the default rather than failing every submission."""
    dmp_options = options.get("dmp") if isinstance(options.get("dmp"), dict) else {}
    value = dmp_options.get("max_bundle_bytes", DEFAULT_MAX_BUNDLE_BYTES)
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else DEFAULT_MAX_BUNDLE_BYTES


def build(ctx: SandboxContext) -> APIRouter:
    router = APIRouter(prefix=BASE_PATH, tags=["dmp: FHIR (PDSm / IHE MHD)"])

    async def guarded(request: Request, operation: str, run: Callable[[Caller], Awaitable[Response]],
                      label: str | None = None) -> Response:
        """``operation`` selects the scripted faults (a read shares its search's faults); ``label``
        is the exact evidence label when it differs (a read is not a search)."""
        caller = await caller_of(ctx, request, operation, label)
        try:
            await faults.apply(ctx, caller.workspace, operation)
            return await run(caller)
        except FhirError as exc:
            await consult.write_refusal(ctx, exc)
            annotate(request, summary={"outcome": "refused", "status": exc.status,
                                       "diagnostics": exc.issues[0].get("diagnostics", "") if exc.issues else ""})
            raise

    @router.get("/metadata")
    async def metadata(request: Request) -> Response:
        annotate(request, service="dmp", operation="dmp.metadata")
        return fhir(capability.capability_statement(ctx.settings.base_url, __version__))

    @router.post("")
    @router.post("/")
    async def provide(request: Request) -> Response:
        async def run(caller: Caller) -> Response:
            ws = await cache.workspace(ctx, caller.workspace)
            options = (ws.options if ws else None) or {}
            limit = _bundle_limit(options)
            raw = await request.body()
            if len(raw) > limit:
                raise FhirError(413, "too-costly", f"lot de {len(raw)} octets : limite du DMP {limit} octets")
            bundle = await json_body(request)
            entries = bundle.get("entry") if isinstance(bundle, dict) else None
            annotate(request, summary={"bundle_entries": len(entries) if isinstance(entries, list) else 0})
            def outcome(result: feed.FeedResult) -> dict[str, Any]:
                return {"validation": result.verdict.summary(), **result.submission.summary(),
                        "response": [e["response"]["status"] for e in result.response["entry"]],
                        "emergency": result.emergency}

            def evidence(result: feed.FeedResult) -> Exchange | None:
                # the answer, built inside the submission's transaction so that its exchange
                # commits with it (sandbox.http_evidence.written_with_change); the request is
                # annotated only once that transaction committed
                w = written_with_change(request, fhir(result.response), summary=outcome(result))
                return w.exchange if w is not None else None

            try:
                result = await feed.provide(ctx, caller, bundle, options, size=len(raw), evidence=evidence)
            except validation.ValidationRejected as exc:
                annotate(request, summary={"validation": exc.verdict.summary()})
                raise
            annotate(request, summary=outcome(result))
            written = written_for(request)
            if written is not None:
                written.committed()
                return written.response
            return fhir(result.response)
        return await guarded(request, "iti-65", run)

    @router.get("/DocumentReference")
    async def find_documents(request: Request) -> Response:
        async def run(caller: Caller) -> Response:
            bundle, decision = await consult.find_documents(ctx, caller, list(request.query_params.multi_items()))
            annotate(request, summary={"total": bundle["total"], "rule": decision.rule,
                                       "emergency": decision.emergency})
            return fhir(bundle)
        return await guarded(request, "iti-67", run)

    @router.get("/DocumentReference/{doc_id}")
    async def read_document(doc_id: str, request: Request) -> Response:
        async def run(caller: Caller) -> Response:
            doc, _ = await consult.read_document(ctx, caller, doc_id)
            return fhir(document_urls.render(doc.resource, ctx.settings.base_url),
                        headers={"ETag": f'W/"{doc.version}"'})
        return await guarded(request, "iti-67", run, label="documentreference.read")

    async def do_patch(request: Request, identifier: str, doc_id: str | None) -> Response:
        async def run(caller: Caller) -> Response:
            ctype = media_type(request)
            body = await json_body(request, (update.JSON_PATCH, "application/fhir+json", "application/json"))
            if ctype != update.JSON_PATCH and not (isinstance(body, dict) and body.get("resourceType") == "Parameters"):
                raise FhirError(415, "not-supported", "PATCH : JSON Patch (application/json-patch+json) ou "
                                                      "FHIRPath Patch (Parameters, application/fhir+json) attendu")
            kind = update.JSON_PATCH if ctype == update.JSON_PATCH else "fhirpath"
            result = await update.patch(ctx, caller, identifier, kind, body, request.headers.get("if-match"),
                                        doc_id=doc_id)
            annotate(request, summary={"identifier": identifier or doc_id, "version": result.version,
                                       "status": result.resource.get("status"), "rule": result.decision.rule})
            res = document_urls.render(dict(result.resource), ctx.settings.base_url)
            return fhir(res, headers={"ETag": f'W/"{result.version}"'})
        return await guarded(request, "pdsm-patch", run)

    @router.patch("/DocumentReference")
    async def patch_conditional(request: Request) -> Response:
        identifier = request.query_params.get("identifier")
        if not identifier:
            async def refuse(caller: Caller) -> Response:  # authenticated first, like every DMP call
                raise FhirError(400, "required", "PATCH conditionnel : paramètre identifier=<system>|<value> requis")
            return await guarded(request, "pdsm-patch", refuse)
        return await do_patch(request, identifier, None)

    @router.patch("/DocumentReference/{doc_id}")
    async def patch_by_id(doc_id: str, request: Request) -> Response:
        return await do_patch(request, "", doc_id)

    @router.get("/List")
    async def find_lists(request: Request) -> Response:
        async def run(caller: Caller) -> Response:
            bundle, _ = await consult.find_lists(ctx, caller, list(request.query_params.multi_items()))
            annotate(request, summary={"total": bundle["total"]})
            return fhir(bundle)
        return await guarded(request, "iti-66", run)

    @router.get("/List/{list_id}")
    async def read_list(list_id: str, request: Request) -> Response:
        async def run(caller: Caller) -> Response:
            return fhir(await consult.read_list(ctx, caller, list_id))
        return await guarded(request, "iti-66", run, label="list.read")

    @router.get("/Binary/{binary_id}")
    async def retrieve(binary_id: str, request: Request) -> Response:
        async def run(caller: Caller) -> Response:
            ctype, data, decision = await consult.retrieve(ctx, caller, binary_id)
            annotate(request, summary={"binary": binary_id, "bytes": len(data), "content_type": ctype,
                                       "emergency": decision.emergency})
            if wants_resource(request.headers.get("accept")):
                return fhir(binary_resource(binary_id, ctype, data))
            return Response(data, media_type=ctype)
        return await guarded(request, "iti-68", run)

    @router.get("/Patient")
    async def existence(request: Request) -> Response:
        async def run(caller: Caller) -> Response:
            identifier = request.query_params.get("identifier")
            ins = ins_of_search(identifier or "")
            if not identifier or ins is None or "|" not in identifier:
                raise FhirError(400, "required", "TD0.2 : identifier=urn:oid:1.2.250.1.213.1.4.8|<INS> requis",
                                expression="identifier")
            async with store.read_session(ctx.db) as s:
                dmp = await store.get_dmp(s, caller.workspace, ins)
            if dmp is not None and caller.role is not Role.PROFESSIONAL and guard.target_ins(caller, None) != ins:
                dmp = None  # a patient only learns about their own DMP
            if dmp is not None:
                audit.writer(ctx).add(guard.audit_record(caller, ins, "td0.2", "0", None, entity=f"Patient/{ins}"))
            persona = await ctx.personas.get(caller.workspace, "patient", dmp.persona_id) if dmp else None
            patient = td02_patient.patient_resource(dmp, caller, persona) if dmp else None
            annotate(request, summary={"ins": ins, "dmp": "absent" if dmp is None else dmp.status})
            return fhir(td02_patient.searchset(ctx.settings.base_url, patient))
        return await guarded(request, "td0.2", run)

    @router.get("/AuditEvent")
    async def audit_events(request: Request) -> Response:
        async def run(caller: Caller) -> Response:
            items = list(request.query_params.multi_items())
            params = grouped(items)
            raw = (params.get("patient") or params.get("entity") or [""])[0]
            ins = raw.rstrip("/").rsplit("Patient/", 1)[-1] or None
            count, _ = count_offset(params)
            if caller.role is Role.PROFESSIONAL and not ins:
                raise FhirError(400, "required", "AuditEvent : paramètre patient requis", expression="patient")
            records = await patient_view.history(ctx, caller, ins, count or 100)
            return fhir(searchset(ctx.settings.base_url, "AuditEvent", [audit.to_fhir(r) for r in records],
                                  len(records), items, count, 0, []))
        return await guarded(request, "audit", run)

    return router

