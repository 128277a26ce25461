"""Base structural validation of R4 4.0.1 resources over parsed JSON.

Implements FHIR R4 §2.6.2 (JSON: arrays for repeating elements, no empty arrays/objects/strings,
``_name`` primitive companions, choice naming), §2.4 resource content (known elements, types,
cardinality), §2.24 primitives, required bindings of the base spec (:mod:`profiles.base_bindings`),
and base invariants (ele-1 natively, the others through :mod:`profiles.invariants`). Contained
resources and Bundle entries are validated as resources in their own right. The walkers take
the usual shapes of values here; any other value, and unknown keys, go to the general path
(:mod:`profiles.json_shapes`), which reports. Small datatypes and backbones are walked by
generated walkers (:mod:`profiles.walkers`) with the same outcome as :func:`walk`.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import orjson

from profiles import json_shapes, ucum, walkers
from profiles.base import COMPLEX, OP_ARRAY, OP_OBJECT, OP_PRIMITIVE, OP_PRIMITIVE_POST, BaseModel, Child, ChildMap
from profiles.base_bindings import bind_code, bind_codeable_concept, bind_coding
from profiles.context import Ctx, RefSite
from profiles.issues import IssueType
from profiles.messages import MsgId

_dumps = orjson.dumps


def validate_resource(ctx: Ctx, res: Any, loc: str, root: dict[str, Any] | None = None) -> bool:
    """Validate ``res`` as a resource; returns False if it is not walkable at all."""
    model = ctx.registry.model
    if not isinstance(res, dict):
        ctx.error(IssueType.STRUCTURE, loc, MsgId.NOT_AN_OBJECT, found=json_shapes.found_name(res))
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
        walk(ctx, model, res, model.childmap(rt), loc, res, root, True)
        ctx.bundle = saved
    else:
        walk(ctx, model, res, model.childmap(rt), loc, res, root, True)
    checks = model.type_checks(rt, "contained" in res or "_contained" in res)
    ctx.run_checks(checks, res, rt, res, root, loc)
    return True


def walk(ctx: Ctx, model: BaseModel, node: dict[str, Any], cmap: ChildMap, loc: str,
         resource: dict[str, Any], root: dict[str, Any], is_resource: bool = False) -> None:
    """Walk the object ``node`` of element context ``cmap``: the generic walker."""
    # Hot loop: the common shapes (valid primitive, object for a single datatype or backbone,
    # non-empty array of objects) are tried first, by the element's op (base.OP_*); everything
    # else takes the general path (general_key), which reports. Locations are formatted only for
    # what is walked further or reported.
    get = cmap.get
    choices: dict[str, list[str]] | None = None
    irregular = False  # a value went to child_value() (null, empty array...): count the required ones
    for key, val in node.items():
        child = get(key)
        if child is None:
            if not (key == "resourceType" and is_resource):
                json_shapes.unknown_key(ctx, model, cmap, node, key, val, loc, resource, root)
            continue
        op = child.op
        if op == OP_PRIMITIVE:
            if child.fast(val):
                continue
        elif op == OP_OBJECT:
            if val.__class__ is dict:
                if child.memo:
                    datatype(ctx, model, child, val, f"{loc}.{child.label}", resource, root)
                else:
                    walk_object(ctx, model, child, val, f"{loc}.{child.label}", resource, root)
                continue
        elif op == OP_ARRAY:
            if val.__class__ is list and val:
                array(ctx, model, child, val, loc, resource, root)
                continue
        elif op == OP_PRIMITIVE_POST:
            if child.fast(val):
                primitive_post(ctx, child, val, f"{loc}.{child.label}", resource, root)
                continue
        elif child.choice:
            if choices is None:
                choices = {}
            choices.setdefault(child.name, []).append(key)
            # the usual values of a choice, as general_key() takes them
            if child.plain and child.fast(val):
                if child.post:
                    primitive_post(ctx, child, val, f"{loc}.{child.label}", resource, root)
                continue
            if val.__class__ is dict and child.kind == COMPLEX and child.max == 1 and not child.memo:
                walk_object(ctx, model, child, val, f"{loc}.{child.label}", resource, root)
                continue
        if json_shapes.general_key(ctx, model, child, node, key, val, loc, resource, root):
            irregular = True
    if not is_resource and len(node) <= ("id" in node):
        ctx.error(IssueType.INVARIANT, loc, MsgId.EMPTY_ELEMENT)
    if choices:
        for name, keys in choices.items():
            if len(keys) > 1:
                ctx.error(IssueType.STRUCTURE, f"{loc}.{name}", MsgId.CHOICE_MULTIPLE, name=name,
                          found=", ".join(sorted(keys)))
    if cmap.required and (irregular or cmap.required_keys is None or not node.keys() >= cmap.required_keys):
        required(ctx, cmap, node, loc)


def required(ctx: Ctx, cmap: ChildMap, node: dict[str, Any], loc: str) -> None:
    """Count the elements with min > 0 under every spelling (choice types, ``_name``); the walkers
    skip this when each is present under its first key with a value that is neither null nor []."""
    for name, mn, keys in cmap.required:
        v = node.get(keys[0])
        if v is not None and mn == 1 and (v.__class__ is not list or v):
            continue
        count = 0
        for k in keys:
            v = node.get(k)
            if v is not None:
                n = len(v) if v.__class__ is list else 1
                count = max(count, n) if k[0] == "_" else count + n
        if count < mn:
            ctx.error(IssueType.REQUIRED, loc, MsgId.MIN_CARDINALITY, name=name, min=mn, count=count)


def child_map(model: BaseModel, child: Child) -> ChildMap:
    """The element context of a complex child (its datatype, or its own path for a backbone)."""
    cmap = child.cmap = model.childmap(child.ctx or child.type)
    return cmap


def array(ctx: Ctx, model: BaseModel, child: Child, val: list[Any], loc: str, resource: dict[str, Any],
          root: dict[str, Any]) -> None:
    """A non-empty array of a repeating complex element."""
    label = child.label
    if child.type == "Extension":  # for profiles.extensions: this resource has some to check
        ctx.ext_resources.add(id(resource))
    elif child.type == "Attachment":
        ctx.attachments += [(item, f"{loc}.{label}[{i}]") for i, item in enumerate(val) if item.__class__ is dict]
    if 1 < child.max < len(val):
        ctx.error(IssueType.STRUCTURE, f"{loc}.{label}", MsgId.MAX_CARDINALITY, name=child.name,
                  max=child.max, count=len(val))
    if child.memo:
        walk_sub = after_walk = None
    else:  # datatype() without memo, inlined below
        sub = child.cmap or child_map(model, child)
        walk_sub = sub.walk or walkers.walker(model, sub)
        after_walk = (child.after_fn or walkers.after_of(child)) if child.after else None
    for i, item in enumerate(val):
        if item.__class__ is dict:
            at = f"{loc}.{label}[{i}]"
            if walk_sub is None:
                datatype(ctx, model, child, item, at, resource, root)
            else:
                walk_sub(ctx, model, item, sub, at, resource, root)
                if after_walk is not None:
                    after_walk(ctx, item, at, resource, root)
        elif item is None:
            ctx.error(IssueType.STRUCTURE, f"{loc}.{label}[{i}]", MsgId.NULL_VALUE, name=child.name)
        else:
            json_shapes.item_value(ctx, model, child, item, f"{loc}.{label}[{i}]", resource, root)


def primitive_post(ctx: Ctx, child: Child, val: Any, at: str, resource: dict[str, Any],
                   root: dict[str, Any]) -> None:
    """Follow-ups of a primitive value whose format is valid (binding of a code, constraints)."""
    if child.binding is not None and child.type == "code":
        bind_code(ctx, child.binding, None, val, at)
    elif (child.type == "string" or child.type == "markdown") and (val[0].isspace() or val[-1].isspace()):
        ctx.warn(IssueType.VALUE, at, MsgId.PRIMITIVE_WHITESPACE, type=child.type)
    elif child.checks:
        ctx.run_checks(child.checks, val, child.path, resource, root, at)


def entry_resource(ctx: Ctx, model: BaseModel, child: Child, node: dict[str, Any], val: Any, at: str,
                   resource: dict[str, Any], root: dict[str, Any]) -> None:
    """The resource of a Bundle entry, walked with the entry's fullUrl at hand."""
    saved, fu = ctx.entry_fullurl, node.get("fullUrl")
    ctx.entry_fullurl = fu if isinstance(fu, str) else None
    ctx.entry_bundle[id(val)] = ctx.bundle
    json_shapes.item_value(ctx, model, child, val, at, resource, root)
    ctx.entry_fullurl = saved


