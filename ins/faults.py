"""Fault kinds of the ``ins`` service (DESIGN "Fault injection"; registered, not switched).

Each kind names the INSi operations it applies to; :func:`plan` turns a fault taken from the
platform registry into what the SOAP adapter does: force a result code, delay, or answer a Fault.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ins.insi_errors import InsiError
from ins.insi_service import CR
from ins.insi_soap import Operation
from sandbox.faults import Fault
from sandbox.services import FaultKind

_BOTH = (Operation.TRAITS.value, Operation.VITALE.value)

FAULT_KINDS: tuple[FaultKind, ...] = (
    FaultKind("not_found", "INSi answers CR 01 (Aucune identite trouvee) whatever the traits", _BOTH),
    FaultKind("multiple", "INSi traits search answers CR 02 (Plusieurs identites trouvees)",
              (Operation.TRAITS.value,)),
    FaultKind("soap_fault", "INSi answers a SOAP Fault (HTTP 500) with siram:Erreur", _BOTH,
              {"code": "siram:Erreur code (default insi_102)",
               "message": "siram:Erreur text (optional)"}),
    FaultKind("timeout", "INSi waits before answering (client time-out handling)", _BOTH,
              {"delay_ms": "delay in milliseconds (default 30000)"}),
    FaultKind("stale_vitale", "INSi refuses the carte Vitale assertion as too old (insi_440)",
              (Operation.VITALE.value,)),
)
KIND_NAMES = tuple(k.name for k in FAULT_KINDS)


def kinds_for(operation: str) -> tuple[str, ...]:
    """Kinds that apply to ``operation`` (a fault scripted without an operation must not fire on
    an operation its kind does not apply to, e.g. ``stale_vitale`` on a traits search)."""
    return tuple(k.name for k in FAULT_KINDS if not k.operations or operation in k.operations)


@dataclass(frozen=True)
class FaultPlan:
    forced: CR | None = None
    delay_ms: int = 0
    error: InsiError | None = None
    code: str | None = None
    message: str = ""


def _timeout(params: dict, max_delay_ms: int) -> FaultPlan:
    try:
        delay = int(params.get("delay_ms", 30_000))
    except (TypeError, ValueError):
        delay = 30_000
    return FaultPlan(delay_ms=max(0, min(delay, max_delay_ms)))


def _soap_fault(params: dict, _max: int) -> FaultPlan:
    return FaultPlan(error=InsiError.TECHNICAL, code=str(params.get("code") or "insi_102")[:40],
                     message=str(params.get("message") or "")[:500])


#: fault kind -> planner(params, max_delay_ms)
PLANNERS: dict[str, Callable[[dict, int], FaultPlan]] = {
    "not_found": lambda _p, _m: FaultPlan(forced=CR.NOT_FOUND),
    "multiple": lambda _p, _m: FaultPlan(forced=CR.SEVERAL),
    "soap_fault": _soap_fault,
    "timeout": _timeout,
    "stale_vitale": lambda _p, _m: FaultPlan(error=InsiError.VITALE_STALE),
}


def plan(fault: Fault | None, max_delay_ms: int) -> FaultPlan:
    """What the adapter must do for ``fault`` (nothing special when ``None``)."""
    if fault is None:
        return FaultPlan()
    return PLANNERS[fault.kind](fault.params or {}, max_delay_ms)
