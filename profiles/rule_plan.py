"""Profile rules compiled into checks (FHIR R4 §5.1 profiling, §2.12 ElementDefinition).

Each :class:`~profiles.sdef.Rule` is compiled once, on first use, into a generated function that
does only what the rule asks. On one value, in this order: its type (values of choice elements),
fixed[x], pattern[x], binding, Reference target profiles, constraints, type profiles, then the
child rules. A child rule's usual case — absent, or one value, alone or as a one-item array — is
inlined in its parent's function, with the checks of a child without children of its own written
in place (natively compiled constraints evaluated there too); its other cases (arrays, choice
elements) go through closures: min/max over its values, each value, then slicing
(:mod:`profiles.slicing`). The compiled checks are cached on the rule (``Rule.plan``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from profiles import profile_check, slicing
from profiles.context import Ctx
from profiles.element_checks import (
    NATIVE_CHECKS,
    Item,
    check_binding,
    pattern_matcher,
    short,
    type_name,
    values_of,
)
from profiles.invariants import CHOICE_NAMES, compiled
from profiles.issues import IssueType
from profiles.messages import MsgId
from profiles.sdef import Rule, element_type
from profiles.value_limits import check_limits

if TYPE_CHECKING:
    from profiles.registry import Registry

Res = dict[str, Any]
#: checks one value: (ctx, value, location, type code, %resource, %rootResource)
ItemCheck = Callable[[Ctx, Any, str, str, Res, Res], None]
#: checks the values of one element: (ctx, items, parent location, %resource, %rootResource)
ElementCheck = Callable[[Ctx, list[Item], str, Res, Res], None]
#: checks one child rule on its parent object: (ctx, parent, parent location, %resource, %rootResource)
ChildCheck = Callable[[Ctx, dict[str, Any], str, Res, Res], None]

_QUANTITIES = ("SimpleQuantity", "Quantity")


class Plan:
    """A rule compiled: ``item`` checks one value (None: nothing to check); ``steps`` is the same
    without the type restriction, which only applies to values that carry a type code."""

    __slots__ = ("item", "steps")

    def __init__(self, item: ItemCheck | None, steps: ItemCheck | None) -> None:
        self.item = item
        self.steps = steps


def plan(reg: Registry, rule: Rule) -> Plan:
    """The checks of ``rule``, compiled on first use."""
    p = rule.plan
    if p is None:
        p = rule.plan = _compile(reg, rule)
    return p


def apply_rule_item(ctx: Ctx, rule: Rule, value: Any, loc: str, tcode: str, res: Res, root: Res) -> None:
    item = (rule.plan or plan(ctx.registry, rule)).item
    if item is not None:
        item(ctx, value, loc, tcode, res, root)


def _compile(reg: Registry, rule: Rule) -> Plan:
    names: dict[str, Any] = {
        "IssueType": IssueType, "MsgId": MsgId, "check_binding": check_binding, "values_of": values_of,
        "fixed_value": _fixed_value, "pattern_value": _pattern_value, "type_profiles": _type_profiles,
        "check_limits": check_limits,
    }
    body = _own_lines(reg, rule, "value", "loc", None, "", names)
    if rule.children:
        body += ["if value.__class__ is dict:", *_indent(_children_lines(reg, rule, names))]
    steps = None
    if body:
        source = "\n".join(["def steps(ctx, value, loc, tcode, res, root):", *_indent(body)]) + "\n"
        exec(compile(source, f"<rule {rule.path}>", "exec"), names)  # noqa: S102 - generated above
        steps = names["steps"]
    return Plan(_typed(rule.types, steps) if rule.types else steps, steps)


def _indent(lines: list[str]) -> list[str]:
    return [f"    {line}" for line in lines]


def _own_lines(reg: Registry, rule: Rule, v: str, at: str, tcode: str | None, tag: str,
               names: dict[str, Any]) -> list[str]:
    """Source of the rule's own checks on the value named ``v`` at the location named ``at``, of
    type code ``tcode`` (None: the variable ``tcode``); ``tag`` keeps this rule's names apart."""
    out: list[str] = []
    if rule.has_fixed:
        names[f"FIXED{tag}"] = rule.fixed
        out.append(f"fixed_value(ctx, FIXED{tag}, {v}, {at})")
    if rule.has_pattern:
        names[f"PATTERN{tag}"] = (pattern_matcher(rule.pattern), rule.pattern)
        out.append(f"pattern_value(ctx, PATTERN{tag}, {v}, {at})")
    if rule.binding is not None:
        out.append(f"check_binding(ctx, {rule.binding!r}, {v}, {at})")
    for extra in rule.extra_bindings:
        out.append(f"check_binding(ctx, {extra!r}, {v}, {at})")
    if rule.limits is not None:
        names[f"LIMITS{tag}"] = rule.limits
        out.append(f"check_limits(ctx, LIMITS{tag}, {v}, {at})")
    if rule.target_types:
        # checked with the reference itself, once resolved (bundles.resolve_references)
        targets = tuple(reg.profile_type(p) or p.rsplit("/", 1)[-1] for p in rule.target_profiles)
        out += [f"if isinstance({v}, dict) and isinstance({v}.get('reference'), str):",
                f"    ctx.profile_targets.setdefault({at}, []).append({targets!r})"]
        # targets that are profiles (not bare types): the resolved entry must meet one of them
        urls = tuple(t for t in (reg.resolve_url(p)[0] for p in rule.target_profiles) if t is not None)
        if urls and len(urls) == len(rule.target_profiles):
            out.append(f"    ctx.target_profiles.setdefault({at}, []).append({urls!r})")
    type_path = element_type(reg.model, rule.path)
    for i, (key, sev, human, expr, native) in enumerate(rule.constraints):
        if not native:
            k, s, e, h = (_const(names, f"C{tag}_{i}_{j}", x) for j, x in enumerate((key, sev, expr, human)))
            comp = compiled(expr) if expr.__class__ is str else None
            if comp is not None and comp.native is not None:  # what ctx.invariant() does, in place
                names[f"EVAL{tag}_{i}"] = comp.native
                out += [f"if not EVAL{tag}_{i}({v}, res, root):", f"    ctx.failed({k}, {s}, {e}, {at}, {h})"]
            else:
                tp = f"tcode or {type_path!r}" if tcode is None else repr(tcode or type_path)
                out.append(f"ctx.invariant({k}, {s}, {e}, {h}, {v}, {tp}, res, root, {at})")
        elif native in NATIVE_CHECKS:
            names[f"NATIVE{tag}_{i}"] = NATIVE_CHECKS[native]
            out.append(f"NATIVE{tag}_{i}(ctx, {v}, {at})")
    if rule.type_profiles:
        out.append(f"type_profiles(ctx, {tuple(rule.type_profiles)!r}, {v}, {at}, res, root)")
    return out


