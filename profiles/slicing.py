"""Slicing (FHIR R4 §5.1.0.13 "Slicing", ElementDefinition.slicing).

Each item of a sliced element is assigned to the first slice whose discriminators all match:
``value``/``pattern`` (fixed, pattern or required binding at the discriminator path), ``type``
(JSON choice type or ``resourceType``), ``profile`` (quiet conformance probe), ``exists``.
Extensions sliced without an explicit slicing use the implicit ``value`` discriminator on
``url``. Then: per-slice min/max, ``closed`` (no unmatched items), ``openAtEnd`` (unmatched
items only after the slices) and ``ordered``.
"""

from __future__ import annotations

from typing import Any

from profiles.context import Ctx
from profiles.issues import IssueType
from profiles.messages import MsgId
from profiles.profile_check import Item, apply_rule_item, conforms, contains, values_of
from profiles.sdef import Rule, Slicing

_EXT_SLICING = Slicing([("value", "url")], "open", False)


def _sub_rule(rule: Rule, path: str) -> Rule | None:
    if path in ("$this", ""):
        return rule
    cur: Rule | None = rule
    for seg in path.replace(".resolve()", "").split("."):
        if cur is None:
            return None
        if seg.startswith("extension(") and seg.endswith(")"):
            url = seg[len("extension(") + 1:-2]
            ext = cur.children.get("extension")
            cur = next((s for s in (ext.slices.values() if ext else []) if url in _ext_urls(s)), None)
            continue
        cur = cur.children.get(seg) or cur.children.get(seg + "[x]")
    return cur


def _ext_urls(rule: Rule) -> list[str]:
    urls = list(rule.type_profiles)
    url_rule = rule.children.get("url")
    if url_rule is not None and url_rule.has_fixed:
        urls.append(url_rule.fixed)
    return urls


def _segments(path: str) -> tuple[tuple[bool, str], ...] | None:
    """A discriminator path split once: (is ``extension('url')``, url or element name) per step."""
    segs = _SEGMENTS.get(path)
    if segs is None and path not in _SEGMENTS:
        if path not in ("$this", ""):
            segs = tuple(
                (True, seg[len("extension(") + 1:-2]) if seg.startswith("extension(") and seg.endswith(")")
                else (False, seg)
                for seg in path.replace(".resolve()", "").split(".")
            )
        _SEGMENTS[path] = segs
    return segs


_SEGMENTS: dict[str, tuple[tuple[bool, str], ...] | None] = {}


def _values(value: Any, segs: tuple[tuple[bool, str], ...] | None) -> list[Item]:
    if segs is None:
        return [(value, "", "")]
    cur: list[Item] = [(value, "", "")]
    for is_ext, seg in segs:
        nxt: list[Item] = []
        for v, _l, _t in cur:
            if is_ext:
                nxt += [(e, "", "") for e in (v.get("extension") or []) if isinstance(v, dict)
                        and isinstance(e, dict) and e.get("url") == seg]
            else:
                nxt += values_of(v, seg, "") or values_of(v, seg + "[x]", "")
        cur = nxt
    return cur


# one compiled discriminator: (type, path, path steps, the slice's rule at the path, its types)
_Disc = tuple[str, str, "tuple[tuple[bool, str], ...] | None", "Rule | None", frozenset[str]]


def _plan(slice_rule: Rule, discs: list[tuple[str, str]]) -> tuple[_Disc, ...]:
    """The slice's discriminators resolved once (cached on the rule, per discriminator list)."""
    cached = slice_rule.__dict__.get("_disc_plan")
    if cached is not None and cached[0] is discs:
        return cached[1]
    plan = []
    for dtype, dpath in discs:
        sub = _sub_rule(slice_rule, dpath)
        types = frozenset(sub.types) if sub is not None and sub.types else frozenset()
        plan.append((dtype, dpath, _segments(dpath), sub, types))
    out = tuple(plan)
    slice_rule.__dict__["_disc_plan"] = (discs, out)
    return out


def _matches(ctx: Ctx, slice_rule: Rule, value: Any, tcode: str, discs: list[tuple[str, str]],
             dvals: list[list[Item] | None], res: dict[str, Any], root: dict[str, Any]) -> bool:
    """Whether ``value`` belongs to the slice; ``dvals`` caches the item's values at each
    discriminator path (the same for every slice), computed on first use."""
    aliases = ctx.registry.terminology.aliases
    for j, (dtype, dpath, segs, sub, sub_types) in enumerate(_plan(slice_rule, discs)):
        vals = dvals[j]
        if vals is None:
            vals = dvals[j] = _values(value, segs)
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
            elif sub.has_pattern:
                if not any(contains(sub.pattern, v, aliases)[0] for v, _, _ in vals):
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
                conforms(ctx, p, v, t, res, root) for p in profs for v, _l, t in vals
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


