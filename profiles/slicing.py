"""Slicing (FHIR R4 §5.1.0.13 "Slicing", ElementDefinition.slicing).

Each item of a sliced element is assigned to the first slice whose discriminators all match:
``value``/``pattern`` (fixed, pattern or required binding at the discriminator path), ``type``
(JSON choice type or ``resourceType``), ``profile`` (quiet conformance probe), ``exists``.
Extensions sliced without an explicit slicing use the implicit ``value`` discriminator on
``url``. Then: per-slice min/max, ``closed`` (no unmatched items), ``openAtEnd`` (unmatched
items only after the slices) and ``ordered``. :func:`slicer` compiles this once per sliced rule.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from profiles import discriminator, profile_check, rule_plan
from profiles.context import Ctx
from profiles.element_checks import Item, Matcher, pattern_matcher
from profiles.issues import IssueType
from profiles.messages import MsgId
from profiles.sdef import Rule, Slicing

if TYPE_CHECKING:
    from profiles.registry import Registry

Res = dict[str, Any]
Segments = discriminator.Steps
#: the index of an item's slice (-1: none) found without the general matching; None: cannot tell
Finder = Callable[[Ctx, Any, str], "int | None"]

_EXT_SLICING = Slicing([("value", "url")], "open", False)
_NO_DISCRIMINATOR = Slicing([], "open", False)


def _ext_urls(rule: Rule) -> list[str]:
    urls = list(rule.type_profiles)
    url_rule = rule.children.get("url")
    if url_rule is not None and url_rule.has_fixed:
        urls.append(url_rule.fixed)
    return urls


# one compiled discriminator: (type, path, path steps, the slice's rule at the path, its types,
# the matcher of its pattern)
_Disc = tuple[str, str, Segments | None, Rule | None, frozenset[str], Matcher | None]


def _plan(reg: Registry, slice_rule: Rule, discs: list[tuple[str, str]]) -> tuple[_Disc, ...]:
    """The slice's discriminators resolved once."""
    plan = []
    for dtype, dpath in discs:
        steps = discriminator.parse(dpath)
        sub = discriminator.sub_rule(slice_rule, steps, _ext_urls)
        if sub is not None and discriminator.ends_with_resolve(steps):
            # the type of what a Reference resolves to: its target profiles' types
            types = frozenset(reg.profile_type(p) or p.rsplit("/", 1)[-1] for p in sub.target_profiles)
        else:
            types = frozenset(sub.types) if sub is not None and sub.types else frozenset()
            if sub is not None and len(types) > 1 and steps and steps[-1][0] == discriminator.OF_TYPE:
                types = frozenset((steps[-1][1],))
        match = pattern_matcher(sub.pattern) if sub is not None and sub.has_pattern else None
        plan.append((dtype, dpath, steps, sub, types, match))
    return tuple(plan)


def _matches(ctx: Ctx, slice_rule: Rule, plan: tuple[_Disc, ...], value: Any, tcode: str,
             dvals: list[list[Item] | None], res: Res, root: Res) -> bool:
    """Whether ``value`` belongs to the slice; ``dvals`` caches the item's values at each
    discriminator path (the same for every slice), computed on first use."""
    aliases = ctx.registry.terminology.aliases
    for j, (dtype, dpath, segs, sub, sub_types, match) in enumerate(plan):
        vals = dvals[j]
        if vals is None:
            vals = dvals[j] = discriminator.values(ctx, value, segs, res, root)
        if dtype in ("value", "pattern"):
            if (sub is None or not (sub.has_fixed or sub.has_pattern or sub.binding)) and dpath == "url":
                if not slice_rule.type_profiles or not any(
                        v == u for v, _, _ in vals for u in slice_rule.type_profiles):
                    return False
                continue
            if sub is None:
                continue  # this slice does not constrain the discriminator
            if sub.has_fixed:
                if not any(v == sub.fixed for v, _, _ in vals):
                    return False
            elif match is not None:
                if not any(match(v, aliases)[0] for v, _, _ in vals):
                    return False
            elif sub.binding is not None:
                strength, vs = sub.binding
                if not any(_in_vs(ctx, vs, v) for v, _, _ in vals):
                    return False
        elif dtype == "type":
            if not sub_types:
                return False
            for v, _l, t in vals if segs is not None else [(value, "", tcode)]:
                rt = v.get("resourceType") if isinstance(v, dict) else None
                if (rt if isinstance(rt, str) else t) in sub_types:
                    break
            else:
                return False
        elif dtype == "profile":
            profs = (sub.type_profiles or sub.target_profiles) if sub is not None else []
            if not profs or not any(
                profile_check.conforms(ctx, p, v, t, res, root) for p in profs for v, _l, t in vals
            ):
                return False
        elif dtype == "exists":
            if sub is None:
                return False
            if sub.min is not None and sub.min >= 1 and not vals:
                return False
            if sub.max == 0 and vals:
                return False
        else:
            return False
    return True


