"""Is the patient's INS qualified? (FACTS §1.4 RNIV, appendix B "only QUAL may emit the INS";
feeding the DMP requires it, §3.5.)

The one place asking ``ins/``: its identity repository
(:meth:`ins.identities.IdentityRepository.by_matricule`), which holds the RNIV status of each
reference identity of the workspace. If ``ins`` has no identity for the matricule (older data,
``ins`` not seeded), the workspace's patient persona decides (``identity_status`` == ``QUAL``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sandbox.context import SandboxContext

QUALIFIED = "QUAL"


async def identity_status(ctx: SandboxContext, workspace: str, ins: str, persona_id: str = "") -> str | None:
    """RNIV status of the identity holding INS ``ins`` (15 characters), None if unknown."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        from ins.identities import IdentityRepository

        found = await IdentityRepository(ctx.db).by_matricule(workspace, ins[:13])
    except (ImportError, SQLAlchemyError):  # ins not installed or its tables absent: use the personas
        found = []
    for ident in found:
        if ident.ins.value == ins:
            return str(ident.status.value if hasattr(ident.status, "value") else ident.status)
    if persona_id:
        persona = await ctx.personas.get(workspace, "patient", persona_id)
        if persona is not None:
            return str(persona.get("identity_status") or "")
    return None


async def is_qualified(ctx: SandboxContext, workspace: str, ins: str, persona_id: str = "") -> bool:
    """Cached per process (:mod:`dmp.cache`): until a change is recorded (statuses change on workspace reset), 60 s at most."""
    from dmp.cache import cache

    status = await cache(ctx, "rniv", 60.0).get((workspace, ins),
                                               lambda: identity_status(ctx, workspace, ins, persona_id))
    return status == QUALIFIED
