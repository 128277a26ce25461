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

from profiles.narrative import html_checks

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


def _may_be_choice(name: str) -> bool:
    # before the base table is read, any name may be a choice: decided when evaluated
    return name in CHOICE_NAMES or not CHOICE_NAMES


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
    """Natively compile ``a.exists() or b.c.empty() and ...`` (no other operators) into one
    generated boolean expression over the node."""
    ors = []
    for part in expr.split(" or "):
        ands = []
        for term in part.split(" and "):
            m = _TERM.fullmatch(term.strip())
            if not m:
                return None
            ands.append((tuple(m.group(1).split(".")), m.group(2) == "exists"))
        ors.append(ands)
    names: dict[str, Any] = {"CHOICE_NAMES": CHOICE_NAMES, "_present": _present}
    groups = []
    for ands in ors:
        tests = []
        for steps, want in ands:
            name, alt = steps[0], "_" + steps[0]
            if len(steps) > 1:
                path = f"path{len(tests)}_{len(groups)}"
                names[path] = _exists_fn(steps)
                has = f"{path}(node)"
            else:  # what _exists_fn does for one step, inline
                has = f"get({name!r}) is not None or get({alt!r}) is not None"
                if _may_be_choice(name):
                    has += (f" or ({name!r} not in node and {alt!r} not in node and {name!r} in CHOICE_NAMES"
                            f" and bool(_present(node, {name!r})))")
            tests.append(f"({has})" if want else f"not ({has})")
        groups.append(" and ".join(tests))
    # what is not an object has nothing: a group holds when all its terms want absence
    if_not_dict = any(all(not want for _steps, want in ands) for ands in ors)
    source = "\n".join([
        "def simple(node, _res, _root):",
        "    if node.__class__ is not dict:",
        f"        return {if_not_dict}",
        "    get = node.get",
        f"    return {' or '.join(f'({g})' for g in groups)}",
    ]) + "\n"
    exec(compile(source, f"<constraint {expr}>", "exec"), names)  # noqa: S102 - generated above
    return names["simple"]


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
    # without components the expression holds whatever the value: test that first (cheaper)
    if not _present(node, "component") or not _present(node, "value"):
        return True
    codings = [c for c in _path(node, ("code", "coding"))]
    for comp in _present(node, "component"):
        for c in _path(comp, ("code", "coding")):
            if c in codings:
                return False
    return True


def _dom6(node: Any, _r: dict[str, Any], _root: dict[str, Any]) -> bool:
    if node.__class__ is dict:
        text = node["text"] if "text" in node else node.get("_text")
        if text.__class__ is dict:
            div = text["div"] if "div" in text else text.get("_div")
            if div is not None and div.__class__ is not list:
                return True  # the usual shape; anything else takes the general path
    return bool(_path(node, ("text", "div")))


def _bdl8(node: Any, _r: dict[str, Any], _root: dict[str, Any]) -> bool:
    fu = node.get("fullUrl") if isinstance(node, dict) else None
    return not isinstance(fu, str) or "/_history/" not in fu


def _btype(node: Any) -> Any:
    return node.get("type") if isinstance(node, dict) else None


def _entries(node: Any) -> list[Any]:
    e = node.get("entry") if isinstance(node, dict) else None
    return [x for x in e if isinstance(x, dict)] if isinstance(e, list) else []


def _each_entry_has(node: Any, key: str, want: bool) -> bool:
    for e in _entries(node):
        if (key in e) != want:
            return False
    return True


def _bdl3(node: Any, r: dict[str, Any], _root: dict[str, Any]) -> bool:
    return _each_entry_has(node, "request", _btype(r) in ("batch", "transaction", "history"))