def apply_slicing(ctx: Ctx, rule: Rule, items: list[Item], parent_loc: str, res: dict[str, Any],
                  root: dict[str, Any]) -> None:
    slicing = rule.slicing
    if slicing is None:
        if rule.name not in ("extension", "modifierExtension"):
            slicing = Slicing([], "open", False)
        else:
            slicing = _EXT_SLICING
    slices = list(rule.slices.items())
    assigned: dict[str, list[Item]] = {name: [] for name, _ in slices}
    order: list[int] = []
    unmatched: list[tuple[int, Item]] = []
    discs = slicing.discriminators
    fast = _fast_assigner(rule, slices, discs)
    for pos, item in enumerate(items):
        value, _loc, tcode = item
        idx = _fast_slice(fast, value, tcode) if fast is not None else None
        if idx is None:  # the general matching, slice by slice
            idx = -1
            dvals: list[list[Item] | None] = [None] * len(discs)
            for i, (_name, srule) in enumerate(slices):
                if discs and _matches(ctx, srule, value, tcode, discs, dvals, res, root):
                    idx = i
                    break
        if idx >= 0:
            assigned[slices[idx][0]].append(item)
        else:
            unmatched.append((pos, item))
        order.append(idx)
    label = rule.name[:-3] if rule.is_choice else rule.name
    for name, srule in slices:
        got = assigned[name]
        if srule.min is not None and len(got) < srule.min:
            ctx.error(IssueType.STRUCTURE, parent_loc, MsgId.SLICE_MIN, slice=name, name=label,
                      min=srule.min, count=len(got), discriminator=_disc_text(slicing))
        if srule.max is not None and srule.max >= 0 and len(got) > srule.max:
            ctx.error(IssueType.STRUCTURE, got[srule.max][1], MsgId.SLICE_MAX, slice=name, name=label,
                      max=srule.max, count=len(got))
        for value, loc, tcode in got:
            apply_rule_item(ctx, _without_card(srule), value, loc, tcode, res, root)
    if slicing.rules == "closed":
        for _pos, (_v, loc, _t) in unmatched:
            ctx.error(IssueType.STRUCTURE, loc, MsgId.SLICE_UNMATCHED_CLOSED, name=label, slices=_names(slices))
    elif slicing.rules == "openAtEnd" and unmatched:
        first_unmatched = unmatched[0][0]
        if any(o >= 0 for o in order[first_unmatched:]):
            ctx.error(IssueType.STRUCTURE, unmatched[0][1][1], MsgId.SLICE_ORDER, name=label,
                      slices=_names(slices))
    if slicing.ordered:
        matched = [o for o in order if o >= 0]
        if matched != sorted(matched):
            ctx.error(IssueType.STRUCTURE, parent_loc, MsgId.SLICE_ORDER, name=label, slices=_names(slices))


def _fast_assigner(rule: Rule, slices: list[tuple[str, Rule]], discs: list[tuple[str, str]]) -> Any:
    """A precomputed slice finder for the two frequent discriminators, or None.

    ``("type", path steps, per-slice type sets)`` for one ``type`` discriminator (Bundle entries by
    resource type), ``("url", url -> first slice index)`` for one ``value`` discriminator on
    ``url`` when every slice matches by URL equality (extensions). Same outcome as :func:`_matches`
    slice by slice; cached on the rule per discriminator list."""
    cached = rule.__dict__.get("_fast_assign")
    if cached is not None and cached[0] is discs:
        return cached[1]
    fast: Any = None
    if len(discs) == 1 and slices:
        dtype, dpath = discs[0]
        plans = [_plan(srule, discs)[0] for _, srule in slices]
        if dtype == "type":
            fast = ("type", _segments(dpath), tuple(p[4] for p in plans))
        elif dtype in ("value", "pattern") and dpath == "url":
            index: dict[Any, int] = {}
            for i, ((_name, srule), plan) in enumerate(zip(slices, plans)):
                sub = plan[3]
                if sub is None or not (sub.has_fixed or sub.has_pattern or sub.binding):
                    urls: list[Any] = list(srule.type_profiles)
                elif sub.has_fixed:
                    urls = [sub.fixed]
                elif sub.has_pattern:  # contains() of a str pattern is equality; others never match a str
                    urls = [sub.pattern] if isinstance(sub.pattern, str) else []
                else:
                    index = {}
                    break  # a binding: value set membership, general matching
                try:
                    for u in urls:
                        index.setdefault(u, i)
                except TypeError:  # unhashable fixed value
                    index = {}
                    break
            else:
                fast = ("url", index)
    rule.__dict__["_fast_assign"] = (discs, fast)
    return fast


def _fast_slice(fast: Any, value: Any, tcode: str) -> int | None:
    """Index of the item's slice (-1: none) by the fast finder; None when it cannot tell."""
    if fast[0] == "url":
        url = value.get("url") if value.__class__ is dict else None
        if url.__class__ is not str:
            return None
        return fast[1].get(url, -1)
    _kind, segs, type_sets = fast
    found = set()
    for v, _l, t in _values(value, segs) if segs is not None else [(value, "", tcode)]:
        rt = v.get("resourceType") if isinstance(v, dict) else None
        found.add(rt if isinstance(rt, str) else t)
    for i, types in enumerate(type_sets):
        if found & types:
            return i
    return -1


def _names(slices: list[tuple[str, Rule]]) -> str:
    return ", ".join(n for n, _ in slices)


_NOCARD: dict[int, Rule] = {}


def _without_card(rule: Rule) -> Rule:
    """The slice's rule minus its own cardinality (already counted per slice)."""
    r = _NOCARD.get(id(rule))
    if r is None:
        from dataclasses import replace

        r = replace(rule, min=None, max=None)
        _NOCARD[id(rule)] = r
    return r


def _disc_text(slicing: Slicing) -> str:
    return ", ".join(f"{t}:{p}" for t, p in slicing.discriminators) or "—"
