"""Apply compiled profiles to instances (FHIR R4 §5.1 profiling, §2.12 ElementDefinition).

Profiles come from the explicit argument and from ``meta.profile`` of every resource met
(top level, Bundle entries, contained). Checks: cardinality, types, fixed/pattern values,
bindings (required → error, extensible → warning, preferred → information), Reference target
profiles, constraints (FHIRPath or native: NIR key, UCUM), extensions by URL and slicing
(:mod:`profiles.slicing`).
"""

from __future__ import annotations

from typing import Any

from profiles import nir, ucum
from profiles.context import Ctx
from profiles.invariants import CHOICE_NAMES
from profiles.issues import IssueType, Severity
from profiles.messages import MsgId
from profiles.sdef import CompiledProfile, Rule

Item = tuple[Any, str, str]  # value, location, type code (from the JSON key of choices)


def check_profiles(ctx: Ctx, resource: dict[str, Any], loc: str, explicit: str | None) -> None:
    reg = ctx.registry
    if explicit:
        target, _ = reg.resolve_url(explicit)
        if target is None:
            ctx.error(IssueType.NOT_FOUND, loc, MsgId.PROFILE_UNKNOWN, url=explicit)
        else:
            apply_profile(ctx, target, resource, loc, resource)
    for res, rloc, root in _resources(resource, loc, resource):
        if res.get("resourceType") == "Patient" and isinstance(res.get("identifier"), list):
            # national rule (FACTS §1.3): every INS/NIR matricule carries a valid key
            for i, ident in enumerate(res["identifier"]):
                nir.check(ctx, ident, f"{rloc}.identifier[{i}]")
        meta = res.get("meta")
        profs = meta.get("profile") if isinstance(meta, dict) else None
        if not isinstance(profs, list):
            continue
        for i, p in enumerate(profs):
            if not isinstance(p, str):
                continue
            target, _alias = reg.resolve_url(p)
            if target is None:
                ctx.info(IssueType.NOT_SUPPORTED, f"{rloc}.meta.profile[{i}]", MsgId.PROFILE_UNKNOWN, url=p)
                continue
            if explicit and reg.resolve_url(explicit)[0] == target and res is resource:
                continue
            apply_profile(ctx, target, res, rloc, root)


def _resources(res: Any, loc: str, root: dict[str, Any]):
    if not isinstance(res, dict):
        return
    yield res, loc, root
    for i, c in enumerate(res.get("contained") or [] if isinstance(res.get("contained"), list) else []):
        if isinstance(c, dict):
            yield from _resources(c, f"{loc}.contained[{i}]", root)
    if res.get("resourceType") == "Bundle" and isinstance(res.get("entry"), list):
        for i, e in enumerate(res["entry"]):
            if isinstance(e, dict) and isinstance(e.get("resource"), dict):
                yield from _resources(e["resource"], f"{loc}.entry[{i}].resource", e["resource"])


def apply_profile(ctx: Ctx, url: str, res: dict[str, Any], loc: str, root: dict[str, Any]) -> None:
    prof = ctx.registry.compiled(url)
    if prof is None:
        ctx.error(IssueType.NOT_FOUND, loc, MsgId.PROFILE_UNKNOWN, url=url)
        return
    rt = res.get("resourceType") if prof.type in ctx.registry.model.resource_types else prof.type
    if prof.type in ctx.registry.model.resource_types and rt != prof.type:
        ctx.error(IssueType.INVALID, loc, MsgId.PROFILE_WRONG_TYPE, url=url, expected=prof.type, found=rt)
        return
    seen: set[str] = set()
    p: CompiledProfile | None = prof
    while p is not None and p.url not in seen:
        seen.add(p.url)
        apply_rule_item(ctx, p.root, res, loc, prof.type, res if rt == prof.type else root, root)
        p = ctx.registry.compiled(p.base) if p.base else None


def conforms(ctx: Ctx, url: str, value: Any, type_code: str, res: dict[str, Any], root: dict[str, Any]) -> bool:
    """Quiet check used by ``profile`` discriminators: no error issues for ``value``."""
    probe = Ctx(ctx.registry)
    probe.quiet = 1
    prof = ctx.registry.compiled(url)
    if prof is None:
        rt = value.get("resourceType") if isinstance(value, dict) else None
        return url.rsplit("/", 1)[-1] in (rt, type_code)
    if isinstance(value, dict) and prof.type in ctx.registry.model.resource_types:
        apply_profile(probe, url, value, "", value)
    else:
        apply_rule_item(probe, prof.root, value, "", type_code, res, root)
    return not any(i.severity in (Severity.ERROR, Severity.FATAL) for i in probe.issues)