def _children_lines(reg: Registry, rule: Rule, names: dict[str, Any]) -> list[str]:
    """Source of the child rules on the object ``value`` at ``loc``: per child, its usual case
    inline, the others by its closures (``element_<i>``, ``child_<i>``)."""
    out: list[str] = []
    for i, (name, child) in enumerate(rule.children.items()):
        choice = name.endswith("[x]")
        ct = "" if choice else _choice_type(reg, name)
        label = f"{name[:len(name) - len(ct)]}.ofType({ct})" if ct else name
        p = plan(reg, child)
        # values read under a plain name carry no type code: the type restriction checks nothing
        item = p.item if choice or ct else p.steps
        names[f"element_{i}"] = element = _element(reg, child, item)
        if choice:
            out.append(f"element_{i}(ctx, values_of(value, {name!r}, loc), loc, res, root)")
            continue
        names[f"child_{i}"] = _child(name, child, ct, label, item, element)
        out += [f"v = value.get({name!r})", "if v is None:"]
        out.append(f"    element_{i}(ctx, [], loc, res, root)" if child.min or child.slices else "    pass")
        if not _single_ok(child):
            out += ["else:", f"    child_{i}(ctx, value, loc, res, root)"]
            continue
        # one value, alone or in an array, needs its item check only (as child_<i> would do)
        out += ["elif v.__class__ is list and (len(v) != 1 or v[0] is None):",
                f"    child_{i}(ctx, value, loc, res, root)"]
        if item is None:
            continue
        out += ["else:",
                "    if v.__class__ is list:",
                f"        v, at = v[0], loc + {'.' + label + '[0]'!r}",
                "    else:",
                f"        at = loc + {'.' + label!r}"]
        if child.types and ct and ct not in _allowed(child.types):
            names[f"TYPES_{i}"] = child.types
            out.append(f"    ctx.error(IssueType.STRUCTURE, at, MsgId.TYPE_NOT_ALLOWED, found={ct!r}, "
                       f"expected=', '.join(TYPES_{i}))")
        elif child.children:
            names[f"steps_{i}"] = p.steps
            out.append(f"    steps_{i}(ctx, v, at, {ct!r}, res, root)")
        else:  # the child's own checks, in place
            out += _indent(_own_lines(reg, child, "v", "at", ct, f"_{i}", names))
    return out


