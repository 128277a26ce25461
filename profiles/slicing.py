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


def _values(value: Any, path: str) -> list[Item]:
    if path in ("$this", ""):
        return [(value, "", "")]
    cur: list[Item] = [(value, "", "")]
    for seg in path.replace(".resolve()", "").split("."):
        nxt: list[Item] = []
        for v, _l, _t in cur:
            if seg.startswith("extension(") and seg.endswith(")"):
                url = seg[len("extension(") + 1:-2]
                nxt += [(e, "", "") for e in (v.get("extension") or []) if isinstance(v, dict)
                        and isinstance(e, dict) and e.get("url") == url]
            else:
                nxt += values_of(v, seg, "") or values_of(v, seg + "[x]", "")
        cur = nxt
    return cur


def _matches(ctx: Ctx, slice_rule: Rule, value: Any, tcode: str, discs: list[tuple[str, str]],
             res: dict[str, Any], root: dict[str, Any]) -> bool:
    aliases = ctx.registry.terminology.aliases
    for dtype, dpath in discs:
        sub = _sub_rule(slice_rule, dpath)
        vals = _values(value, dpath)
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
            if sub is None or not sub.types:
                return False
            found = set()
            for v, _l, t in vals if dpath not in ("$this", "") else [(value, "", tcode)]:
                rt = v.get("resourceType") if isinstance(v, dict) else None
                found.add(rt if isinstance(rt, str) else t)
            if not found & set(sub.types):
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
    for pos, item in enumerate(items):
        value, _loc, tcode = item
        for idx, (name, srule) in enumerate(slices):
            if slicing.discriminators and _matches(ctx, srule, value, tcode, slicing.discriminators, res, root):
                assigned[name].append(item)
                order.append(idx)
                break
        else:
            unmatched.append((pos, item))
            order.append(-1)
    label = rule.name[:-3] if rule.is_choice else rule.name
    names = ", ".join(n for n, _ in slices)
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
            ctx.error(IssueType.STRUCTURE, loc, MsgId.SLICE_UNMATCHED_CLOSED, name=label, slices=names)
    elif slicing.rules == "openAtEnd" and unmatched:
        first_unmatched = unmatched[0][0]
        if any(o >= 0 for o in order[first_unmatched:]):
            ctx.error(IssueType.STRUCTURE, unmatched[0][1][1], MsgId.SLICE_ORDER, name=label, slices=names)
    if slicing.ordered:
        matched = [o for o in order if o >= 0]
        if matched != sorted(matched):
            ctx.error(IssueType.STRUCTURE, parent_loc, MsgId.SLICE_ORDER, name=label, slices=names)


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
