"""Fault kinds of the DMP (DESIGN "Fault injection"), scripted through
``/sandbox/api/workspaces/{ws}/faults`` with ``service: "dmp"``:

- ``unavailable`` — 503 + ``Retry-After`` (param ``retry_after``, seconds, default 30);
- ``slow`` — answers after ``delay_ms`` milliseconds (default 2000, at most 30000);
- ``reject_next`` — the next call answers a chosen OperationOutcome (params ``status`` default 422,
  ``code`` default ``processing``, ``diagnostics``, or a full ``outcome`` resource);
- ``conflict`` — the next write (ITI-65, PATCH) answers 409.

Operations: ``iti-65``, ``iti-66``, ``iti-67``, ``iti-68``, ``pdsm-patch``, ``td0.2``, ``audit``.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from sandbox.errors import FhirError
from sandbox.services import FaultKind

if TYPE_CHECKING:
    from sandbox.context import SandboxContext

OPERATIONS = ("iti-65", "iti-66", "iti-67", "iti-68", "pdsm-patch", "td0.2", "audit")
WRITES = ("iti-65", "pdsm-patch")

FAULT_KINDS = (
    FaultKind("unavailable", "Le DMP répond 503 Service Unavailable avec Retry-After.", OPERATIONS,
              {"retry_after": "secondes annoncées dans Retry-After (défaut 30)"}),
    FaultKind("slow", "Le DMP répond après un délai.", OPERATIONS,
              {"delay_ms": "délai en millisecondes (défaut 2000)"}),
    FaultKind("reject_next", "Le prochain appel est refusé avec l'OperationOutcome choisi.", OPERATIONS,
              {"status": "statut HTTP (défaut 422)", "code": "IssueType FHIR (défaut processing)",
               "diagnostics": "texte", "outcome": "OperationOutcome complet (optionnel)"}),
    FaultKind("conflict", "La prochaine écriture (ITI-65, PATCH) répond 409 Conflict.", WRITES),
)


class InjectedOutcome(FhirError):
    """A ``reject_next`` fault carrying a whole OperationOutcome."""

    def __init__(self, status: int, outcome: dict) -> None:
        super().__init__(status, "processing", "fault reject_next", issues=list(outcome.get("issue") or []))


async def apply(ctx: SandboxContext, workspace: str, operation: str) -> None:
    """Act on the scripted fault for this call, if any (raises the FHIR error to answer)."""
    kinds = ("unavailable", "slow", "reject_next") + (("conflict",) if operation in WRITES else ())
    fault = await ctx.faults.take(workspace, "dmp", operation, kinds=kinds)
    if fault is None:
        return
    p = fault.params
    if fault.kind == "unavailable":
        raise FhirError(503, "transient", "DMP indisponible (fault unavailable)",
                        headers={"Retry-After": str(int(p.get("retry_after", 30)))})
    if fault.kind == "slow":
        await asyncio.sleep(min(max(int(p.get("delay_ms", 2000)), 0), 30000) / 1000)
        return
    if fault.kind == "conflict":
        raise FhirError(409, "conflict", "conflit d'écriture simulé (fault conflict)")
    status = int(p.get("status", 422))
    status = status if 400 <= status <= 599 else 422
    if isinstance(p.get("outcome"), dict):
        raise InjectedOutcome(status, p["outcome"])
    raise FhirError(status, str(p.get("code", "processing")),
                    str(p.get("diagnostics", "refus simulé (fault reject_next)")))
