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

from xml.parsers import expat

import fhirpathpy
from fhirpathpy.engine.nodes import ResourceNode
from fhirpathpy.models import models

Native = Callable[[Any, dict[str, Any], dict[str, Any]], bool]  # (node, %resource, %rootResource)


# names of choice elements in R4 (value[x], effective[x]...): only these need a prefix scan
CHOICE_NAMES: set[str] = set()  # filled from the base table by profiles.base


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
    if name not in CHOICE_NAMES:
        return []
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


def _exists_fn(steps: tuple[str, ...]) -> Callable[[Any], bool]:
    first = steps[0]
    alt = "_" + first

    def one(node: Any) -> bool:
        if node.__class__ is not dict:
            return False
        if first in node or alt in node:
            return node.get(first) is not None or node.get(alt) is not None
        return first in CHOICE_NAMES and bool(_present(node, first))

    if len(steps) == 1:
        return one
    return lambda node: one(node) and bool(_path(node, steps))


def _simple(expr: str) -> Native | None:
    """Natively compile ``a.exists() or b.c.empty() and ...`` (no other operators)."""
    ors = []
    for part in expr.split(" or "):
        ands = []
        for term in part.split(" and "):
            m = _TERM.fullmatch(term.strip())
            if not m:
                return None
            ands.append((_exists_fn(tuple(m.group(1).split("."))), m.group(2) == "exists"))
        ors.append(tuple(ands))
    ors_t = tuple(ors)

    def run(node: Any, _res: dict[str, Any], _root: dict[str, Any]) -> bool:
        for ands in ors_t:
            for fn, want in ands:
                if fn(node) != want:
                    break
            else:
                return True
        return False

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
    contained = root.get("contained")
    ids = {c.get("id") for c in contained if isinstance(c, dict) and isinstance(c.get("id"), str)} if isinstance(
        contained, list) else set()
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


_XHTML = "http://www.w3.org/1999/xhtml"
_FORBIDDEN = frozenset(("script", "form", "object", "embed", "iframe", "applet", "base", "link", "meta",
                        "input", "button", "select", "textarea", "frame", "frameset", "style"))


class _HtmlReject(Exception):
    pass


def _html(node: Any, _r: dict[str, Any], _root: dict[str, Any]) -> bool:
    """txt-1/txt-2: well-formed XHTML ``div`` in the XHTML namespace, no active content, not empty.

    Uses expat directly (C parser); DOCTYPE and entity declarations are refused, which keeps the
    entity-expansion attacks defusedxml guards against out."""
    if not isinstance(node, str):
        return True
    state = {"depth": 0, "content": False}

    def start(name: str, attrs: dict[str, str]) -> None:
        ns, _, local = name.rpartition(" ")
        if state["depth"] == 0 and (ns != _XHTML or local != "div"):
            raise _HtmlReject
        if local in _FORBIDDEN or any(a.rpartition(" ")[2].lower().startswith("on") for a in attrs):
            raise _HtmlReject
        if local == "img":
            state["content"] = True
        state["depth"] += 1

    def text(data: str) -> None:
        if not state["content"] and not data.isspace():
            state["content"] = True

    def refuse(*_args: Any) -> None:
        raise _HtmlReject

    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartElementHandler = start
    parser.CharacterDataHandler = text
    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    # HTML named entities (&nbsp; ...) are tolerated as the HL7 validator does: an (empty) foreign
    # DTD makes undefined entities skipped instead of fatal
    parser.UseForeignDTD(True)
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    try:
        parser.Parse(node, True)
    except (_HtmlReject, expat.ExpatError):
        return False
    return state["content"]


def _bdl8(node: Any, _r: dict[str, Any], _root: dict[str, Any]) -> bool:
    fu = node.get("fullUrl") if isinstance(node, dict) else None
    return not isinstance(fu, str) or "/_history/" not in fu


def _btype(node: Any) -> Any:
    return node.get("type") if isinstance(node, dict) else None


