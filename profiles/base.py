"""The R4 4.0.1 base model: element facts from the generated table, indexed for walking.

Source: ``profiles/data/r4-base.json.gz`` written by :mod:`profiles.gen_base` from the official
StructureDefinitions (FHIR R4 §2.4 resources, §2.24 datatypes, §2.6.1 JSON choice-type naming
``value[x]`` → ``valueQuantity``). For each element context (a type name such as ``Quantity`` or a
backbone path such as ``Observation.referenceRange``) :meth:`BaseModel.childmap` gives the allowed
JSON keys with their facts; maps are built once and cached.
"""

from __future__ import annotations

import gzip
from functools import cache
from pathlib import Path
from typing import Any

import orjson

from profiles.corrected_invariants import apply_corrections
from profiles.invariants import CHOICE_NAMES, CONTAINED_ONLY, compiled

TABLE = Path(__file__).parent / "data" / "r4-base.json.gz"

PRIMITIVE, COMPLEX, RESOURCE = 0, 1, 2
# How the base walkers first try a value of an element (structure.walk, walkers): a single
# primitive (with or without follow-ups), a single object, an array of objects, a single resource
# (generated walkers only). Choices, arrays of primitives or resources, and any value not of the
# expected JSON shape take the general path.
OP_GENERAL, OP_PRIMITIVE, OP_PRIMITIVE_POST, OP_OBJECT, OP_ARRAY, OP_RESOURCE = range(6)
Inv = tuple[str, str, str]  # key, severity, expression
_MEMO_TYPES = frozenset(("CodeableConcept", "Reference", "Meta"))
_ANY_RESOURCE = ("Resource", "DomainResource")


class Child:
    """One allowed JSON key under an element context."""

    __slots__ = (
        "key", "name", "path", "min", "max", "type", "kind", "choice", "binding", "inv", "ctx",
        "targets", "type_profiles", "label", "checks", "fast", "plain", "post", "memo", "cmap",
        "after", "after_fn", "ref_fast", "op",
    )

    def __init__(self, key: str, name: str, path: str, facts: dict[str, Any], type_code: str,
                 kind: int, choice: bool, ctx: str | None, targets: tuple[str, ...],
                 type_profiles: tuple[str, ...], inv: tuple[Inv, ...]) -> None:
        self.key = key
        self.name = name
        self.path = path
        self.min: int = facts.get("min", 0)
        mx = facts.get("max", "*")
        self.max: int = -1 if mx == "*" else int(mx)
        self.type = type_code
        self.kind = kind
        self.choice = choice
        self.binding: str | None = facts.get("b")
        self.inv = inv
        # constraints compiled once: (key, severity, expression, Compiled)
        seen_expr: set[str] = set()
        checks = []
        for k, sv, e in inv:
            if e not in seen_expr:  # txt-1 and txt-2 share one expression: evaluate once
                seen_expr.add(e)
                checks.append((k, sv, e, compiled(e)))
        self.checks = tuple(checks)
        self.fast: Any = None  # primitive fast predicate, set by BaseModel
        self.plain = False  # single-valued primitive with a fast predicate
        # follow-ups of a primitive the fast predicate accepted (string/markdown outer whitespace is
        # part of their fast predicate: a value with it takes the general path and its warning)
        self.post = bool((self.binding and type_code == "code") or self.checks)
        # datatype subtrees that often repeat within one Bundle are memoised per validation
        # (structure.datatype); unique ones (narratives, quantities...) would only pay for the key,
        # and a lone Coding or Period costs less to walk than to key
        self.memo = kind == COMPLEX and ctx == type_code and type_code in _MEMO_TYPES
        self.ctx = ctx
        self.cmap: ChildMap | None = None  # children of this element's context, set on first walk
        # something to do once a complex value is walked (structure.after, walkers.after_of)
        # (a Coding: its code is parsed when its system is UCUM, profiles.ucum.check_code)
        self.after = type_code in ("Reference", "Coding") or self.binding is not None or bool(self.checks)
        self.after_fn: Any = None  # walkers.after_of, generated on first use
        # structure._reference_fast_path of a Reference, computed on first use; False otherwise
        self.ref_fast: Any = None if type_code == "Reference" else False
        self.op = OP_GENERAL  # set by BaseModel once `fast` and `plain` are known
        self.targets = targets
        self.type_profiles = type_profiles
        # location segment: FHIRPath form for choices (value.ofType(Quantity))
        self.label = f"{name}.ofType({type_code})" if choice else name