def _single_ok(rule: Rule) -> bool:
    """One value needs nothing but its item check: no slicing, no cardinality one value can break."""
    sliced = bool(rule.slices or rule.slicing)
    return not sliced and not (rule.min is not None and rule.min > 1) and rule.max != 0


def _allowed(types: list[str]) -> tuple[str, ...]:
    return (*types, *_QUANTITIES) if "Quantity" in types else tuple(types)


def _const(names: dict[str, Any], name: str, value: Any) -> str:
    """Source for a constant: a string literal, or ``name`` bound to the value in ``names``."""
    if value.__class__ is str:
        return repr(value)
    names[name] = value
    return name


def _typed(types: list[str], then: ItemCheck | None) -> ItemCheck:
    allowed = _allowed(types)

    def typed(ctx: Ctx, value: Any, loc: str, tcode: str, res: Res, root: Res) -> None:
        if tcode and tcode not in allowed:
            ctx.error(IssueType.STRUCTURE, loc, MsgId.TYPE_NOT_ALLOWED, found=tcode, expected=", ".join(types))
        elif then is not None:
            then(ctx, value, loc, tcode, res, root)

    return typed


def _fixed_value(ctx: Ctx, fixed: Any, value: Any, loc: str) -> None:
    if value != fixed:
        ctx.error(IssueType.VALUE, loc, MsgId.FIXED_VALUE, found=short(value), expected=short(fixed))


def _pattern_value(ctx: Ctx, pattern: tuple[Any, Any], value: Any, loc: str) -> None:
    match, raw = pattern
    ok, alias = match(value, ctx.registry.terminology.aliases)
    if not ok:
        ctx.error(IssueType.VALUE, loc, MsgId.PATTERN_VALUE, expected=short(raw))
    elif alias:
        ctx.warn(IssueType.VALUE, loc, MsgId.SYSTEM_SPELLING, system=alias[0], canonical=alias[1])


