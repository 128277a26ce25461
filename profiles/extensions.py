"""Extensions wherever they appear (FHIR R4 §2.22 Extensibility, §2.12 StructureDefinition.context).

Every ``extension`` / ``modifierExtension`` of a resource (its datatypes, backbones, primitive
``_x`` companions and the values of other extensions) is looked up by URL:

- a definition we carry or one loaded with ``--ig`` is applied to it (cardinalities, value types,
  fixed values, bindings... through the profile rules), and its context of use is checked;
- a core R4 extension (from the generated base table) is checked for its context of use, its value
  type, the required binding of its value and the cardinality of its parts (complex extensions);
- an unknown URL is a warning ``EXT_UNKNOWN`` (a workspace policy ``{"EXT_UNKNOWN": "error"}``
  makes it an error, like the reference validator's "any extension" switch turned off).

A context of type ``fhirpath`` is evaluated on the resource (fhirpathpy): the element holding the
extension must be one of the nodes it selects (a primitive by its path, fhirpathpy keeps no identity
for them). A definition's ``contextInvariant`` expressions are evaluated on that element, with
``%extension`` (R4 §2.12.0.3); an expression fhirpathpy cannot evaluate is accepted.
"""

from __future__ import annotations

from typing import Any

from profiles import fhirpath_contexts, rule_plan
from profiles.base import COMPLEX, RESOURCE, BaseModel
from profiles.context import Ctx
from profiles.element_checks import check_binding, type_name
from profiles.issues import IssueType
from profiles.messages import MsgId

Res = dict[str, Any]
_EXT_KEYS = ("extension", "modifierExtension")


def check_extensions(ctx: Ctx, res: Res, loc: str, root: Res) -> None:
    """Check the extensions of ``res`` (not those of the resources inside it, checked on their
    own), when the base walk met some (``ctx.ext_resources``)."""
    rt = res.get("resourceType")
    model = ctx.registry.model
    if id(res) not in ctx.ext_resources or not isinstance(rt, str) or rt not in model.types:
        return
    _walk(ctx, model, res, rt, (rt, rt, rt), loc, res, root)


#: where a node stands: (its type, its path from the resource, its element path in the definitions,
#: e.g. ("string", "Organization.address.line", "Address.line"))
Holder = tuple[str, str, str]


def _walk(ctx: Ctx, model: BaseModel, node: dict[str, Any], cmap_key: str, holder: Holder, loc: str,
          res: Res, root: Res) -> None:
    cmap = model.childmap(cmap_key)
    hpath = holder[1]
    for key, val in node.items():
        if key in _EXT_KEYS:
            if isinstance(val, list):
                for i, ext in enumerate(val):
                    if isinstance(ext, dict):
                        _extension(ctx, model, ext, holder, "", f"{loc}.{key}[{i}]", res, root, node)
            continue
        if key[:1] == "_":
            child = cmap.get(key[1:])
            if child is None:
                continue
            for i, item in _items(val):
                if isinstance(item, dict):
                    at = f"{loc}.{child.label}" if i < 0 else f"{loc}.{child.label}[{i}]"
                    _walk(ctx, model, item, "Element", (child.type, f"{hpath}.{child.name}", child.path), at, res, root)
            continue
        child = cmap.get(key)
        if child is None or child.kind != COMPLEX or child.kind == RESOURCE:
            continue
        sub = child.ctx or child.type
        sub_type = "BackboneElement" if child.ctx and child.ctx != child.type else child.type
        for i, item in _items(val):
            if isinstance(item, dict):
                at = f"{loc}.{child.label}" if i < 0 else f"{loc}.{child.label}[{i}]"
                _walk(ctx, model, item, sub, (sub_type, f"{hpath}.{child.name}", child.path), at, res, root)


def _items(val: Any) -> list[tuple[int, Any]]:
    return list(enumerate(val)) if isinstance(val, list) else [(-1, val)]


