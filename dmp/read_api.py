"""What other packages (the conformance runner first) may read of the DMP, in the DMP's own domain
objects: a patient's DMP, a document, the access trail. Each call opens its own read session."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dmp import audit, store

if TYPE_CHECKING:
    from sandbox.context import SandboxContext


async def patient_dmp(ctx: SandboxContext, workspace: str, ins: str) -> store.Dmp | None:
    """The DMP of the patient with INS ``ins`` (None: no DMP, TD0.2)."""
    async with store.read_session(ctx.db) as s:
        return await store.get_dmp(s, workspace, ins)


async def document(ctx: SandboxContext, workspace: str, doc_id: str) -> store.Document | None:
    """A DocumentReference as stored (``resource`` as the vendor sent it, with the DMP's metadata)."""
    async with store.read_session(ctx.db) as s:
        return await store.get_document(s, workspace, doc_id)


async def access_trail(ctx: SandboxContext, workspace: str, ins: str, *, limit: int = 100) -> list[audit.AuditRecord]:
    """The patient's access and feeding trail, newest first (refusals included, FACTS §3.5)."""
    await audit.writer(ctx).flush()
    async with store.read_session(ctx.db) as s:
        return await audit.list_records(s, workspace, ins, limit=limit)
