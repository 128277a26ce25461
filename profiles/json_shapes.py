"""The general path of the base walkers: any value of a known element, and unknown keys,
reported when its JSON shape is not what the element takes (FHIR R4 §2.6.2 JSON representation:
arrays for repeating elements only, no null values or empty arrays, ``_name`` companions of
primitives; §2.24 primitive values). Values of the usual shape are handed back to
:mod:`profiles.structure`.
"""

from __future__ import annotations

from typing import Any

from profiles import primitives, structure
from profiles.base import COMPLEX, PRIMITIVE, RESOURCE, BaseModel, Child, ChildMap
from profiles.context import Ctx
from profiles.issues import IssueType
from profiles.literals import DecimalLiteral
from profiles.messages import MsgId


def found_name(v: object) -> str:
    if v is None:
        return "null"
    return "float" if v.__class__ is DecimalLiteral else type(v).__name__  # same words as validate()


def unknown_key(ctx: Ctx, model: BaseModel, cmap: ChildMap, node: dict[str, Any], key: str, val: Any,
                loc: str, resource: dict[str, Any], root: dict[str, Any]) -> None:
    """A key the element context does not define: a ``_name`` companion, or an unknown element."""
    if key[:1] == "_":
        _primitive_ext(ctx, model, cmap, node, key, val, loc, resource, root)
    else:
        ctx.error(IssueType.STRUCTURE, f"{loc}.{key}", MsgId.UNKNOWN_ELEMENT, name=key, context=cmap.path)


def unknown_or_general(ctx: Ctx, model: BaseModel, cmap: ChildMap, node: dict[str, Any], key: str, val: Any,
                       loc: str, resource: dict[str, Any], root: dict[str, Any]) -> bool:
    """The general path of one key of a context without choice elements (generated walkers)."""
    child = cmap.get(key)
    if child is None:
        unknown_key(ctx, model, cmap, node, key, val, loc, resource, root)
        return False
    return general_key(ctx, model, child, node, key, val, loc, resource, root)


def general_key(ctx: Ctx, model: BaseModel, child: Child, node: dict[str, Any], key: str, val: Any, loc: str,
                resource: dict[str, Any], root: dict[str, Any]) -> bool:
    """Any value of a known element, reported if need be; True when it went to child_value()
    (null, empty array, array for a single element...)."""
    cls = val.__class__
    if cls is list:
        mx = child.max
        if mx == 1 or not val:
            child_value(ctx, model, child, node, val, loc, resource, root)
            return True
        kind = child.kind
        if kind == COMPLEX:
            structure.array(ctx, model, child, val, loc, resource, root)
            return False
        label = child.label
        if 1 < mx < len(val):
            ctx.error(IssueType.STRUCTURE, f"{loc}.{label}", MsgId.MAX_CARDINALITY, name=child.name,
                      max=mx, count=len(val))
        if kind == PRIMITIVE:
            fast, post = child.fast, child.post
            companion = node.get("_" + key)
            for i, item in enumerate(val):
                if fast(item):
                    if post:
                        structure.primitive_post(ctx, child, item, f"{loc}.{label}[{i}]", resource, root)
                    continue
                at = f"{loc}.{label}[{i}]"
                if item is None:
                    if not (companion.__class__ is list and i < len(companion) and companion[i] is not None):
                        ctx.error(IssueType.STRUCTURE, at, MsgId.NULL_VALUE, name=child.name)
                    continue
                item_value(ctx, model, child, item, at, resource, root)
        else:
            for i, item in enumerate(val):
                if item is None:
                    ctx.error(IssueType.STRUCTURE, f"{loc}.{label}[{i}]", MsgId.NULL_VALUE, name=child.name)
                else:
                    item_value(ctx, model, child, item, f"{loc}.{label}[{i}]", resource, root)
        return False
    if child.plain:
        if child.fast(val):
            if child.post:
                structure.primitive_post(ctx, child, val, f"{loc}.{child.label}", resource, root)
            return False
    elif cls is dict and child.kind == COMPLEX and child.max == 1:
        structure.datatype(ctx, model, child, val, f"{loc}.{child.label}", resource, root)
        return False
    child_value(ctx, model, child, node, val, loc, resource, root)
    return True


def child_value(ctx: Ctx, model: BaseModel, child: Child, node: dict[str, Any], val: Any, loc: str,
                resource: dict[str, Any], root: dict[str, Any]) -> None:
    if child.plain and val.__class__ is not list and child.fast(val):
        if child.post:
            structure.primitive_post(ctx, child, val, f"{loc}.{child.label}", resource, root)
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
            item_value(ctx, model, child, item, at, resource, root)
    else:
        if child.max != 1:
            ctx.error(IssueType.STRUCTURE, f"{loc}.{label}", MsgId.ARRAY_EXPECTED, name=child.name)
            return
        at = f"{loc}.{label}"
        if val is None:
            ctx.error(IssueType.STRUCTURE, at, MsgId.NULL_VALUE, name=child.name)
            return
        if child.kind == RESOURCE and child.path == "Bundle.entry.resource":
            structure.entry_resource(ctx, model, child, node, val, at, resource, root)
            return
        item_value(ctx, model, child, val, at, resource, root)


def item_value(ctx: Ctx, model: BaseModel, child: Child, item: Any, at: str,
               resource: dict[str, Any], root: dict[str, Any]) -> None:
    kind = child.kind
    if kind == PRIMITIVE:
        problem = primitives.check(child.type, item)
        if problem is not None:
            msg, args = problem
            code = IssueType.STRUCTURE if msg == MsgId.PRIMITIVE_JSON_TYPE else IssueType.VALUE
            ctx.error(code, at, msg, **args)
            return
        structure.primitive_post(ctx, child, item, at, resource, root)
        return
    if not isinstance(item, dict):
        ctx.error(IssueType.STRUCTURE, at, MsgId.OBJECT_EXPECTED, name=child.name, type=child.type,
                  found=found_name(item))
        return
    if kind == RESOURCE:
        structure.validate_resource(ctx, item, at, root if child.name == "contained" else None)
        return
    structure.datatype(ctx, model, child, item, at, resource, root)


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
                      found=found_name(it))
            continue
        for k, v in it.items():
            c = elem_ctx.get(k)
            if c is None:
                ctx.error(IssueType.STRUCTURE, f"{at}.{k}", MsgId.UNKNOWN_ELEMENT, name=k, context="Element")
            else:
                if k == "extension":  # for profiles.extensions, as structure.array says
                    ctx.ext_resources.add(id(resource))
                child_value(ctx, model, c, it, v, at, resource, root)
