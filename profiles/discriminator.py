"""Slicing discriminator paths (FHIR R4 §5.1.0.13 "Slicing": discriminator ``path``).

A discriminator path is a restricted FHIRPath expression evaluated on each item of the sliced
element: element names, ``$this`` (the item itself), ``extension('url')``, ``resolve()`` (the
resource a Reference points to: a contained resource or an entry of the enclosing Bundle) and
``ofType(T)`` (one type of a choice element). :func:`parse` splits a path into steps once;
:func:`values` evaluates them on an item; :func:`sub_rule` finds the slice's rule at the path.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from profiles.element_checks import Item, values_of

if TYPE_CHECKING:
    from profiles.context import Ctx
    from profiles.sdef import Rule

NAME, EXTENSION, RESOLVE, OF_TYPE = range(4)
Step = tuple[int, str]
Steps = tuple[Step, ...]

_TOKEN = re.compile(r"[^.(]+(?:\('[^']*'\)|\([^)]*\))?")


def parse(path: str) -> Steps | None:
    """The steps of ``path``; None for ``$this`` (the item itself)."""
    steps: list[Step] = []
    for tok in _TOKEN.findall(path):
        if tok == "$this":
            continue
        if tok == "resolve()":
            steps.append((RESOLVE, ""))
        elif tok.startswith("extension(") and tok.endswith(")"):
            steps.append((EXTENSION, tok[len("extension("):-1].strip("'\"")))
        elif tok.startswith(("ofType(", "as(")) and tok.endswith(")"):
            steps.append((OF_TYPE, tok[tok.index("(") + 1:-1].strip()))
        else:
            steps.append((NAME, tok))
    return tuple(steps) or None


def ends_with_resolve(steps: Steps | None) -> bool:
    return bool(steps) and steps[-1][0] == RESOLVE  # type: ignore[index]


def values(ctx: Ctx, value: Any, steps: Steps | None, res: dict[str, Any], root: dict[str, Any]) -> list[Item]:
    """The values at the path from ``value`` (each with its type code when a choice says it)."""
    if steps is None:
        return [(value, "", "")]
    cur: list[Item] = [(value, "", "")]
    for kind, arg in steps:
        nxt: list[Item] = []
        for v, _l, t in cur:
            if kind == NAME:
                nxt += values_of(v, arg, "") or values_of(v, arg + "[x]", "")
            elif kind == EXTENSION:
                exts = v.get("extension") if isinstance(v, dict) else None
                if isinstance(exts, list):
                    nxt += [(e, "", "") for e in exts if isinstance(e, dict) and e.get("url") == arg]
            elif kind == OF_TYPE:
                rt = v.get("resourceType") if isinstance(v, dict) else None
                if (rt if isinstance(rt, str) else t) == arg:
                    nxt.append((v, "", t))
            else:
                found = resolve(ctx, v, res, root)
                if found is not None:
                    nxt.append((found, "", found["resourceType"]))
        cur = nxt
    return cur


def resolve(ctx: Ctx, ref_value: Any, res: dict[str, Any], root: dict[str, Any]) -> dict[str, Any] | None:
    """The resource a Reference designates: ``#id`` in the container's ``contained``, or an entry
    of the Bundle that holds the resource (by fullUrl, then ``Type/id``); None if unresolved."""
    ref = ref_value.get("reference") if isinstance(ref_value, dict) else None
    if not isinstance(ref, str) or not ref:
        return None
    if ref.startswith("#"):
        for c in root.get("contained") or () if isinstance(root, dict) else ():
            if isinstance(c, dict) and c.get("id") == ref[1:] and isinstance(c.get("resourceType"), str):
                return c
        return None
    bid = ctx.entry_bundle.get(id(res))
    if bid is None:
        bid = ctx.entry_bundle.get(id(root))
    node = ctx.bundle_nodes.get(bid) if bid is not None else None
    if node is None:
        return None
    entries = node[0].get("entry")
    if not isinstance(entries, list):
        return None
    rel = ref.split("/_history/", 1)[0]
    for e in entries:
        r = e.get("resource") if isinstance(e, dict) else None
        if not isinstance(r, dict) or not isinstance(r.get("resourceType"), str):
            continue
        fu = e.get("fullUrl")
        if fu == ref or (isinstance(fu, str) and fu.endswith("/" + rel)) or f"{r['resourceType']}/{r.get('id')}" == rel:
            return r
    return None


def sub_rule(rule: Rule, steps: Steps | None, ext_urls: Any) -> Rule | None:
    """The slice's own rule at the discriminator path (None: the slice does not constrain it)."""
    if steps is None:
        return rule
    cur: Rule | None = rule
    for i, (kind, arg) in enumerate(steps):
        if cur is None:
            return None
        if kind == EXTENSION:
            ext = cur.children.get("extension")
            cur = next((s for s in (ext.slices.values() if ext else []) if arg in ext_urls(s)), None)
        elif kind == NAME:
            nxt = steps[i + 1] if i + 1 < len(steps) else None
            renamed = cur.children.get(arg + nxt[1][:1].upper() + nxt[1][1:]) if nxt and nxt[0] == OF_TYPE else None
            cur = renamed or cur.children.get(arg) or cur.children.get(arg + "[x]")
        # RESOLVE and OF_TYPE stay on the rule: its target profiles / its renamed choice
    return cur