# --- element values -------------------------------------------------------------------------

def values_of(node: Any, name: str, loc: str) -> list[Item]:
    if not isinstance(node, dict):
        return []
    if name.endswith("[x]"):
        base = name[:-3]
        n = len(base)
        out: list[Item] = []
        for k in [k for k in node if k.startswith(base)]:  # few keys pass this C-level filter
            if len(k) > n and k[n].isupper():
                t = _type_name(k[n:])
                out.append((node[k], f"{loc}.{base}.ofType({t})", t))
        return out
    v = node.get(name)
    if v is None:
        return []
    if isinstance(v, list):
        return [(x, f"{loc}.{name}[{i}]", "") for i, x in enumerate(v) if x is not None]
    return [(v, f"{loc}.{name}", "")]


_PRIMS = frozenset({
    "base64Binary", "boolean", "canonical", "code", "date", "dateTime", "decimal", "id", "instant",
    "integer", "markdown", "oid", "positiveInt", "string", "time", "unsignedInt", "uri", "url", "uuid",
})


def _type_name(suffix: str) -> str:
    """JSON choice suffix → FHIR type code (valueDateTime → dateTime, valueQuantity → Quantity)."""
    low = suffix[0].lower() + suffix[1:]
    return low if low in _PRIMS else suffix


def _choice_type(name: str) -> str:
    # valueQuantity -> Quantity (renamed choice in a rule tree)
    for i, ch in enumerate(name):
        if ch.isupper():
            return _type_name(name[i:])
    return ""


# per child rule: JSON name, rule, choice type of a renamed choice, is [x], location label,
# only counts (nothing to check on a value, no slicing), no value checks, and whether one single
# value needs nothing but apply_rule_item (no slicing, no cardinality that one value can break)
Kid = tuple[str, Rule, str, bool, str, bool, bool, bool]


def _kids(ctx: Ctx, rule: Rule) -> tuple[Kid, ...]:
    """The child rules of ``rule`` prepared for :func:`apply_children`, cached on the rule."""
    kids = rule.__dict__.get("_kids")
    if kids is None:
        out = []
        for name, child in rule.children.items():
            choice = name.endswith("[x]")
            ct = "" if choice else _choice_type(name)
            if ct and not (name[:len(name) - len(ct)] in CHOICE_NAMES
                           and (ct in ctx.registry.model.types)):
                ct = ""  # camelCase element (referenceRange), not a renamed choice
            label = f"{name[:len(name) - len(ct)]}.ofType({ct})" if ct else name
            # a type restriction alone checks nothing on a value that is not a renamed choice
            noop = _item_noop(child) or (not ct and not choice and _item_noop(child, types=False))
            sliced = bool(child.slices or child.slicing)
            counts_only = noop and not sliced
            single_ok = not sliced and not (child.min is not None and child.min > 1) and child.max != 0
            out.append((name, child, ct, choice, label, counts_only, noop, single_ok))
        kids = rule.__dict__["_kids"] = tuple(out)
    return kids


def _item_noop(rule: Rule, types: bool = True) -> bool:
    """True when :func:`apply_rule_item` has nothing to check on one value of ``rule`` (with
    ``types=False``: nothing but the type restriction, which needs a value's type code)."""
    return not ((types and rule.types) or rule.has_fixed or rule.has_pattern or rule.binding is not None
                or rule.target_types or rule.constraints or rule.type_profiles or rule.children)


def apply_children(ctx: Ctx, rule: Rule, node: Any, loc: str, res: dict[str, Any], root: dict[str, Any]) -> None:
    if node.__class__ is not dict:
        return
    for name, child, ct, choice, label, counts_only, noop, single_ok in _kids(ctx, rule):
        if choice:
            items = values_of(node, name, loc)
        else:
            v = node.get(name)
            if v is None:
                if child.min or child.slices:
                    apply_element(ctx, child, [], loc, res, root)
                continue
            if v.__class__ is not list:
                if single_ok:  # what apply_element would do with this one item
                    if not noop:
                        apply_rule_item(ctx, child, v, f"{loc}.{label}", ct, res, root)
                    continue
                items = [(v, f"{loc}.{label}", ct)]
            else:
                if counts_only:
                    # cardinality only: count without building the items (locations) unless reported
                    n = len(v) - v.count(None)
                    mn, mx = child.min, child.max
                    if not ((mn is not None and n < mn) or (mx is not None and 0 <= mx < n)):
                        continue
                items = [(x, f"{loc}.{label}[{i}]", ct) for i, x in enumerate(v) if x is not None]
        apply_element(ctx, child, items, loc, res, root)


