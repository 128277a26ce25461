"""Is the patient's INS qualified? (FACTS §1.4 RNIV, appendix B "only QUAL may emit the INS";
feeding the DMP requires it, §3.5.)

Asked of ``ins``'s public API (:func:`ins.qualification`), which reads the RNIV status of the
workspace's reference identities. When ``ins`` holds no identity for the matricule, the workspace's
patient persona decides (``identity_status`` == ``QUAL``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from ins import NotQualified, Qualification, Status, qualification

if TYPE_CHECKING:
    from sandbox.context import SandboxContext


async def _no_persona() -> str:
    return ""


async def _qualification(ctx: SandboxContext, workspace: str, ins: str,
                         persona_of: Callable[[], Awaitable[str]]) -> Qualification:
    found = await qualification(ctx.db, workspace, ins)
    if found.reason is not NotQualified.UNKNOWN:
        return found
    persona_id = await persona_of()
    if not persona_id:
        return found
    persona = await ctx.personas.get(workspace, "patient", persona_id)
    raw = str((persona or {}).get("identity_status") or "")
    if persona is None or raw not in Status.__members__:
        return found
    status = Status(raw)
    return Qualification(ins, status, None if status is Status.QUAL else NotQualified.STATUS)


async def patient_qualification(ctx: SandboxContext, workspace: str, ins: str,
                                persona_of: Callable[[], Awaitable[str]] = _no_persona) -> Qualification:
    """Cached per process (:mod:`dmp.cache`): until a change is recorded (statuses change on
    workspace reset), 60 s at most. ``persona_of`` names the patient persona of ``ins``'s DMP; it is
    asked only when ``ins`` holds no identity for the matricule (rare: a read saved per call)."""
    from dmp.cache import cache

    return await cache(ctx, "rniv", 60.0).get((workspace, ins),
                                               lambda: _qualification(ctx, workspace, ins, persona_of))