def _bdl4(node: Any, r: dict[str, Any], _root: dict[str, Any]) -> bool:
    return _each_entry_has(node, "response", _btype(r) in ("batch-response", "transaction-response", "history"))


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

        def where_system(n: Any, _r: dict[str, Any], _root: dict[str, Any]) -> bool:
            for c in _path(n, steps):
                if isinstance(c, dict) and c.get("system") == system:
                    return True
            return False

        return where_system
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
    "entry.all(request.exists() = (%resource.type = 'batch' or %resource.type = 'transaction' or %resource.type = 'history'))": _bdl3,  # noqa: E501 - official expression text
    "entry.all(response.exists() = (%resource.type = 'batch-response' or %resource.type = 'transaction-response' or %resource.type = 'history'))": _bdl4,  # noqa: E501 - official expression text
    "(type = 'history') or entry.where(fullUrl.exists()).select(fullUrl&resource.meta.versionId).isDistinct()": _bdl7,
    "type = 'document' implies (identifier.system.exists() and identifier.value.exists())":
        _doc(lambda n, r, root: bool(_path(n, ("identifier", "system"))) and bool(_path(n, ("identifier", "value")))),
    "type = 'document' implies (timestamp.hasValue())": _doc(lambda n, r, root: isinstance(n.get("timestamp"), str)),
    "type = 'document' implies entry.first().resource.is(Composition)": _doc(_first_is("Composition")),
    "type = 'message' implies entry.first().resource.is(MessageHeader)": _doc(_first_is("MessageHeader"), "message"),
    "extension.exists() != value.exists()": _ext1,
    "contained.where((('#'+id in (%resource.descendants().reference | %resource.descendants().as(canonical) | %resource.descendants().as(uri) | %resource.descendants().as(url))) or descendants().where(reference = '#').exists() or descendants().where(as(canonical) = '#').exists() or descendants().where(as(canonical) = '#').exists()).not()).trace('unmatched', id).empty()": _dom3,  # noqa: E501 - official expression text
    "reference.startsWith('#').not() or (reference.substring(1).trace('url') in %rootResource.contained.id.trace('ids'))": _ref1,  # noqa: E501 - official expression text
    "start.hasValue().not() or end.hasValue().not() or (start <= end)": _per1,
    "value.empty() or component.code.where(coding.intersect(%resource.code.coding).exists()).empty()": _obs7,
    "htmlChecks()": html_checks,
    "fullUrl.exists() implies fullUrl.contains('/_history/').not()": _bdl8,
    "text.`div`.exists()": _dom6,
}


#: DomainResource constraints that hold whenever the resource has no ``contained`` (nor
#: ``_contained``): the base walker skips them for such resources
CONTAINED_ONLY = frozenset((
    "contained.contained.empty()",
    next(e for e in NATIVE if e.startswith("contained.where(")),
    "contained.meta.versionId.empty() and contained.meta.lastUpdated.empty()",
    "contained.meta.security.empty()",
))


def _has_value(inputs: list[Any]) -> list[bool]:
    return [len(inputs) == 1 and inputs[0] is not None and not isinstance(inputs[0], (dict, list))]


_OPTIONS = {
    "traceFn": lambda *_args: None,  # trace() in constraints must not print
    "userInvocationTable": {
        "hasValue": {"fn": _has_value, "arity": {0: []}},
    }
}


def _typed_node(res: Any) -> Any:
    from fhirpathpy.engine.nodes import ResourceNode

    rt = res.get("resourceType") if isinstance(res, dict) else None
    return ResourceNode.create_node(res, rt) if isinstance(rt, str) else res


class NotEvaluable(Exception):
    """fhirpathpy cannot compile or evaluate the expression."""


class Compiled:
    __slots__ = ("expression", "native", "fp", "error")

    def __init__(self, expression: str) -> None:
        self.expression = expression
        self.native: Native | None = NATIVE.get(expression) or _simple(expression) or _pattern_native(expression)
        # fhirpathpy (and its parser) is loaded and run on first evaluation only: most constraints
        # are native, and a constraint on an absent element is never evaluated
        self.fp: Any = None
        self.error: str | None = None

    def _compile(self) -> Any:
        import fhirpathpy
        from fhirpathpy.models import models

        try:
            self.fp = fhirpathpy.compile(self.expression, models["r4"], _OPTIONS)
        except Exception as exc:  # noqa: BLE001 - third-party parser errors vary
            self.error = f"{type(exc).__name__}: {str(exc)[:80]}"
        return self.fp

    def __call__(self, node: Any, type_path: str, resource: dict[str, Any], root: dict[str, Any]) -> bool:
        if self.native is not None:
            return self.native(node, resource, root)
        fp = self.fp
        if fp is None and (self.error is not None or (fp := self._compile()) is None):
            raise NotEvaluable(self.error or "not compiled")
        from fhirpathpy.engine.nodes import ResourceNode

        try:
            # %resource, %rootResource and %context are typed nodes, so that `is`, `as` and
            # type() see FHIR types (FHIR R4 §2.4.0.5 "variables"); %ucum is fhirpathpy's own
            context = ResourceNode.create_node(node, type_path)
            result = fp(context, {"resource": _typed_node(resource), "rootResource": _typed_node(root),
                                       "context": context})
        except Exception as exc:  # noqa: BLE001 - fhirpathpy raises plain Exception
            raise NotEvaluable(f"{type(exc).__name__}: {str(exc)[:80]}") from None
        if not result:
            return True
        return all(r is True for r in result if isinstance(r, bool)) and not any(r is False for r in result)


@cache
def compiled(expression: str) -> Compiled:
    return Compiled(expression)