def _type_profiles(ctx: Ctx, urls: tuple[str, ...], value: Any, loc: str, res: Res, root: Res) -> None:
    """``type.profile``: the value conforms to at least one of the listed profiles (FHIR R4
    §2.12 ElementDefinition.type.profile), the candidates chosen by resource type first."""
    if not isinstance(value, dict):
        return
    reg = ctx.registry
    known = []
    for p in urls:
        target, _ = reg.resolve_url(p)
        prof = reg.compiled(target) if target else None
        if prof is not None and target is not None:
            known.append((target, prof))
    rt = value.get("resourceType")
    if isinstance(rt, str) and len(known) > 1:
        of_type = [(t, p) for t, p in known if p.type == rt]
        if not of_type:
            ctx.error(IssueType.STRUCTURE, loc, MsgId.PROFILE_NONE_MATCHES, found=rt,
                      urls=", ".join(t for t, _p in known))
            return
        known = of_type
    if len(known) > 1:  # any one will do: the first that holds is applied (its warnings shown)
        tcode = rt if isinstance(rt, str) else known[0][1].type
        for target, _prof in known:
            if profile_check.conforms(ctx, target, value, tcode, res, root):
                known = [(target, _prof)]
                break
        else:
            ctx.error(IssueType.STRUCTURE, loc, MsgId.PROFILE_NONE_MATCHES, found=tcode,
                      urls=", ".join(t for t, _p in known))
            return
    for target, prof in known:
        if not isinstance(rt, str):
            if prof.type == "Extension":
                ctx.checked_extensions.add(id(value))
            apply_rule_item(ctx, prof.root, value, loc, prof.type, res, root)
        else:
            profile_check.apply_profile(ctx, target, value, loc, value)


def _choice_type(reg: Registry, name: str) -> str:
    """The type of a renamed choice (valueQuantity → Quantity); "" for other names (referenceRange)."""
    for i, ch in enumerate(name):
        if ch.isupper():
            ct = type_name(name[i:])
            return ct if name[:i] in CHOICE_NAMES and ct in reg.model.types else ""
    return ""


def _child(name: str, rule: Rule, ct: str, label: str, item: ItemCheck | None, element: ElementCheck) -> ChildCheck:
    """A child rule on its parent object, in every case (the generated code inlines the usual ones)."""
    mn, mx = rule.min, rule.max
    when_absent = bool(mn or rule.slices)  # min or slice cardinality to report
    single_ok = _single_ok(rule)
    counts_only = item is None and not (rule.slices or rule.slicing)

    def values(ctx: Ctx, node: dict[str, Any], loc: str, res: Res, root: Res) -> None:
        v = node.get(name)
        if v is None:
            if when_absent:
                element(ctx, [], loc, res, root)
            return
        if v.__class__ is not list:
            if single_ok:
                if item is not None:
                    item(ctx, v, f"{loc}.{label}", ct, res, root)
                return
            items = [(v, f"{loc}.{label}", ct)]
        else:
            if counts_only:
                # cardinality only: count without building the items (locations) unless reported
                n = len(v) - v.count(None)
                if not ((mn is not None and n < mn) or (mx is not None and 0 <= mx < n)):
                    return
            items = []
            for i, x in enumerate(v):
                if x is not None:
                    items.append((x, f"{loc}.{label}[{i}]", ct))
        element(ctx, items, loc, res, root)

    return values


def _element(reg: Registry, rule: Rule, item: ItemCheck | None) -> ElementCheck:
    mn, mx = rule.min, rule.max
    label = rule.name[:-3] if rule.is_choice else rule.name
    has_slices = bool(rule.slices)
    sliced = slicing.slicer(reg, rule) if rule.slices or rule.slicing else None

    def element(ctx: Ctx, items: list[Item], parent_loc: str, res: Res, root: Res) -> None:
        n = len(items)
        if mn is not None and n < mn:
            ctx.error(IssueType.REQUIRED, parent_loc, MsgId.MIN_CARDINALITY, name=label, min=mn, count=n)
        if not n and not has_slices:
            return
        if mx is not None and mx >= 0 and n > mx:
            ctx.error(IssueType.STRUCTURE, items[mx][1] if mx > 0 else items[0][1], MsgId.MAX_CARDINALITY,
                      name=label, max=mx, count=n)
        if item is not None:
            for value, loc, tcode in items:
                item(ctx, value, loc, tcode, res, root)
        if sliced is not None:
            sliced(ctx, items, parent_loc, res, root)

    return element