def datatype(ctx: Ctx, model: BaseModel, child: Child, item: dict[str, Any], at: str,
             resource: dict[str, Any], root: dict[str, Any]) -> None:
    """An object for a datatype or backbone element (``child.kind == COMPLEX``)."""
    fast = child.ref_fast
    if fast is not False and len(item) == 1:
        # {"reference": "..."}: the most frequent object of all, checked without the generic walk
        # (same outcome: valid string, nothing required, ref-1 only for '#' references)
        if fast is None:
            fast = child.ref_fast = _reference_fast_path(model, child)
        ref = item.get("reference")
        if fast and ref.__class__ is str and fast(ref):
            ctx.refs.append(RefSite(ref, at, child.targets, ctx.entry_fullurl, ctx.bundle))
            if ref[0] == "#":
                ctx.run_checks(child.checks, item, child.ctx or child.type, resource, root, at)
            return
    if child.memo:
        # Datatype subtrees repeat inside one resource or Bundle (concepts, references, meta):
        # the outcome of an identical subtree at the same element is replayed, rebased on `at`.
        # The memo lives in this validation's context only; '#' (contained) references excluded.
        # Values orjson cannot serialise (decimal literals of validate_bytes) are never memoised.
        try:
            raw = _dumps(item)
        except TypeError:
            raw = None
        if raw is not None and b'xtension"' in raw:
            ctx.ext_resources.add(id(resource))  # the memo may replay this subtree without walking it
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
            walk_object(ctx, model, child, item, at, resource, root)
            if len(issues) == n_i and len(refs) == n_r:
                memo[key] = _CLEAN
                return
            cut = len(at)
            memo[key] = (
                tuple((i, i.expression[cut:]) for i in issues[n_i:] if i.message_id != "INV_NOT_EVALUATED"),
                tuple((r, r.location[cut:]) for r in refs[n_r:]),
            )
            return
    walk_object(ctx, model, child, item, at, resource, root)


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