class ChildMap(dict):  # type: ignore[type-arg]
    """JSON key -> Child of one element context (``path``), plus the elements with min > 0
    (name, min, keys) and, when they all have min 1, the first JSON key of each (the usual
    spelling: present, they are satisfied), and the walker of its objects."""

    __slots__ = ("required", "required_keys", "path", "walk")


class BaseModel:
    def __init__(self, table: dict[str, Any]) -> None:
        apply_corrections(table)  # R4 expressions that contradict their own text (item 10)
        self.table = table
        self.types: dict[str, Any] = table["types"]
        self.constraints: dict[str, Any] = table["constraints"]
        self.valuesets: dict[str, dict[str, list[str]]] = table["valuesets"]
        self.not_enumerable: set[str] = set(table["notEnumerable"])
        #: core extension definitions: url -> context of use, value types, binding, parts
        self.extensions: dict[str, dict[str, Any]] = table.get("extensions", {})
        #: core profiles a resource must meet by its content (vital signs), compact differentials
        self.core_profiles: list[dict[str, Any]] = table.get("profiles", [])
        self.elements: dict[str, dict[str, Any]] = {}
        self.children: dict[str, list[str]] = {}
        for t in self.types.values():
            for path, facts in t["el"].items():
                self.elements[path] = facts
                if path.endswith("[x]"):
                    CHOICE_NAMES.add(path.rsplit(".", 1)[1][:-3])
                self.children.setdefault(path.rsplit(".", 1)[0], []).append(path)
        self._maps: dict[str, dict[str, Child]] = {}
        self._type_checks: dict[tuple[str, bool], tuple[tuple[str, str, str, Any], ...]] = {}
        self._required: dict[str, list[tuple[str, int, tuple[str, ...]]]] = {}
        self.resource_types = frozenset(
            n for n, t in self.types.items() if t["kind"] == "resource" and not t["abstract"]
        )

    def is_primitive(self, code: str) -> bool:
        t = self.types.get(code)
        return t is not None and t["kind"] == "primitive-type"

    def type_inv(self, code: str) -> tuple[Inv, ...]:
        """Root invariants of a type and of its ancestors (e.g. Quantity → Element)."""
        out: list[Inv] = []
        seen: set[str] = set()
        while code and code in self.types and code not in seen:
            seen.add(code)
            for k, s, e in self.types[code].get("inv", []):
                out.append((k, s, e))
            code = self.types[code].get("base") or ""
        return tuple(out)

    def type_checks(self, code: str, contained: bool = True) -> tuple[tuple[str, str, str, Any], ...]:
        """Compiled root constraints of a type; ``contained=False`` leaves out those that hold
        whenever the resource has no ``contained`` (dom-2..5)."""
        c = self._type_checks.get((code, contained))
        if c is None:
            # a resource's own list repeats its ancestors' constraints (dom-* on Observation and on
            # DomainResource): an identical (key, expression) is evaluated once
            seen: set[tuple[str, str]] = set()
            out = []
            for k, s, e in self.type_inv(code):
                if (k, e) not in seen and (contained or e not in CONTAINED_ONLY):
                    seen.add((k, e))
                    out.append((k, s, e, compiled(e)))
            c = self._type_checks[(code, contained)] = tuple(out)
        return c

    def childmap(self, ctx: str) -> ChildMap:
        m = self._maps.get(ctx)
        if m is None:
            m = self._build(ctx)
            self._maps[ctx] = m
        return m

    def required(self, ctx: str) -> list[tuple[str, int, tuple[str, ...]]]:
        """(name, min, json keys) for elements with min > 0 under ``ctx``."""
        r = self._required.get(ctx)
        if r is None:
            self.childmap(ctx)
            r = self._required[ctx]
        return r

    def _build(self, ctx: str) -> dict[str, Child]:
        from profiles.primitives import fast_checker

        out = ChildMap()
        out.path = ctx
        out.walk = None  # its walker, set on first walk (profiles.walkers)
        req: list[tuple[str, int, tuple[str, ...]]] = []
        for path in self.children.get(ctx, []):
            facts = self.elements[path]
            raw = path.rsplit(".", 1)[1]
            choice = raw.endswith("[x]")
            name = raw[:-3] if choice else raw
            keys: list[str] = []
            if "cr" in facts:  # contentReference: same children as the referenced backbone
                ref = facts["cr"]
                c = out[name] = Child(name, name, path, facts, "BackboneElement", COMPLEX, False, ref,
                                      (), (), tuple(tuple(i) for i in facts.get("inv", [])))
                c.op = _op(c)
                keys.append(name)
            for t in facts.get("t", []):
                code = t[0]
                if raw == "id" and code == "string" and self.types.get(ctx, {}).get("kind") == "resource":
                    code = "id"  # Resource.id is an id (FHIR R4 §2.4.0.1), typed System.String in the SD
                extra = tuple(t[1]) if len(t) > 1 else ()
                if code in ("BackboneElement", "Element"):
                    kind, cctx = COMPLEX, path
                elif code == "Resource" or code in self.resource_types or code == "DomainResource":
                    kind, cctx = RESOURCE, None
                elif self.is_primitive(code):
                    kind, cctx = PRIMITIVE, None
                else:
                    kind, cctx = COMPLEX, code
                key = name + code[0].upper() + code[1:] if choice else name
                inv = tuple(tuple(i) for i in facts.get("inv", []))
                if kind == COMPLEX:
                    inv = _merge(inv, self.type_inv(code) if cctx == code else ())
                    for prof in extra if code not in ("Reference", "canonical") else ():
                        inv = _merge(inv, tuple(tuple(i) for i in self.constraints.get(prof, {}).get("inv", [])))
                ref_like = code in ("Reference", "canonical")
                # Reference(Resource) or Reference(DomainResource): any resource, no type to check
                targets = tuple(t for t in extra if t not in _ANY_RESOURCE) if ref_like else ()
                profiles = () if ref_like else extra
                c = out[key] = Child(key, name, path, facts, code, kind, choice, cctx, targets, profiles, inv)
                if kind == PRIMITIVE:
                    c.fast = fast_checker(code)
                    c.plain = c.max == 1
                c.op = _op(c)
                keys.append(key)
            if facts.get("min", 0) > 0:
                req.append((name, facts["min"], tuple(keys)))
        self._required[ctx] = req
        out.required = tuple((n, m, tuple(k for k in ks) + tuple("_" + k for k in ks)) for n, m, ks in req)
        out.required_keys = frozenset(ks[0] for _n, _m, ks in req) if all(m == 1 for _n, m, _ks in req) else None
        return out


def _op(c: Child) -> int:
    if c.choice:
        return OP_GENERAL
    if c.plain:
        return OP_PRIMITIVE_POST if c.post else OP_PRIMITIVE
    if c.kind == COMPLEX:
        return OP_OBJECT if c.max == 1 else OP_ARRAY
    return OP_RESOURCE if c.kind == RESOURCE and c.max == 1 else OP_GENERAL


def _merge(a: tuple[Inv, ...], b: tuple[Inv, ...]) -> tuple[Inv, ...]:
    if not b:
        return a
    keys = {i[0] for i in a}
    return a + tuple(i for i in b if i[0] not in keys)


@cache
def base_model() -> BaseModel:
    return BaseModel(orjson.loads(gzip.decompress(TABLE.read_bytes())))
