"""Walkers generated per element context: the outcome of :func:`profiles.structure.walk` with
less work per key, for small datatypes and backbones (FHIR R4 §2.6.2 JSON representation).

For a context without choice elements and with few children (Coding, Quantity, Identifier,
Narrative, Bundle.entry...), :func:`walker` generates once a function that tests the keys in a
fixed order (``if key == "system": ...``; ``id`` and extensions last), checks a valid primitive
inline (the test of :func:`profiles.primitives.fast_source`) with its follow-ups (binding of a
code, constraints) in place, and passes a valid object, array of objects or resource on as the
generic walker does. Anything else — unknown keys, other shapes, invalid values — takes the
general path (``json_shapes.unknown_or_general``). Other contexts are walked by
``structure.walk`` itself. :func:`after_of` likewise writes out the constraints that follow the
walk of an object.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from profiles import json_shapes, structure, ucum
from profiles.base import (
    OP_ARRAY,
    OP_OBJECT,
    OP_PRIMITIVE,
    OP_PRIMITIVE_POST,
    OP_RESOURCE,
    BaseModel,
    Child,
    ChildMap,
)
from profiles.base_bindings import bind_code
from profiles.issues import IssueType
from profiles.messages import MsgId
from profiles.primitives import fast_source

#: (ctx, model, node, cmap, location, %resource, %rootResource, is_resource)
Walker = Callable[..., None]
#: contexts with more children keep the generic walker: there a dictionary lookup costs less
#: than the chain of key tests
MAX_CHILDREN = 16
_RARE = ("id", "extension", "modifierExtension")


def walker(model: BaseModel, cmap: ChildMap) -> Walker:
    """The walker of the objects of element context ``cmap``, chosen (generated) on first use."""
    w = cmap.walk
    if w is None:
        small = len(cmap) <= MAX_CHILDREN and not any(c.choice for c in cmap.values())
        w = cmap.walk = _generate(cmap) if small and cmap.path not in model.resource_types else structure.walk
    return w


def _generate(cmap: ChildMap) -> Walker:
    names: dict[str, Any] = {
        "IssueType": IssueType, "MsgId": MsgId, "general": json_shapes.unknown_or_general,
        "datatype": structure.datatype, "array": structure.array, "child_map": structure.child_map,
        "walker": walker, "required": structure.required, "REQUIRED": cmap.required_keys, "bind_code": bind_code,
        "entry_resource": structure.entry_resource, "validate_resource": structure.validate_resource,
    }
    count = bool(cmap.required) and cmap.required_keys is not None  # irregular values to track
    lines = ["def walk(ctx, model, node, cmap, loc, resource, root, is_resource=False):"]
    if count:
        lines.append("    irregular = False")
    lines.append("    for key, v in node.items():")
    test = "if"
    for i, key in enumerate([k for k in cmap if k not in _RARE] + [k for k in cmap if k in _RARE]):
        body = _fast_path(cmap[key], f"c{i}", names)
        if body:
            names[f"c{i}"] = cmap[key]
            lines.append(f"        {test} key == {key!r}:")
            lines += [f"            {line}" for line in body]
            test = "elif"
    # any other key, shape or value: the general path of the generic walker, which reports
    if count:
        lines += ["        if general(ctx, model, cmap, node, key, v, loc, resource, root):",
                  "            irregular = True"]
    else:
        lines.append("        general(ctx, model, cmap, node, key, v, loc, resource, root)")
    lines += ['    if len(node) <= ("id" in node):',
              "        ctx.error(IssueType.INVARIANT, loc, MsgId.EMPTY_ELEMENT)"]
    if count:
        lines += ["    if irregular or not node.keys() >= REQUIRED:",
                  "        required(ctx, cmap, node, loc)"]
    elif cmap.required:
        lines.append("    required(ctx, cmap, node, loc)")
    exec(compile("\n".join(lines) + "\n", f"<walker of {cmap.path}>", "exec"), names)  # noqa: S102
    return names["walk"]


def _fast_path(child: Child, name: str, names: dict[str, Any]) -> list[str]:
    """Lines handling the usual value ``v`` of ``child`` (bound to ``name``) and continuing the
    loop; a value they do not accept falls through to the general path."""
    at = f"loc + {'.' + child.label!r}"
    if child.op in (OP_PRIMITIVE, OP_PRIMITIVE_POST):
        test, used = fast_source(child.type)
        names.update(used)
        if child.op == OP_PRIMITIVE:
            return [f"if {test}:", "    continue"]
        return [f"if {test}:", f"    at = {at}", *_post_lines(child, name, names), "    continue"]
    if child.op == OP_ARRAY:
        return ["if v.__class__ is list and v:", f"    array(ctx, model, {name}, v, loc, resource, root)",
                "    continue"]
    if child.op == OP_RESOURCE:  # as json_shapes.child_value() takes one resource
        if child.path == "Bundle.entry.resource":
            return ["if v.__class__ is dict:",
                    f"    entry_resource(ctx, model, {name}, node, v, {at}, resource, root)", "    continue"]
        root = "root" if child.name == "contained" else "None"
        return ["if v.__class__ is dict:", f"    validate_resource(ctx, v, {at}, {root})", "    continue"]
    if child.op != OP_OBJECT:
        return []
    if child.memo:
        return ["if v.__class__ is dict:", f"    datatype(ctx, model, {name}, v, {at}, resource, root)",
                "    continue"]
    lines = ["if v.__class__ is dict:",
             f"    at = {at}",
             *(["    ctx.attachments.append((v, at))"] if child.type == "Attachment" else []),  # as walk_object
             f"    sub = {name}.cmap or child_map(model, {name})",
             "    (sub.walk or walker(model, sub))(ctx, model, v, sub, at, resource, root)"]
    if child.after:
        names[f"{name}_after"] = after_of(child)
        lines.append(f"    {name}_after(ctx, v, at, resource, root)")
    return [*lines, "    continue"]


def after_of(child: Child) -> Callable[..., None]:
    """What follows the walk of an object of ``child`` (structure.after), generated on first use:
    (ctx, object, location, %resource, %rootResource)."""
    if child.after_fn is None:
        if child.type == "Reference" or child.binding is not None:
            child.after_fn = lambda ctx, v, at, resource, root: structure.after(ctx, child, v, at, resource, root)
        else:  # constraints only, in place
            names: dict[str, Any] = {}
            lines = _check_lines(child, "c", child.ctx or child.type, names)
            if child.type in ucum.UCUM_TYPES:  # as structure.after
                names["ucum_check"] = ucum.check_code
                lines += [f"    if v.get('system') == {ucum.UCUM_SYSTEM!r}:", "        ucum_check(ctx, v, at)"]
            source = "\n".join(["def after(ctx, v, at, resource, root):", *lines]) + "\n"
            exec(compile(source, f"<after {child.path}>", "exec"), names)  # noqa: S102
            child.after_fn = names["after"]
    return child.after_fn


def _post_lines(child: Child, name: str, names: dict[str, Any]) -> list[str]:
    """structure.primitive_post() in place, for a valid value ``v`` at ``at`` (lines of a block)."""
    if child.binding is not None and child.type == "code":
        return [f"    bind_code(ctx, {child.binding!r}, None, v, at)"]
    return _check_lines(child, name, child.path, names)


def _check_lines(child: Child, name: str, type_path: str, names: dict[str, Any]) -> list[str]:
    """Ctx.run_checks() in place: the constraints of ``child`` on ``v`` at ``at`` (lines of a block)."""
    lines = []
    for i, (key, sev, expr, comp) in enumerate(child.checks):
        if comp.native is not None:
            names[f"{name}_check{i}"] = comp.native
            lines += [f"    if not {name}_check{i}(v, resource, root):",
                      f"        ctx.failed({key!r}, {sev!r}, {expr!r}, at)"]
        else:
            lines.append(f"    ctx.invariant({key!r}, {sev!r}, {expr!r}, '', v, {type_path!r}, resource, root, at)")
    return lines