def _in_vs(ctx: Ctx, vs: str, value: Any) -> bool:
    term = ctx.registry.terminology
    if isinstance(value, str):
        return term.member(vs, None, value)[0] is True
    if isinstance(value, dict):
        codings = value.get("coding") if isinstance(value.get("coding"), list) else [value]
        return any(isinstance(c, dict) and isinstance(c.get("code"), str)
                   and term.member(vs, c.get("system"), c["code"])[0] is True for c in codings)
    return False


def slicer(reg: Registry, rule: Rule) -> rule_plan.ElementCheck:
    """The slicing of ``rule`` compiled: assigns the element's items to slices and checks them."""
    slicing = rule.slicing
    if slicing is None:
        slicing = _EXT_SLICING if rule.name in ("extension", "modifierExtension") else _NO_DISCRIMINATOR
    discs = slicing.discriminators
    slices = tuple((name, srule, _plan(reg, srule, discs)) for name, srule in rule.slices.items())
    # a slice's own cardinality is counted here; its item check is the rule's
    checks = tuple(rule_plan.plan(reg, srule).item for _, srule, _ in slices)
    per_slice = tuple((name, srule.min, srule.max, check)
                      for (name, srule, _), check in zip(slices, checks, strict=True))
    find = _finder(slices, discs)
    label = rule.name[:-3] if rule.is_choice else rule.name
    names = ", ".join(name for name, _, _ in slices)
    disc_text = ", ".join(f"{t}:{p}" for t, p in discs) or "—"
    closed, open_at_end, ordered = slicing.rules == "closed", slicing.rules == "openAtEnd", slicing.ordered
    keep_order = open_at_end or ordered

    def apply_slicing(ctx: Ctx, items: list[Item], parent_loc: str, res: Res, root: Res) -> None:
        assigned: list[list[Item] | None] = [None] * len(slices)
        order: list[int] = []  # each item's slice (-1: none), when the order matters
        unmatched: list[tuple[int, Item]] = []
        for pos, item in enumerate(items):
            value, _loc, tcode = item
            idx = find(ctx, value, tcode) if find is not None else None
            if idx is None:  # the general matching, slice by slice
                idx = -1
                if discs:
                    dvals: list[list[Item] | None] = [None] * len(discs)
                    for i, (_name, srule, plan) in enumerate(slices):
                        if _matches(ctx, srule, plan, value, tcode, dvals, res, root):
                            idx = i
                            break
            if idx >= 0:
                got = assigned[idx]
                if got is None:
                    assigned[idx] = [item]
                else:
                    got.append(item)
            else:
                unmatched.append((pos, item))
            if keep_order:
                order.append(idx)
        for (name, mn, mx, check), got in zip(per_slice, assigned, strict=True):
            n = len(got) if got is not None else 0
            if mn is not None and n < mn:
                ctx.error(IssueType.STRUCTURE, parent_loc, MsgId.SLICE_MIN, slice=name, name=label,
                          min=mn, count=n, discriminator=disc_text)
            if got is None:
                continue
            if mx is not None and mx >= 0 and n > mx:
                ctx.error(IssueType.STRUCTURE, got[mx][1], MsgId.SLICE_MAX, slice=name, name=label, max=mx, count=n)
            if check is not None:
                for value, loc, tcode in got:
                    check(ctx, value, loc, tcode, res, root)
        if closed:
            for _pos, (_v, loc, _t) in unmatched:
                ctx.error(IssueType.STRUCTURE, loc, MsgId.SLICE_UNMATCHED_CLOSED, name=label, slices=names)
        elif open_at_end and unmatched:
            first_unmatched = unmatched[0][0]
            if any(o >= 0 for o in order[first_unmatched:]):
                ctx.error(IssueType.STRUCTURE, unmatched[0][1][1], MsgId.SLICE_ORDER, name=label, slices=names)
        if ordered:
            matched = [o for o in order if o >= 0]
            if matched != sorted(matched):
                ctx.error(IssueType.STRUCTURE, parent_loc, MsgId.SLICE_ORDER, name=label, slices=names)

    return apply_slicing