def _entries(node: Any) -> list[Any]:
    e = node.get("entry") if isinstance(node, dict) else None
    return [x for x in e if isinstance(x, dict)] if isinstance(e, list) else []


def _bdl3(node: Any, r: dict[str, Any], _root: dict[str, Any]) -> bool:
    want = _btype(r) in ("batch", "transaction", "history")
    return all(("request" in e) == want for e in _entries(node))


def _bdl4(node: Any, r: dict[str, Any], _root: dict[str, Any]) -> bool:
    want = _btype(r) in ("batch-response", "transaction-response", "history")
    return all(("response" in e) == want for e in _entries(node))


def _bdl7(node: Any, _r: dict[str, Any], _root: dict[str, Any]) -> bool:
    if _btype(node) == "history":
        return True
    seen: set[tuple[Any, Any]] = set()
    for e in _entries(node):
        fu = e.get("fullUrl")
        if fu is None:
            continue
        res = e.get("resource")
        meta = res.get("meta") if isinstance(res, dict) else None
        vid = meta.get("versionId") if isinstance(meta, dict) else None
        key = (str(fu), str(vid) if vid is not None else None)
        if key in seen:
            return False
        seen.add(key)
    return True


def _first_is(rt: str) -> Native:
    def run(node: Any, _r: dict[str, Any], _root: dict[str, Any]) -> bool:
        entries = _entries(node)
        res = entries[0].get("resource") if entries else None
        return isinstance(res, dict) and res.get("resourceType") == rt

    return run


def _doc(inner: Native, btype: str = "document") -> Native:
    return lambda n, r, root: _btype(n) != btype or inner(n, r, root)


_WHERE_SYS = re.compile(r"^([A-Za-z.]+)\.where\(system = '([^']+)'\)\.exists\(\)$")
_MATCHES = re.compile(r"^([A-Za-z]+)\.matches\('((?:[^'\\]|\\.)*)'\)$")


def _pattern_native(expr: str) -> Native | None:
    m = _WHERE_SYS.match(expr)
    if m:
        steps, system = tuple(m.group(1).split(".")), m.group(2)
        return lambda n, r, root: any(isinstance(c, dict) and c.get("system") == system for c in _path(n, steps))
    m = _MATCHES.match(expr)
    if m:
        name = m.group(1)
        rx = re.compile(m.group(2).replace("\\\\", "\\"))
        return lambda n, r, root: all(
            not isinstance(v, str) or rx.search(v) is not None for v in _present(n, name))
    return None


NATIVE: dict[str, Native] = {
    "total.empty() or (type = 'searchset') or (type = 'history')":
        lambda n, r, root: "total" not in n or _btype(n) in ("searchset", "history"),
    "entry.search.empty() or (type = 'searchset')":
        lambda n, r, root: _btype(n) == "searchset" or not any("search" in e for e in _entries(n)),
    "entry.all(request.exists() = (%resource.type = 'batch' or %resource.type = 'transaction' or %resource.type = 'history'))": _bdl3,
    "entry.all(response.exists() = (%resource.type = 'batch-response' or %resource.type = 'transaction-response' or %resource.type = 'history'))": _bdl4,
    "(type = 'history') or entry.where(fullUrl.exists()).select(fullUrl&resource.meta.versionId).isDistinct()": _bdl7,
    "type = 'document' implies (identifier.system.exists() and identifier.value.exists())":
        _doc(lambda n, r, root: bool(_path(n, ("identifier", "system"))) and bool(_path(n, ("identifier", "value")))),
    "type = 'document' implies (timestamp.hasValue())": _doc(lambda n, r, root: isinstance(n.get("timestamp"), str)),
    "type = 'document' implies entry.first().resource.is(Composition)": _doc(_first_is("Composition")),
    "type = 'message' implies entry.first().resource.is(MessageHeader)": _doc(_first_is("MessageHeader"), "message"),
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
    "traceFn": lambda *_args: None,  # trace() in constraints must not print
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
        self.native: Native | None = NATIVE.get(expression) or _simple(expression) or _pattern_native(expression)
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
