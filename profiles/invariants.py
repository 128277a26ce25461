"""FHIRPath invariants (FHIR R4 §2.4.0.5 constraints; FHIRPath N1).

Every expression is compiled once and cached. Frequent base invariants whose official expression
is known (ext-1, dom-2..6, ref-1, per-1, obs-6/7, txt-1/2...) and simple ``a.exists()`` /
``b.empty()`` combinations are evaluated natively with the same semantics; everything else goes
through ``fhirpathpy`` (R4 model). Expressions fhirpathpy cannot evaluate are skipped and reported
once per validation as information — never raised.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import Any

import fhirpathpy
from defusedxml import ElementTree as DET
from fhirpathpy.engine.nodes import ResourceNode
from fhirpathpy.models import models

Native = Callable[[Any, dict[str, Any], dict[str, Any]], bool]  # (node, %resource, %rootResource)
XHTML_NS = "{http://www.w3.org/1999/xhtml}"


def _present(node: Any, name: str) -> list[Any]:
    """Children ``name`` of a JSON node, choice types ([x]) and primitive extensions included."""
    if not isinstance(node, dict):
        return []
    if name in node:
        v = node[name]
        return v if isinstance(v, list) else [v]
    if "_" + name in node:
        v = node["_" + name]
        return v if isinstance(v, list) else [v]
    n = len(name)
    out: list[Any] = []
    for k, v in node.items():
        if len(k) > n and k.startswith(name) and k[n].isupper():
            out.extend(v if isinstance(v, list) else [v])
    return out


def _path(node: Any, steps: tuple[str, ...]) -> list[Any]:
    cur = [node]
    for s in steps:
        nxt: list[Any] = []
        for c in cur:
            nxt.extend(x for x in _present(c, s) if x is not None)
        cur = nxt
        if not cur:
            break
    return cur


_TERM = re.compile(r"\(?\s*([A-Za-z][A-Za-z0-9]*(?:\.[A-Za-z][A-Za-z0-9]*)*)\.(exists|empty)\(\)\s*\)?")


def _simple(expr: str) -> Native | None:
    """Natively compile ``a.exists() or b.c.empty() and ...`` (no other operators)."""
    ors = []
    for part in expr.split(" or "):
        ands = []
        for term in part.split(" and "):
            m = _TERM.fullmatch(term.strip())
            if not m:
                return None
            ands.append((tuple(m.group(1).split(".")), m.group(2) == "exists"))
        ors.append(tuple(ands))
    ors_t = tuple(ors)

    def run(node: Any, _res: dict[str, Any], _root: dict[str, Any]) -> bool:
        return any(all(bool(_path(node, p)) == want for p, want in ands) for ands in ors_t)

    return run


def _ext1(node: Any, _r: dict[str, Any], _root: dict[str, Any]) -> bool:
    return bool(_present(node, "extension")) != bool(_present(node, "value"))


def _strings(node: Any, acc: set[str]) -> None:
    if isinstance(node, dict):
        for v in node.values():
            _strings(v, acc)
    elif isinstance(node, list):
        for v in node:
            _strings(v, acc)
    elif isinstance(node, str) and node.startswith("#"):
        acc.add(node)


def _dom3(node: Any, _r: dict[str, Any], _root: dict[str, Any]) -> bool:
    contained = node.get("contained") if isinstance(node, dict) else None
    if not contained:
        return True
    refs: set[str] = set()
    _strings({k: v for k, v in node.items()}, refs)
    for c in contained if isinstance(contained, list) else [contained]:
        if not isinstance(c, dict):
            continue
        cid = c.get("id")
        if cid is not None and "#" + str(cid) in refs:
            continue
        back: set[str] = set()
        _strings(c, back)
        if "#" not in back:
            return False
    return True


def _ref1(node: Any, _r: dict[str, Any], root: dict[str, Any]) -> bool:
    ref = node.get("reference") if isinstance(node, dict) else None
    if not isinstance(ref, str) or not ref.startswith("#"):
        return True
    ids = {c.get("id") for c in root.get("contained", []) if isinstance(c, dict)} if isinstance(
        root.get("contained"), list) else set()
    return ref[1:] in ids


def _cmp_dates(a: Any, b: Any) -> bool:
    if not isinstance(a, str) or not isinstance(b, str):
        return True
    if len(a) >= 19 and len(b) >= 19 and a[19:] != b[19:]:
        from datetime import datetime

        try:
            return datetime.fromisoformat(a.replace("Z", "+00:00")) <= datetime.fromisoformat(b.replace("Z", "+00:00"))
        except ValueError:
            return True
    n = min(len(a), len(b), 19)
    return a[:n] <= b[:n]


def _per1(node: Any, _r: dict[str, Any], _root: dict[str, Any]) -> bool:
    return _cmp_dates(node.get("start"), node.get("end")) if isinstance(node, dict) else True


def _obs7(node: Any, _r: dict[str, Any], _root: dict[str, Any]) -> bool:
    if not _present(node, "value"):
        return True
    codings = [c for c in _path(node, ("code", "coding"))]
    for comp in _present(node, "component"):
        for c in _path(comp, ("code", "coding")):
            if c in codings:
                return False
    return True


def _html(node: Any, _r: dict[str, Any], _root: dict[str, Any]) -> bool:
    # txt-1/txt-2: well-formed XHTML div, no scripts/forms/event handlers, some content
    if not isinstance(node, str):
        return True
    try:
        root = DET.fromstring(node)
    except Exception:  # noqa: BLE001 - any parse failure is a failed check
        return False
    if root.tag != XHTML_NS + "div":
        return False
    for el in root.iter():
        local = el.tag.split("}")[-1] if isinstance(el.tag, str) else ""
        if local in ("script", "form", "object", "embed", "iframe", "applet", "base", "link", "meta"):
            return False
        if any(a.lower().startswith("on") for a in el.attrib):
            return False
    return bool("".join(root.itertext()).strip()) or any(
        (el.tag.split("}")[-1] == "img") for el in root.iter() if isinstance(el.tag, str))


def _bdl8(node: Any, _r: dict[str, Any], _root: dict[str, Any]) -> bool:
    fu = node.get("fullUrl") if isinstance(node, dict) else None
    return not isinstance(fu, str) or "/_history/" not in fu


NATIVE: dict[str, Native] = {
    "extension.exists() != value.exists()": _ext1,
    "contained.where((('#'+id in (%resource.descendants().reference | %resource.descendants().as(canonical) | %resource.descendants().as(uri) | %resource.descendants().as(url))) or descendants().where(reference = '#').exists() or descendants().where(as(canonical) = '#').exists() or descendants().where(as(canonical) = '#').exists()).not()).trace('unmatched', id).empty()": _dom3,
    "reference.startsWith('#').not() or (reference.substring(1).trace('url') in %rootResource.contained.id.trace('ids'))": _ref1,
    "start.hasValue().not() or end.hasValue().not() or (start <= end)": _per1,
    "value.empty() or component.code.where(coding.intersect(%resource.code.coding).exists()).empty()": _obs7,
    "htmlChecks()": _html,
    "fullUrl.exists() implies fullUrl.contains('/_history/').not()": _bdl8,
    "text.`div`.exists()": lambda n, r, root: bool(_path(n, ("text", "div"))),
}


def _has_value(inputs: list[Any]) -> list[bool]:
    return [len(inputs) == 1 and inputs[0] is not None and not isinstance(inputs[0], (dict, list))]


_OPTIONS = {
    "userInvocationTable": {
        "hasValue": {"fn": _has_value, "arity": {0: []}},
    }
}


class NotEvaluable(Exception):
    """fhirpathpy cannot compile or evaluate the expression."""


class Compiled:
    __slots__ = ("expression", "native", "fp", "error")

    def __init__(self, expression: str) -> None:
        self.expression = expression
        self.native: Native | None = NATIVE.get(expression) or _simple(expression)
        self.fp: Any = None
        self.error: str | None = None
        if self.native is None:
            try:
                self.fp = fhirpathpy.compile(expression, models["r4"], _OPTIONS)
            except Exception as exc:  # noqa: BLE001 - third-party parser errors vary
                self.error = f"{type(exc).__name__}: {str(exc)[:80]}"

    def __call__(self, node: Any, type_path: str, resource: dict[str, Any], root: dict[str, Any]) -> bool:
        if self.native is not None:
            return self.native(node, resource, root)
        if self.fp is None:
            raise NotEvaluable(self.error or "not compiled")
        try:
            result = self.fp(ResourceNode.create_node(node, type_path),
                             {"resource": resource, "rootResource": root})
        except Exception as exc:  # noqa: BLE001 - fhirpathpy raises plain Exception
            raise NotEvaluable(f"{type(exc).__name__}: {str(exc)[:80]}") from None
        if not result:
            return True
        return all(r is True for r in result if isinstance(r, bool)) and not any(r is False for r in result)


@cache
def compiled(expression: str) -> Compiled:
    return Compiled(expression)