def apply_element(ctx: Ctx, rule: Rule, items: list[Item], parent_loc: str, res: dict[str, Any],
                  root: dict[str, Any]) -> None:
    n = len(items)
    if rule.min is not None and n < rule.min:
        label = rule.name[:-3] if rule.is_choice else rule.name
        ctx.error(IssueType.REQUIRED, parent_loc, MsgId.MIN_CARDINALITY, name=label, min=rule.min, count=n)
    if not n and not rule.slices:
        return
    if rule.max is not None and rule.max >= 0 and n > rule.max:
        label = rule.name[:-3] if rule.is_choice else rule.name
        at = items[rule.max][1] if rule.max > 0 else items[0][1]
        ctx.error(IssueType.STRUCTURE, at, MsgId.MAX_CARDINALITY, name=label, max=rule.max, count=n)
    noop = rule.__dict__.get("_noop")
    if noop is None:
        noop = rule.__dict__["_noop"] = _item_noop(rule)
    if not noop:
        for value, loc, tcode in items:
            apply_rule_item(ctx, rule, value, loc, tcode, res, root)
    if rule.slices or rule.slicing:
        _slicing()(ctx, rule, items, parent_loc, res, root)


_APPLY_SLICING: list[Any] = []


def _slicing() -> Any:
    if not _APPLY_SLICING:
        from profiles.slicing import apply_slicing  # circular: slicing applies rules of this module

        _APPLY_SLICING.append(apply_slicing)
    return _APPLY_SLICING[0]


def apply_rule_item(ctx: Ctx, rule: Rule, value: Any, loc: str, tcode: str, res: dict[str, Any],
                    root: dict[str, Any]) -> None:
    reg = ctx.registry
    if rule.types and tcode and tcode not in rule.types and not (
        tcode in ("SimpleQuantity", "Quantity") and "Quantity" in rule.types
    ):
        ctx.error(IssueType.STRUCTURE, loc, MsgId.TYPE_NOT_ALLOWED, found=tcode, expected=", ".join(rule.types))
        return
    if rule.has_fixed and value != rule.fixed:
        ctx.error(IssueType.VALUE, loc, MsgId.FIXED_VALUE, found=_short(value), expected=_short(rule.fixed))
    if rule.has_pattern:
        ok, alias = contains(rule.pattern, value, reg.terminology.aliases)
        if not ok:
            ctx.error(IssueType.VALUE, loc, MsgId.PATTERN_VALUE, expected=_short(rule.pattern))
        elif alias:
            ctx.warn(IssueType.VALUE, loc, MsgId.SYSTEM_SPELLING, system=alias[0], canonical=alias[1])
    if rule.binding is not None:
        check_binding(ctx, rule.binding, value, loc)
    if rule.target_types and isinstance(value, dict) and isinstance(value.get("reference"), str):
        targets = rule.__dict__.get("_target_types")
        if targets is None:
            targets = tuple(reg.profile_type(p) or p.rsplit("/", 1)[-1] for p in rule.target_profiles)
            rule.__dict__["_target_types"] = targets
        ctx.profile_targets.setdefault(loc, []).append(targets)
    for key, sev, human, expr, native in rule.constraints:
        if native:
            _native(ctx, native, key, value, loc)
        else:
            ctx.invariant(key, sev, expr, human, value, tcode or _type_path(rule), res, root, loc)
    if rule.type_profiles and isinstance(value, dict):
        for p in rule.type_profiles:
            target, _ = reg.resolve_url(p)
            prof = reg.compiled(target) if target else None
            if prof is not None and not isinstance(value.get("resourceType"), str):
                apply_rule_item(ctx, prof.root, value, loc, prof.type, res, root)
            elif prof is not None:
                apply_profile(ctx, target, value, loc, value)
    if rule.children:
        apply_children(ctx, rule, value, loc, res, root)