def _extension(ctx: Ctx, model: BaseModel, ext: dict[str, Any], holder: Holder, parent_url: str,
               loc: str, res: Res, root: Res, node: dict[str, Any]) -> None:
    url = ext.get("url")
    if not isinstance(url, str):
        return  # Extension.url 1..1: reported by the base walker
    reg = ctx.registry
    target, _alias = reg.resolve_url(url)
    core = model.extensions.get(url.split("|", 1)[0])
    if target is not None:
        prof = reg.compiled(target)
        if prof is None and target in reg.broken:
            ctx.error(IssueType.PROCESSING, loc, MsgId.PROFILE_UNUSABLE, url=target, reason=reg.broken[target])
        if prof is not None:
            sd = reg.sds[target]
            declared = sd.get("context")
            contexts = [(c.get("type", ""), c.get("expression", "")) for c in declared
                        if isinstance(c, dict)] if isinstance(declared, list) else []
            if _context(ctx, model, contexts, url, holder, parent_url, loc, node, res):
                fhirpath_contexts.check_invariants(ctx, sd, url, ext, node, holder[0], loc, res, root)
            if id(ext) not in ctx.checked_extensions:  # not already done by a profile's slice
                rule_plan.apply_rule_item(ctx, prof.root, ext, loc, "Extension", res, root)
    elif core is not None:
        _context(ctx, model, [tuple(c) for c in core["ctx"]], url, holder, parent_url, loc, node, res)
        _core_value(ctx, core, ext, url, loc)
    elif not parent_url or "://" in url:  # a part of a complex extension is named by a plain word
        ctx.warn(IssueType.NOT_SUPPORTED, loc, MsgId.EXTENSION_UNKNOWN, url=url)
    # what the extension holds: its parts and its value may carry extensions of their own
    for key, val in ext.items():
        if key == "extension" and isinstance(val, list):
            for i, part in enumerate(val):
                if isinstance(part, dict):
                    _extension(ctx, model, part, ("Extension", "Extension", "Extension.extension"), url,
                               f"{loc}.extension[{i}]", res, root, ext)
        elif key.startswith("value") and len(key) > 5 and key[5].isupper() and isinstance(val, dict):
            t = type_name(key[5:])
            if t in model.types and model.types[t]["kind"] == "complex-type":
                _walk(ctx, model, val, t, (t, "Extension.value[x]", "Extension.value[x]"), f"{loc}.value.ofType({t})",
                      res, root)


def _core_value(ctx: Ctx, core: dict[str, Any], ext: dict[str, Any], url: str, loc: str) -> None:
    allowed = core.get("v")
    for key, val in ext.items():
        if not key.startswith("value") or len(key) < 6 or not key[5].isupper():
            continue
        t = type_name(key[5:])
        at = f"{loc}.value.ofType({t})"
        if not allowed:
            ctx.error(IssueType.STRUCTURE, at, MsgId.EXTENSION_VALUE_TYPE, url=url, found=t, expected="—")
        elif t not in allowed:
            ctx.error(IssueType.STRUCTURE, at, MsgId.EXTENSION_VALUE_TYPE, url=url, found=t,
                      expected=", ".join(allowed))
        elif "b" in core and ctx.registry.terminology.index(core["b"]) is not None:
            check_binding(ctx, ("required", core["b"]), val, at)
    parts = core.get("parts")
    if parts:
        subs: list[Any] = ext["extension"] if isinstance(ext.get("extension"), list) else []
        for part_url, (mn, mx) in parts.items():
            n = len([s for s in subs if isinstance(s, dict) and s.get("url") == part_url])
            if n < mn:
                ctx.error(IssueType.REQUIRED, loc, MsgId.MIN_CARDINALITY, name=f"extension('{part_url}')", min=mn,
                          count=n)
            elif mx != "*" and n > int(mx):
                ctx.error(IssueType.STRUCTURE, loc, MsgId.MAX_CARDINALITY, name=f"extension('{part_url}')",
                          max=mx, count=n)


def _context(ctx: Ctx, model: BaseModel, contexts: list[Any], url: str, holder: Holder, parent_url: str,
             loc: str, node: dict[str, Any], res: Res) -> bool:
    """R4 §2.12.0.3 "context of use": the extension may appear where one of its contexts says
    (False, reported, when it may not)."""
    if not contexts:
        return True
    htype, hpath, epath = holder
    names = {htype, hpath, epath, hpath + "[x]"}
    t = htype
    seen: set[str] = set()
    while t and t in model.types and t not in seen:  # HumanName → Element, Patient → DomainResource...
        seen.add(t)
        names.add(t)
        t = model.types[t].get("base") or ""
    names.add("Element")
    contexts = [(t, e) for t, e in contexts if isinstance(e, str)]  # a definition's garbage is no context
    if not contexts:
        return True
    for ctype, expr in contexts:
        if ctype == "fhirpath":
            primitive = model.types.get(htype, {}).get("kind") == "primitive-type"
            if fhirpath_contexts.selects(expr, res, node, hpath if primitive else None):
                return True
        if ctype == "extension" and parent_url and expr.split("|", 1)[0] == parent_url:
            return True
        if ctype == "element":
            e = expr.split("#", 1)[1] if "#" in expr else expr
            if e in names or (e.endswith(".extension") and e[:-len(".extension")] in names):
                return True
    ctx.error(IssueType.STRUCTURE, loc, MsgId.EXTENSION_CONTEXT, url=url, path=hpath,
              contexts=", ".join(e for _t, e in contexts))
    return False