def walk_object(ctx: Ctx, model: BaseModel, child: Child, item: dict[str, Any], at: str,
                resource: dict[str, Any], root: dict[str, Any]) -> None:
    """An object of a complex element, walked without memo, then followed up (:func:`after`)."""
    if child.type == "Attachment":  # for profiles.datatype_limits
        ctx.attachments.append((item, at))
    sub = child.cmap or child_map(model, child)
    (sub.walk or walkers.walker(model, sub))(ctx, model, item, sub, at, resource, root)
    if child.after:
        (child.after_fn or walkers.after_of(child))(ctx, item, at, resource, root)


def after(ctx: Ctx, child: Child, item: dict[str, Any], at: str, resource: dict[str, Any],
          root: dict[str, Any]) -> None:
    """What follows the walk of a complex value: its Reference, binding and constraints."""
    t = child.type
    if t == "Reference":
        ref = item.get("reference")
        if isinstance(ref, str):
            ctx.refs.append(RefSite(ref, at, child.targets, ctx.entry_fullurl, ctx.bundle))
    if child.binding is not None:
        if t == "CodeableConcept":
            bind_codeable_concept(ctx, child.binding, item, at)
        elif t == "Coding":
            bind_coding(ctx, child.binding, item, at)
        elif t == "Quantity" and isinstance(item.get("code"), str):
            bind_code(ctx, child.binding, item.get("system"), item["code"], at)
    if t in ucum.UCUM_TYPES:
        ucum.check_code(ctx, item, at)
    if child.checks:
        ctx.run_checks(child.checks, item, child.ctx or child.type, resource, root, at)
