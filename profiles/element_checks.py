"""Checks of one element value against a profile's ElementDefinition (FHIR R4 §2.12).

``fixed[x]`` is equality, ``pattern[x]`` is containment (:func:`pattern_matcher`, compiled once
per pattern), bindings by strength (required → error, extensible → warning, preferred →
information), native constraints (NIR key, UCUM). :func:`values_of` reads an element's values
from a JSON node, choice types (``value[x]``) included.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from profiles import code_grammars, nir, ucum
from profiles.context import Ctx
from profiles.issues import IssueType, Severity
from profiles.literals import dumps_default
from profiles.messages import MsgId

Item = tuple[Any, str, str]  # value, location, type code (from the JSON key of choices)
#: (matches, (alias used, canonical system) when a system alias made it match)
Match = tuple[bool, "tuple[str, str] | None"]
Matcher = Callable[[Any, dict[str, str]], Match]


def values_of(node: Any, name: str, loc: str) -> list[Item]:
    if not isinstance(node, dict):
        return []
    if name.endswith("[x]"):
        base = name[:-3]
        n = len(base)
        if not n:  # a malformed "[x]": every key of an upper-case initial
            return [(v, f"{loc}..ofType({type_name(k)})", type_name(k)) for k, v in node.items() if k[:1].isupper()]
        # base < k < after: k starts with base and is longer (after: base with its last character
        # incremented, the first string past every one that starts with base)
        after = base[:-1] + chr(ord(base[-1]) + 1)
        out: list[Item] = []
        for k, v in node.items():
            if base < k < after and k[n].isupper():
                t = type_name(k[n:])
                out.append((v, f"{loc}.{base}.ofType({t})", t))
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


def type_name(suffix: str) -> str:
    """JSON choice suffix → FHIR type code (valueDateTime → dateTime, valueQuantity → Quantity)."""
    low = suffix[0].lower() + suffix[1:]
    return low if low in _PRIMS else suffix


def short(v: Any) -> str:
    s = orjson.dumps(v, default=dumps_default).decode() if not isinstance(v, str) else v
    return s if len(s) <= 120 else s[:117] + "..."


_NO: Match = (False, None)


def pattern_matcher(pattern: Any) -> Matcher:
    """pattern[x] semantics, compiled: every property of the pattern is present in the value
    (arrays: each pattern item matched by some value item). System URL aliases count as a match."""
    if isinstance(pattern, dict):
        # (key, pattern value, matcher of a non-string pattern value)
        parts = tuple((k, pv, None if pv.__class__ is str else pattern_matcher(pv)) for k, pv in pattern.items())

        def match_object(value: Any, aliases: dict[str, str]) -> Match:
            if not isinstance(value, dict):
                return _NO
            used = None
            for k, pv, sub in parts:
                if k not in value:
                    return _NO
                vk = value[k]
                if sub is None:  # a string leaf, compared here rather than by a call
                    if pv == vk:
                        continue
                    if k == "system" and isinstance(vk, str) and aliases.get(vk) == pv:
                        used = used or (vk, pv)
                        continue
                    return _NO
                ok, a = sub(vk, aliases)
                if not ok and k == "system" and isinstance(vk, str) and aliases.get(vk) == pv:
                    ok, a = True, (vk, pv)
                if not ok:
                    return _NO
                used = used or a
            return True, used

        return match_object
    if isinstance(pattern, list):
        subs = tuple(pattern_matcher(pv) for pv in pattern)

        def match_array(value: Any, aliases: dict[str, str]) -> Match:
            if not isinstance(value, list):
                return _NO
            used = None
            for sub in subs:
                for vv in value:
                    ok, a = sub(vv, aliases)
                    if ok:
                        used = used or a
                        break
                else:
                    return _NO
            return True, used

        return match_array
    return lambda value, _aliases: (pattern == value, None)


_SEV = {"required": Severity.ERROR, "extensible": Severity.WARNING, "preferred": Severity.INFORMATION}
_MSG = {"required": MsgId.CODE_NOT_IN_VS, "extensible": MsgId.CODE_NOT_IN_VS_EXTENSIBLE,
        "preferred": MsgId.CODE_NOT_IN_VS_PREFERRED}


def check_binding(ctx: Ctx, binding: tuple[str, str], value: Any, loc: str) -> None:
    strength, vs = binding
    term = ctx.registry.terminology
    idx = term.index(vs)
    if idx is None and vs.split("|", 1)[0] not in code_grammars.GRAMMARS:
        if strength == "required":
            ctx.warn(IssueType.NOT_SUPPORTED, loc, MsgId.VS_UNKNOWN, vs=vs)
        return
    # the usual case first: a member code, or a first coding that is a member under its canonical
    # system (what the loop below would accept on its first pair, with no alias to report)
    if idx is None:
        pass  # a grammar-checked value set: the general lookup below
    elif value.__class__ is str:
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


#: native implementations of profile constraints (extension native-check): name -> check(ctx, value, loc)
NATIVE_CHECKS: dict[str, Callable[[Ctx, Any, str], None]] = {
    "nir-key": nir.check,
    "ucum": ucum.check_quantity,
}
