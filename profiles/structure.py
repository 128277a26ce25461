"""Base structural validation of R4 4.0.1 resources over parsed JSON.

Implements FHIR R4 §2.6.2 (JSON: arrays for repeating elements, no empty arrays/objects/strings,
``_name`` primitive companions, choice naming), §2.4 resource content (known elements, types,
cardinality), §2.24 primitives, required bindings of the base spec, and base invariants (ele-1
natively, the others through :mod:`profiles.invariants`). Contained resources and Bundle entries
are validated as resources in their own right.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import orjson

from profiles import primitives
from profiles.base import COMPLEX, PRIMITIVE, RESOURCE, BaseModel, Child, ChildMap
from profiles.context import Ctx, RefSite
from profiles.issues import IssueType, Severity
from profiles.literals import DecimalLiteral
from profiles.messages import MsgId

_SKIP_ROOT = frozenset(("resourceType",))
_dumps = orjson.dumps


def _found(v: object) -> str:
    if v is None:
        return "null"
    return "float" if v.__class__ is DecimalLiteral else type(v).__name__  # same words as validate()


def validate_resource(ctx: Ctx, res: Any, loc: str, root: dict[str, Any] | None = None) -> bool:
    """Validate ``res`` as a resource; returns False if it is not walkable at all."""
    model = ctx.registry.model
    if not isinstance(res, dict):
        ctx.error(IssueType.STRUCTURE, loc, MsgId.NOT_AN_OBJECT, found=_found(res))
        return False
    rt = res.get("resourceType")
    if not isinstance(rt, str) or not rt:
        ctx.error(IssueType.REQUIRED, loc, MsgId.NO_RESOURCE_TYPE)
        return False
    t = model.types.get(rt)
    if t is None or t["kind"] != "resource":
        ctx.error(IssueType.STRUCTURE, loc, MsgId.UNKNOWN_RESOURCE_TYPE, name=rt)
        return False
    if t["abstract"]:
        ctx.error(IssueType.STRUCTURE, loc, MsgId.ABSTRACT_RESOURCE_TYPE, name=rt)
        return False
    root = res if root is None else root
    if rt == "Bundle":
        saved = ctx.bundle
        ctx.bundle = id(res)
        ctx.bundle_nodes[id(res)] = (res, loc)
        _walk(ctx, model, res, model.childmap(rt), loc, res, root, True)
        ctx.bundle = saved
    else:
        _walk(ctx, model, res, model.childmap(rt), loc, res, root, True)
    checks = model.type_checks(rt, "contained" in res or "_contained" in res)
    ctx.run_checks(checks, res, rt, res, root, loc)
    return True


def _walk(ctx: Ctx, model: BaseModel, node: dict[str, Any], cmap: ChildMap, loc: str,
          resource: dict[str, Any], root: dict[str, Any], is_resource: bool = False) -> None:
    # Hot loop: the common shapes (valid primitive, object for a single datatype or backbone,
    # non-empty array within bounds) are handled here; everything else goes to _child, which
    # reports. Locations are formatted only for what is walked further or reported.
    get = cmap.get
    choices: dict[str, list[str]] | None = None
    for key, val in node.items():
        child = get(key)
        if child is None:
            if key == "resourceType" and is_resource:
                continue
            if key[:1] == "_":
                _primitive_ext(ctx, model, cmap, node, key, val, loc, resource, root)
            else:
                ctx.error(IssueType.STRUCTURE, f"{loc}.{key}", MsgId.UNKNOWN_ELEMENT, name=key, context=cmap.path)
            continue
        if child.choice:
            if choices is None:
                choices = {}
            choices.setdefault(child.name, []).append(key)
        cls = val.__class__
        if cls is list:
            mx = child.max
            if mx == 1 or not val:
                _child(ctx, model, child, node, val, loc, resource, root)
                continue
            label = child.label
            if 1 < mx < len(val):
                ctx.error(IssueType.STRUCTURE, f"{loc}.{label}", MsgId.MAX_CARDINALITY, name=child.name,
                          max=mx, count=len(val))
            kind = child.kind
            if kind == PRIMITIVE:
                fast, post = child.fast, child.post
                companion = node.get("_" + key)
                for i, item in enumerate(val):
                    if fast(item):
                        if post:
                            _primitive_post(ctx, child, item, f"{loc}.{label}[{i}]", resource, root)
                        continue
                    at = f"{loc}.{label}[{i}]"
                    if item is None:
                        if not (companion.__class__ is list and i < len(companion) and companion[i] is not None):
                            ctx.error(IssueType.STRUCTURE, at, MsgId.NULL_VALUE, name=child.name)
                        continue
                    _item(ctx, model, child, item, at, resource, root)
            elif kind == COMPLEX:
                for i, item in enumerate(val):
                    if item.__class__ is dict:
                        _datatype(ctx, model, child, item, f"{loc}.{label}[{i}]", resource, root)
                    elif item is None:
                        ctx.error(IssueType.STRUCTURE, f"{loc}.{label}[{i}]", MsgId.NULL_VALUE, name=child.name)
                    else:
                        _item(ctx, model, child, item, f"{loc}.{label}[{i}]", resource, root)
            else:
                for i, item in enumerate(val):
                    if item is None:
                        ctx.error(IssueType.STRUCTURE, f"{loc}.{label}[{i}]", MsgId.NULL_VALUE, name=child.name)
                    else:
                        _item(ctx, model, child, item, f"{loc}.{label}[{i}]", resource, root)
            continue
        if child.plain:
            if child.fast(val):
                # valid single primitive: only the element-specific follow-ups remain
                if child.post:
                    _primitive_post(ctx, child, val, f"{loc}.{child.label}", resource, root)
                continue
        elif cls is dict and child.kind == COMPLEX and child.max == 1:
            _datatype(ctx, model, child, val, f"{loc}.{child.label}", resource, root)
            continue
        _child(ctx, model, child, node, val, loc, resource, root)
    if not is_resource and len(node) <= ("id" in node):
        ctx.error(IssueType.INVARIANT, loc, MsgId.EMPTY_ELEMENT)
    if choices:
        for name, keys in choices.items():
            if len(keys) > 1:
                ctx.error(IssueType.STRUCTURE, f"{loc}.{name}", MsgId.CHOICE_MULTIPLE, name=name,
                          found=", ".join(sorted(keys)))
    for name, mn, keys in cmap.required:
        v = node.get(keys[0])
        if v is not None and mn == 1 and (v.__class__ is not list or v):
            continue  # the usual case: present once or more
        count = 0
        for k in keys:
            v = node.get(k)
            if v is not None:
                n = len(v) if v.__class__ is list else 1
                count = max(count, n) if k[0] == "_" else count + n
        if count < mn:
            ctx.error(IssueType.REQUIRED, loc, MsgId.MIN_CARDINALITY, name=name, min=mn, count=count)


def _primitive_post(ctx: Ctx, child: Child, val: Any, at: str, resource: dict[str, Any],
                    root: dict[str, Any]) -> None:
    """Follow-ups of a primitive value whose format is valid (binding of a code, constraints)."""
    if child.binding is not None and child.type == "code":
        _bind_code(ctx, child.binding, None, val, at)
    elif (child.type == "string" or child.type == "markdown") and (val[0].isspace() or val[-1].isspace()):
        ctx.warn(IssueType.VALUE, at, MsgId.PRIMITIVE_WHITESPACE, type=child.type)
    elif child.checks:
        ctx.run_checks(child.checks, val, child.path, resource, root, at)


def _child(ctx: Ctx, model: BaseModel, child: Child, node: dict[str, Any], val: Any, loc: str,
           resource: dict[str, Any], root: dict[str, Any]) -> None:
    if child.plain and val.__class__ is not list and child.fast(val):
        if child.post:
            _primitive_post(ctx, child, val, f"{loc}.{child.label}", resource, root)
        return
    label = child.label
    if isinstance(val, list):
        if child.max == 1:
            ctx.error(IssueType.STRUCTURE, f"{loc}.{label}", MsgId.ARRAY_NOT_ALLOWED, name=child.name)
            return
        if not val:
            ctx.error(IssueType.STRUCTURE, f"{loc}.{label}", MsgId.EMPTY_ARRAY, name=child.name)
            return
        if 1 < child.max < len(val):
            ctx.error(IssueType.STRUCTURE, f"{loc}.{label}", MsgId.MAX_CARDINALITY, name=child.name,
                      max=child.max, count=len(val))
        companion = node.get("_" + child.key) if child.kind == PRIMITIVE else None
        for i, item in enumerate(val):
            at = f"{loc}.{label}[{i}]"
            if item is None:
                if not (isinstance(companion, list) and i < len(companion) and companion[i] is not None):
                    ctx.error(IssueType.STRUCTURE, at, MsgId.NULL_VALUE, name=child.name)
                continue
            _item(ctx, model, child, item, at, resource, root)
    else:
        if child.max != 1:
            ctx.error(IssueType.STRUCTURE, f"{loc}.{label}", MsgId.ARRAY_EXPECTED, name=child.name)
            return
        at = f"{loc}.{label}"
        if val is None:
            ctx.error(IssueType.STRUCTURE, at, MsgId.NULL_VALUE, name=child.name)
            return
        if child.kind == RESOURCE and child.path == "Bundle.entry.resource":
            saved, fu = ctx.entry_fullurl, node.get("fullUrl")
            ctx.entry_fullurl = fu if isinstance(fu, str) else None
            ctx.entry_bundle[id(val)] = ctx.bundle
            _item(ctx, model, child, val, at, resource, root)
            ctx.entry_fullurl = saved
            return
        _item(ctx, model, child, val, at, resource, root)


def _item(ctx: Ctx, model: BaseModel, child: Child, item: Any, at: str,
          resource: dict[str, Any], root: dict[str, Any]) -> None:
    kind = child.kind
    if kind == PRIMITIVE:
        problem = primitives.check(child.type, item)
        if problem is not None:
            msg, args = problem
            code = IssueType.STRUCTURE if msg == MsgId.PRIMITIVE_JSON_TYPE else IssueType.VALUE
            ctx.error(code, at, msg, **args)
            return
        _primitive_post(ctx, child, item, at, resource, root)
        return
    if not isinstance(item, dict):
        ctx.error(IssueType.STRUCTURE, at, MsgId.OBJECT_EXPECTED, name=child.name, type=child.type,
                  found=_found(item))
        return
    if kind == RESOURCE:
        validate_resource(ctx, item, at, root if child.name == "contained" else None)
        return
    _datatype(ctx, model, child, item, at, resource, root)


def _datatype(ctx: Ctx, model: BaseModel, child: Child, item: dict[str, Any], at: str,
              resource: dict[str, Any], root: dict[str, Any]) -> None:
    """An object for a datatype or backbone element (``child.kind == COMPLEX``)."""
    if child.type == "Reference" and len(item) == 1:
        # {"reference": "..."}: the most frequent object of all, checked without the generic walk
        # (same outcome: valid string, nothing required, ref-1 only for '#' references)
        fast = child.ref_fast
        if fast is None:
            fast = child.ref_fast = _reference_fast_path(model, child)
        ref = item.get("reference")
        if fast and ref.__class__ is str and fast(ref):
            ctx.refs.append(RefSite(ref, at, child.targets, ctx.entry_fullurl, ctx.bundle))
            if ref[0] == "#":
                ctx.run_checks(child.checks, item, child.ctx or child.type, resource, root, at)
            return
    if child.memo:
        # Datatype subtrees repeat inside one resource or Bundle (codings, references, meta):
        # the outcome of an identical subtree at the same element is replayed, rebased on `at`.
        # The memo lives in this validation's context only; '#' (contained) references excluded.
        # Values orjson cannot serialise (decimal literals of validate_bytes) are never memoised.
        try:
            raw = _dumps(item)
        except TypeError:
            raw = None
        if raw is not None and b'"#' not in raw:
            key = (id(child), raw)
            memo = ctx.memo
            hit = memo.get(key)
            if hit is not None:
                if hit is not _CLEAN:
                    _replay(ctx, hit, at)
                return
            issues, refs = ctx.issues, ctx.refs
            n_i, n_r = len(issues), len(refs)
            _complex(ctx, model, child, item, at, resource, root)
            if len(issues) == n_i and len(refs) == n_r:
                memo[key] = _CLEAN
                return
            cut = len(at)
            memo[key] = (
                tuple((i, i.expression[cut:]) for i in issues[n_i:] if i.message_id != "INV_NOT_EVALUATED"),
                tuple((r, r.location[cut:]) for r in refs[n_r:]),
            )
            return
    # unmemoised (backbones, unique datatypes): _complex inlined, this is the hot path
    cmap = child.cmap
    if cmap is None:
        cmap = child.cmap = model.childmap(child.ctx or child.type)
    _walk(ctx, model, item, cmap, at, resource, root)
    if child.after:
        _after(ctx, child, item, at, resource, root)


_CLEAN: tuple[tuple[Any, ...], tuple[Any, ...]] = ((), ())


def _reference_fast_path(model: BaseModel, child: Child) -> Any:
    """The string predicate of ``Reference.reference`` when ``child`` is a plain Reference (no
    binding, ref-1 its only constraint, nothing required); False otherwise."""
    cmap = model.childmap("Reference")
    ref_child = cmap.get("reference")
    plain = (child.ctx == "Reference" and child.binding is None and not cmap.required
             and [k for k, _s, _e, _c in child.checks] == ["ref-1"]
             and ref_child is not None and ref_child.plain and not ref_child.post)
    return ref_child.fast if plain else False


def _replay(ctx: Ctx, hit: tuple[tuple[Any, ...], tuple[Any, ...]], at: str) -> None:
    issues, refs = hit
    for i, suffix in issues:
        ctx.issues.append(replace(i, expression=at + suffix))
    for r, suffix in refs:
        ctx.refs.append(RefSite(r.reference, at + suffix, r.targets, ctx.entry_fullurl, ctx.bundle))


def _complex(ctx: Ctx, model: BaseModel, child: Child, item: dict[str, Any], at: str,
             resource: dict[str, Any], root: dict[str, Any]) -> None:
    cmap = child.cmap
    if cmap is None:
        cmap = child.cmap = model.childmap(child.ctx or child.type)
    _walk(ctx, model, item, cmap, at, resource, root)
    if child.after:
        _after(ctx, child, item, at, resource, root)


def _after(ctx: Ctx, child: Child, item: dict[str, Any], at: str, resource: dict[str, Any],
           root: dict[str, Any]) -> None:
    """What follows the walk of a complex value: its Reference, binding and constraints."""
    t = child.type
    if t == "Reference":
        ref = item.get("reference")
        if isinstance(ref, str):
            ctx.refs.append(RefSite(ref, at, child.targets, ctx.entry_fullurl, ctx.bundle))
    if child.binding is not None:
        if t == "CodeableConcept":
            _bind_cc(ctx, child.binding, item, at)
        elif t == "Coding":
            _bind_coding(ctx, child.binding, item, at)
        elif t == "Quantity" and isinstance(item.get("code"), str):
            _bind_code(ctx, child.binding, item.get("system"), item["code"], at)
    if child.checks:
        ctx.run_checks(child.checks, item, child.ctx or child.type, resource, root, at)


def _primitive_ext(ctx: Ctx, model: BaseModel, cmap: dict[str, Child], node: dict[str, Any],
                   key: str, val: Any, loc: str, resource: dict[str, Any], root: dict[str, Any]) -> None:
    name = key[1:]
    child = cmap.get(name)
    if child is None or child.kind != PRIMITIVE:
        ctx.error(IssueType.STRUCTURE, f"{loc}.{key}", MsgId.UNKNOWN_ELEMENT, name=key,
                  context=loc.rsplit(".", 1)[-1])
        return
    main = node.get(name)
    items = val if isinstance(val, list) else [val]
    if isinstance(val, list) != (child.max != 1) or (
        isinstance(val, list) and main is not None and (not isinstance(main, list) or len(main) != len(val))
    ):
        ctx.error(IssueType.STRUCTURE, f"{loc}.{key}", MsgId.PRIMITIVE_EXT_MISMATCH, name=name)
        return
    elem_ctx = model.childmap("Element")
    for i, it in enumerate(items):
        if it is None:
            continue
        at = f"{loc}.{child.label}[{i}]" if isinstance(val, list) else f"{loc}.{child.label}"
        if not isinstance(it, dict):
            ctx.error(IssueType.STRUCTURE, at, MsgId.OBJECT_EXPECTED, name=key, type="Element",
                      found=_found(it))
            continue
        for k, v in it.items():
            c = elem_ctx.get(k)
            if c is None:
                ctx.error(IssueType.STRUCTURE, f"{at}.{k}", MsgId.UNKNOWN_ELEMENT, name=k, context="Element")
            else:
                _child(ctx, model, c, it, v, at, resource, root)


# --- bindings (required, base spec) -------------------------------------------------------

def _code_label(system: str | None, code: object) -> str:
    return f"{system}#{code}" if system else f"'{code}'"


def _bind_code(ctx: Ctx, vs: str, system: str | None, code: Any, at: str) -> None:
    term = ctx.registry.terminology
    if system is None and code.__class__ is str:
        idx = term.index(vs)
        if idx is not None and code in idx.codes:
            return  # the usual case, decided without the general lookup
    ok, _alias = term.member(vs, system, code)
    if ok is False:
        ctx.error(IssueType.CODE_INVALID, at, MsgId.CODE_NOT_IN_VS, code=_code_label(system, code), vs=vs)


def _bind_coding(ctx: Ctx, vs: str, coding: dict[str, Any], at: str) -> None:
    code = coding.get("code")
    if isinstance(code, str):
        _bind_code(ctx, vs, coding.get("system") if isinstance(coding.get("system"), str) else None, code, at)


def _bind_cc(ctx: Ctx, vs: str, cc: dict[str, Any], at: str) -> None:
    codings = cc.get("coding")
    if not isinstance(codings, list) or not codings:
        return
    term = ctx.registry.terminology
    seen: list[str] = []
    for c in codings:
        if not isinstance(c, dict) or not isinstance(c.get("code"), str):
            continue
        ok, _ = term.member(vs, c.get("system"), c["code"])
        if ok is not False:
            return
        seen.append(_code_label(c.get("system"), c["code"]))
    if seen:
        ctx.rule(False, Severity.ERROR, IssueType.CODE_INVALID, at, MsgId.CODE_NOT_IN_VS,
                 code=", ".join(seen), vs=vs)