def _finder(slices: tuple[tuple[str, Rule, tuple[_Disc, ...]], ...], discs: list[tuple[str, str]]) -> Finder | None:
    """A precomputed slice finder for the frequent single discriminators, or None: ``type``
    (Bundle entries by resource type), ``value`` on ``url`` when every slice matches by URL
    equality (extensions), ``value``/``pattern`` on ``$this`` (codings). Same outcome as
    :func:`_matches` slice by slice."""
    if len(discs) != 1 or not slices:
        return None
    steps = slices[0][2][0][2]
    if steps is not None and any(kind != discriminator.NAME for kind, _arg in steps):
        return None  # resolve(), extension(), ofType(): the general matching
    dtype, dpath = discs[0]
    firsts = [plan[0] for _name, _srule, plan in slices]
    if dtype == "type":
        return _type_finder(firsts[0][2], tuple(d[4] for d in firsts))
    if dtype not in ("value", "pattern"):
        return None
    if dpath == "url":
        return _url_finder(slices, firsts)
    if firsts[0][2] is None:
        return _this_finder(firsts)
    return None


def _type_finder(segs: Segments | None, type_sets: tuple[frozenset[str], ...]) -> Finder:
    def by_types(_ctx: Ctx, value: Any, tcode: str) -> int:
        found = set()
        for v, _l, t in discriminator.values(_ctx, value, segs, {}, {}) if segs is not None else [(value, "", tcode)]:
            rt = v.get("resourceType") if isinstance(v, dict) else None
            found.add(rt if isinstance(rt, str) else t)
        for i, types in enumerate(type_sets):
            if found & types:
                return i
        return -1

    if segs is None or len(segs) != 1 or segs[0][0] != discriminator.NAME or segs[0][1].endswith("[x]"):
        return by_types
    name = segs[0][1]
    first: dict[str, int] = {}
    for i, types in enumerate(type_sets):
        for t in types:
            first.setdefault(t, i)

    def by_type(ctx: Ctx, value: Any, tcode: str) -> int:
        # the usual shape, one object at the path (an entry's resource): its type decides alone
        v = value.get(name) if value.__class__ is dict else None
        if v.__class__ is dict:
            rt = v.get("resourceType")
            return first.get(rt if isinstance(rt, str) else "", -1)
        return by_types(ctx, value, tcode)

    return by_type


def _url_finder(slices: tuple[tuple[str, Rule, tuple[_Disc, ...]], ...], firsts: list[_Disc]) -> Finder | None:
    index: dict[Any, int] = {}
    for i, ((_name, srule, _plan), disc) in enumerate(zip(slices, firsts, strict=True)):
        sub = disc[3]
        if sub is None or not (sub.has_fixed or sub.has_pattern or sub.binding):
            urls: list[Any] = list(srule.type_profiles)
        elif sub.has_fixed:
            urls = [sub.fixed]
        elif sub.has_pattern:  # a str pattern matches by equality; others never match a str
            urls = [sub.pattern] if isinstance(sub.pattern, str) else []
        else:
            return None  # a binding: value set membership, general matching
        try:
            for u in urls:
                index.setdefault(u, i)
        except TypeError:  # unhashable fixed value
            return None

    def by_url(_ctx: Ctx, value: Any, _tcode: str) -> int | None:
        url = value.get("url") if value.__class__ is dict else None
        if url.__class__ is not str:
            return None
        return index.get(url, -1)

    return by_url


def _this_finder(firsts: list[_Disc]) -> Finder:
    # per slice, what it requires of the item itself: fixed, pattern, binding, or nothing
    # (on $this the rule at the discriminator path is the slice's own)
    tests = tuple((sub.has_fixed, sub.fixed, match, sub.binding)  # type: ignore[union-attr]
                  for _t, _p, _s, sub, _ty, match in firsts)

    def by_value(ctx: Ctx, value: Any, _tcode: str) -> int:
        for i, (has_fixed, fixed, match, binding) in enumerate(tests):
            if has_fixed:
                if value == fixed:
                    return i
            elif match is not None:
                if match(value, ctx.registry.terminology.aliases)[0]:
                    return i
            elif binding is not None:
                if _in_vs(ctx, binding[1], value):
                    return i
            else:
                return i
        return -1

    return by_value
