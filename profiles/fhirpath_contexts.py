"""FHIRPath contexts of use and context invariants of extensions (FHIR R4 §2.12.0.3
StructureDefinition.context of type ``fhirpath``, StructureDefinition.contextInvariant; issue 16
item 6).

- ``fhirpath`` context: the expression is evaluated on the resource holding the extension and
  selects the elements where it may appear; the holder must be one of them. Complex holders are
  matched by identity (fhirpathpy's raw result nodes keep the parsed objects); a primitive's
  ``_x`` companion by its element path, since fhirpathpy keeps no object for it.
- ``contextInvariant``: every expression holds on the holder (typed), with ``%extension`` the
  extension, ``%resource`` and ``%rootResource`` as in constraints.

Expressions are compiled once (fhirpathpy loads on the first one); one fhirpathpy cannot compile or
evaluate is accepted, never raised (the context check is not the place to fail on our engine's
limits), and reported once as information ``INV_NOT_EVALUATED``.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from profiles.context import Ctx
from profiles.invariants import _OPTIONS, _typed_node
from profiles.issues import IssueType
from profiles.messages import MsgId

_FAILED: Any = object()  # an expression fhirpathpy cannot compile


@cache
def _compiled(expression: str, raw: bool) -> Any:
    import fhirpathpy
    from fhirpathpy.models import models

    try:
        return fhirpathpy.compile(expression, models["r4"], {**_OPTIONS, "returnRawData": raw})
    except Exception:  # noqa: BLE001 - third-party parser errors vary
        return _FAILED


def selects(expression: str, res: dict[str, Any], holder: dict[str, Any], primitive_path: str | None) -> bool:
    """Whether ``expression``, evaluated on ``res``, selects ``holder`` (or, for a primitive's
    companion, an element at ``primitive_path``). True when it cannot be evaluated."""
    fp = _compiled(expression, True) if expression else _FAILED
    if fp is _FAILED:
        return True
    try:
        nodes = fp(res)
    except Exception:  # noqa: BLE001 - fhirpathpy raises plain Exception
        return True
    for n in nodes:
        if getattr(n, "data", n) is holder:
            return True
        if primitive_path is not None and getattr(n, "propName", None) == primitive_path:
            return True
    return False


def check_invariants(ctx: Ctx, sd: dict[str, Any], url: str, ext: dict[str, Any], holder: dict[str, Any],
                     holder_type: str, loc: str, res: dict[str, Any], root: dict[str, Any]) -> None:
    """The definition's ``contextInvariant`` expressions, each on the holder (error when false)."""
    invariants = sd.get("contextInvariant")
    if not isinstance(invariants, list):
        return
    from fhirpathpy.engine.nodes import ResourceNode

    for expr in invariants:
        if not isinstance(expr, str) or not expr:
            continue
        fp = _compiled(expr, False)
        try:
            if fp is _FAILED:
                raise ValueError("not compiled")
            focus = ResourceNode.create_node(holder, holder_type)
            result = fp(focus, {"extension": ResourceNode.create_node(ext, "Extension"), "context": focus,
                                "resource": _typed_node(res), "rootResource": _typed_node(root)})
        except Exception as exc:  # noqa: BLE001 - fhirpathpy raises plain Exception
            key = f"{url}#contextInvariant"
            if key not in ctx.not_evaluated:
                ctx.not_evaluated.add(key)
                ctx.info(IssueType.INFORMATIONAL, loc, MsgId.INVARIANT_NOT_EVALUATED, key=key,
                         reason=f"{type(exc).__name__}: {str(exc)[:80]}")
            continue
        if any(r is False for r in result) or not all(r is True for r in result if isinstance(r, bool)):
            ctx.error(IssueType.STRUCTURE, loc, MsgId.EXTENSION_CONTEXT_INVARIANT, url=url, rule=expr)