def _type_path(rule: Rule) -> str:
    tp = rule.__dict__.get("_type_path")
    if tp is None:
        tp = rule.__dict__["_type_path"] = rule.path.split(":")[0]
    return tp


def _short(v: Any) -> str:
    import orjson

    from profiles.literals import dumps_default

    s = orjson.dumps(v, default=dumps_default).decode() if not isinstance(v, str) else v
    return s if len(s) <= 120 else s[:117] + "..."


def contains(pattern: Any, value: Any, aliases: dict[str, str]) -> tuple[bool, tuple[str, str] | None]:
    """pattern[x] semantics: every property of the pattern is present in the value (arrays: each
    pattern item matched by some value item). System URL aliases count as a match."""
    if isinstance(pattern, dict):
        if not isinstance(value, dict):
            return False, None
        used = None
        for k, pv in pattern.items():
            if k not in value:
                return False, None
            if pv.__class__ is str:  # a leaf, compared here rather than by a recursive call
                vk = value[k]
                if pv == vk:
                    continue
                if k == "system" and isinstance(vk, str) and aliases.get(vk) == pv:
                    used = used or (vk, pv)
                    continue
                return False, None
            ok, a = contains(pv, value[k], aliases)
            if not ok and k == "system" and isinstance(value[k], str) and aliases.get(value[k]) == pv:
                ok, a = True, (value[k], pv)
            if not ok:
                return False, None
            used = used or a
        return True, used
    if isinstance(pattern, list):
        if not isinstance(value, list):
            return False, None
        used = None
        for pv in pattern:
            for vv in value:
                ok, a = contains(pv, vv, aliases)
                if ok:
                    used = used or a
                    break
            else:
                return False, None
        return True, used
    return pattern == value, None


_SEV = {"required": Severity.ERROR, "extensible": Severity.WARNING, "preferred": Severity.INFORMATION}
_MSG = {"required": MsgId.CODE_NOT_IN_VS, "extensible": MsgId.CODE_NOT_IN_VS_EXTENSIBLE,
        "preferred": MsgId.CODE_NOT_IN_VS_PREFERRED}


def check_binding(ctx: Ctx, binding: tuple[str, str], value: Any, loc: str) -> None:
    strength, vs = binding
    term = ctx.registry.terminology
    idx = term.index(vs)
    if idx is None:
        if strength == "required":
            ctx.warn(IssueType.NOT_SUPPORTED, loc, MsgId.VS_UNKNOWN, vs=vs)
        return
    # the usual case first: a member code, or a first coding that is a member under its canonical
    # system (what the loop below would accept on its first pair, with no alias to report)
    if value.__class__ is str:
        if value in idx.codes:
            return
    elif value.__class__ is dict:
        codings = value.get("coding")
        first = codings[0] if codings.__class__ is list and codings else None
        if first.__class__ is dict:
            system, code = first.get("system"), first.get("code")
            if code.__class__ is str and system.__class__ is str and (
                    (system, code) in idx.pairs or system in idx.open_systems):
                return
    pairs: list[tuple[str | None, str]] = []
    if isinstance(value, str):
        pairs = [(None, value)]
    elif isinstance(value, dict):
        if isinstance(value.get("coding"), list):
            pairs = [(c.get("system"), c["code"]) for c in value["coding"]
                     if isinstance(c, dict) and isinstance(c.get("code"), str)]
        elif isinstance(value.get("code"), str):
            pairs = [(value.get("system"), value["code"])]
    if not pairs:
        return
    alias_used = None
    for system, code in pairs:
        ok, alias = term.member(vs, system, code)
        if ok is not False:
            if alias:
                alias_used = (system, alias)
            break
    else:
        label = ", ".join(f"{s}#{c}" if s else c for s, c in pairs)
        ctx.rule(False, _SEV[strength], IssueType.CODE_INVALID, loc, _MSG[strength], code=label, vs=vs)
        return
    if alias_used:
        ctx.warn(IssueType.VALUE, loc, MsgId.SYSTEM_SPELLING, system=alias_used[0], canonical=alias_used[1])


def _native(ctx: Ctx, name: str, key: str, value: Any, loc: str) -> None:
    if name == "nir-key":
        nir.check(ctx, value, loc)
    elif name == "ucum":
        ucum.check_quantity(ctx, value, loc)
