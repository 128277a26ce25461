"""Consultation use cases (TD3.1/TD3.2): ITI-67 search, DocumentReference read, ITI-66, ITI-68.
Each checks :mod:`dmp.access_rules`, applies the caller's visibility filters and writes a trace."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dmp import audit, document_urls, guard, iti66_lists, iti67_find, iti68_retrieve, store
from dmp.access_rules import Action, Decision
from dmp.auth import Caller
from dmp.search_params import grouped
from sandbox.errors import FhirError

if TYPE_CHECKING:
    from sandbox.context import SandboxContext


def _own_record(caller: Caller, items: list[tuple[str, str]]
                ) -> tuple[list[tuple[str, str]], dict[str, list[str]]]:
    """A patient (or representative) searching without naming a patient searches their own record."""
    params = grouped(items)
    if caller.role.value != "professional" and not params.get("patient") and not params.get("patient.identifier"):
        items = items + [("patient", guard.target_ins(caller, None))]
        params = grouped(items)
    return items, params


async def find_documents(ctx: SandboxContext, caller: Caller, items: list[tuple[str, str]]
                         ) -> tuple[dict[str, Any], Decision]:
    items, params = _own_record(caller, items)
    fq = iti67_find.parse(params, caller.workspace)
    async with store.read_session(ctx.db) as s:
        _, decision = await guard.check(s, caller, fq.ins, Action.CONSULT, "iti-67")
        docs, total = await iti67_find.run(s, fq, decision)
    audit.writer(ctx).add(guard.audit_record(caller, fq.ins, "iti-67", "0", decision,
                                             entity="DocumentReference?" + "&".join(f"{k}={v}" for k, v in items),
                                             results=len(docs)))
    base = ctx.settings.base_url  # stored content URLs are relative (dmp.document_urls)
    bundle = iti67_find.searchset(base, "DocumentReference", [document_urls.render(d.resource, base) for d in docs],
                                  total,
                                  items, fq.count, fq.offset, fq.ignored)
    return bundle, decision


async def read_document(ctx: SandboxContext, caller: Caller, doc_id: str) -> tuple[store.Document, Decision]:
    async with store.read_session(ctx.db) as s:
        doc = await store.get_document(s, caller.workspace, doc_id)
        if doc is None:
            raise FhirError(404, "not-found", f"DocumentReference/{doc_id[:64]} inconnu")
        _, decision = await guard.check(s, caller, doc.patient_ins, Action.CONSULT, "iti-67")
        if iti68_retrieve.hidden(doc, decision):
            raise FhirError(404, "not-found", f"DocumentReference/{doc_id[:64]} inconnu")
    audit.writer(ctx).add(guard.audit_record(caller, doc.patient_ins, "iti-67", "0", decision,
                                             entity=f"DocumentReference/{doc.id}"))
    return doc, decision


async def retrieve(ctx: SandboxContext, caller: Caller, binary_id: str) -> tuple[str, bytes, Decision]:
    async with store.read_session(ctx.db) as s:
        doc = await store.document_of_binary(s, caller.workspace, binary_id)
        if doc is None:
            raise FhirError(404, "not-found", f"Binary/{binary_id[:64]} inconnu")
        _, decision = await guard.check(s, caller, doc.patient_ins, Action.CONSULT, "iti-68")
        if iti68_retrieve.hidden(doc, decision):
            raise FhirError(404, "not-found", f"Binary/{binary_id[:64]} inconnu")
        found = await store.get_binary(s, caller.workspace, binary_id)
        if found is None:
            raise FhirError(404, "not-found", f"Binary/{binary_id[:64]} inconnu")
    audit.writer(ctx).add(guard.audit_record(caller, doc.patient_ins, "iti-68", "0", decision,
                                             entity=f"DocumentReference/{doc.id}"))
    return found[0], found[1], decision


async def find_lists(ctx: SandboxContext, caller: Caller, items: list[tuple[str, str]]
                     ) -> tuple[dict[str, Any], Decision]:
    items, params = _own_record(caller, items)
    lq = iti66_lists.parse(params, caller.workspace)
    async with store.read_session(ctx.db) as s:
        _, decision = await guard.check(s, caller, lq.ins, Action.CONSULT, "iti-66")
        lists, total = await iti66_lists.run(s, lq)
    audit.writer(ctx).add(guard.audit_record(caller, lq.ins, "iti-66", "0", decision,
                                             entity="List?" + "&".join(f"{k}={v}" for k, v in items)))
    return iti67_find.searchset(ctx.settings.base_url, "List", lists, total, items, lq.count, lq.offset,
                                lq.ignored), decision


async def read_list(ctx: SandboxContext, caller: Caller, list_id: str) -> dict[str, Any]:
    async with store.read_session(ctx.db) as s:
        row = await store.get_list(s, caller.workspace, list_id)
        if row is None:
            raise FhirError(404, "not-found", f"List/{list_id[:64]} inconnu")
        _, decision = await guard.check(s, caller, row.patient_ins, Action.CONSULT, "iti-66")
        resource = row.resource
    audit.writer(ctx).add(guard.audit_record(caller, row.patient_ins, "iti-66", "0", decision, entity=f"List/{row.id}"))
    return resource


async def write_refusal(ctx: SandboxContext, exc: FhirError) -> None:
    """Persist the trace a refused call carries (its own transaction was rolled back)."""
    if isinstance(exc, guard.AccessDenied) and exc.trace is not None:
        async with ctx.db.session() as s:
            await audit.record(s, exc.trace)
