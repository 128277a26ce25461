"""Applying :mod:`dmp.access_rules` to a call: load the DMP, decide, trace refusals, raise the
FHIR error (FACTS §3.5: every access, granted or refused, is traced)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from dmp import audit, store
from dmp.access_rules import AccessRequest, Action, Decision, Role, decide
from dmp.auth import Caller
from dmp.store import Dmp
from sandbox.errors import FhirError


class AccessDenied(FhirError):
    """A refusal by :mod:`dmp.access_rules`; carries the trace to write once the caller's
    transaction has been rolled back (:func:`dmp.consult.write_refusal`)."""

    def __init__(self, decision: Decision, trace: audit.AuditRecord | None) -> None:
        super().__init__(decision.status, decision.code, f"[{decision.rule}] {decision.text}")
        self.decision = decision
        self.trace = trace


def request_for(caller: Caller, action: Action, dmp: Dmp | None, **kw: Any) -> AccessRequest:
    return AccessRequest(caller.role, caller.actor_id, action, dmp.facts() if dmp else None, caller.mode,
                         actor_ins=caller.ins, regulator=caller.regulator, **kw)


def target_ins(caller: Caller, ins: str | None) -> str:
    """The patient a call is about; patients default to themselves (representatives: the minor)."""
    if ins:
        return ins
    if caller.role is Role.PATIENT:
        return caller.ins
    if caller.role is Role.LEGAL_REP:
        return caller.represents
    return ""


def audit_record(caller: Caller, ins: str, operation: str, outcome: str, decision: Decision | None,
                 entity: str = "", **detail: Any) -> audit.AuditRecord:
    info = {k: v for k, v in detail.items() if v is not None}
    if decision is not None:
        info["rule"] = decision.rule
        if not decision.allowed:
            info["reason"] = decision.text
    return audit.AuditRecord(caller.workspace, ins, operation, outcome, caller.role.value, caller.actor_id,
                             caller.name, caller.client_id, caller.mode.value,
                             bool(decision and decision.emergency), entity, info)


_LOAD = object()


async def check(s: AsyncSession, caller: Caller, ins: str, action: Action, operation: str,
                dmp: Any = _LOAD, **kw: Any) -> tuple[Dmp, Decision]:
    """The DMP and the (allowed) decision; otherwise :class:`AccessDenied` with its trace."""
    if dmp is _LOAD:
        dmp = await store.get_dmp(s, caller.workspace, ins) if ins else None
    return dmp, allowed(caller, ins, action, operation, dmp, **kw)


def allowed(caller: Caller, ins: str, action: Action, operation: str, dmp: Dmp | None, **kw: Any) -> Decision:
    """The decision on ``dmp`` (already loaded) if it allows; otherwise :class:`AccessDenied`."""
    decision = decide(request_for(caller, action, dmp, **kw))
    if not decision.allowed:
        raise AccessDenied(decision, audit_record(caller, ins, operation, "4", decision) if dmp else None)
    return decision
