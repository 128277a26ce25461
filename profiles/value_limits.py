"""``minValue[x]`` / ``maxValue[x]`` of a profile's ElementDefinition (FHIR R4 §2.12
ElementDefinition.minValue[x]: "the minimum allowed value for the element"; inclusive).

Compared by type: integers and decimals by value; dates, dateTimes, instants and times by their
common precision (a value less precise than the limit that agrees with it up to its own precision
cannot be judged and passes, as FHIRPath's comparison of partial dates is empty); Quantities
(Age, Duration, Distance, Count...) by value when their UCUM codes are equal or convert into one
another through the prefixes and atoms :data:`_FACTORS` knows (``mg`` vs ``g``, ``min`` vs ``h``);
other unit pairs cannot be compared and give an information issue, never an error.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from profiles.context import Ctx
from profiles.issues import IssueType
from profiles.messages import MsgId

#: UCUM atom -> (dimension, factor to the dimension's base unit); metric atoms take the prefixes
_FACTORS: dict[str, tuple[str, Decimal]] = {
    "g": ("M", Decimal(1)), "L": ("V", Decimal(1)), "l": ("V", Decimal(1)), "m": ("Len", Decimal(1)),
    "mol": ("N", Decimal(1)), "s": ("T", Decimal(1)), "min": ("T", Decimal(60)), "h": ("T", Decimal(3600)),
    "d": ("T", Decimal(86400)), "wk": ("T", Decimal(604800)), "a": ("T", Decimal("31557600")),
    "mo": ("T", Decimal("2629800")), "%": ("1", Decimal("0.01")), "1": ("1", Decimal(1)),
}
_METRIC = frozenset(("g", "L", "l", "m", "mol", "s"))
_PREFIX = {"k": Decimal(10) ** 3, "h": Decimal(100), "da": Decimal(10), "d": Decimal("0.1"), "c": Decimal("0.01"),
           "m": Decimal("0.001"), "u": Decimal(10) ** -6, "n": Decimal(10) ** -9, "p": Decimal(10) ** -12}
_NUMERIC = frozenset(("integer", "decimal", "positiveInt", "unsignedInt"))
_TEMPORAL = frozenset(("date", "dateTime", "instant", "time"))


def limits_of(el: dict[str, Any]) -> tuple[tuple[str, Any] | None, tuple[str, Any] | None]:
    """(minimum, maximum) of an ElementDefinition as (type code, value), None when absent."""
    out: list[tuple[str, Any] | None] = []
    for prefix in ("minValue", "maxValue"):
        found = None
        for k, v in el.items():
            if k.startswith(prefix) and len(k) > len(prefix) and k[len(prefix)].isupper():
                t = k[len(prefix):]
                found = (t if t == "Quantity" else t[0].lower() + t[1:], v)
        out.append(found)
    return out[0], out[1]


def _unit(code: str) -> tuple[str, Decimal] | None:
    """(dimension, factor) of a simple UCUM code (prefix + atom), None if unknown here."""
    if code in _FACTORS:
        return _FACTORS[code]
    for p in sorted(_PREFIX, key=len, reverse=True):
        atom = code[len(p):]
        if code.startswith(p) and atom in _METRIC:
            dim, f = _FACTORS[atom]
            return dim, f * _PREFIX[p]
    return None


def _dec(v: Any) -> Decimal | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    try:
        return Decimal(str(v))
    except InvalidOperation:
        return None


def _quantity(v: Any) -> tuple[Decimal, str] | None:
    if not isinstance(v, dict):
        return None
    d = _dec(v.get("value"))
    code = v.get("code") if isinstance(v.get("code"), str) else v.get("unit")
    return (d, code) if d is not None and isinstance(code, str) else None


_TZ = re.compile(r"(Z|[+-]\d\d:\d\d)$")


def _compare(kind: str, value: Any, limit: Any) -> int | None:
    """-1, 0, 1 (value below, equal to, above the limit), None when it cannot be told."""
    if kind in _NUMERIC:
        a, b = _dec(value), _dec(limit)
        return None if a is None or b is None else (a > b) - (a < b)
    if kind in _TEMPORAL:
        if not isinstance(value, str) or not isinstance(limit, str):
            return None
        if len(value) >= 19 and len(limit) >= 19 and _TZ.search(value) and _TZ.search(limit):
            try:  # two instants: compared on the time line
                da = datetime.fromisoformat(value.replace("Z", "+00:00"))
                db = datetime.fromisoformat(limit.replace("Z", "+00:00"))
                return (da > db) - (da < db)
            except ValueError:
                return None
        sa, sb = _TZ.sub("", value), _TZ.sub("", limit)
        n = min(len(sa), len(sb))
        sa, sb = sa[:n], sb[:n]
        if sa == sb and len(value) != len(limit):
            return None  # agrees up to the lesser precision: not comparable
        return (sa > sb) - (sa < sb)
    if kind == "Quantity":
        qa, qb = _quantity(value), _quantity(limit)
        if qa is None or qb is None:
            return None
        (va, ua), (vb, ub) = qa, qb
        if ua != ub:
            fa, fb = _unit(ua), _unit(ub)
            if fa is None or fb is None or fa[0] != fb[0]:
                return None
            va, vb = va * fa[1], vb * fb[1]
        return (va > vb) - (va < vb)
    return None


def check_limits(ctx: Ctx, limits: tuple[tuple[str, Any] | None, tuple[str, Any] | None], value: Any,
                 loc: str) -> None:
    low, high = limits
    for bound, bad, msg in ((low, -1, MsgId.VALUE_BELOW_MIN), (high, 1, MsgId.VALUE_ABOVE_MAX)):
        if bound is None:
            continue
        kind, limit = bound
        c = _compare(kind, value, limit)
        shown = f"{limit.get('value')} {limit.get('code') or limit.get('unit') or ''}".strip() if isinstance(
            limit, dict) else str(limit)
        if c is None:
            if kind == "Quantity" and isinstance(value, dict):
                ctx.info(IssueType.INFORMATIONAL, loc, MsgId.VALUE_LIMIT_NOT_COMPARED, limit=shown)
        elif c == bad:
            found = f"{value.get('value')} {value.get('code') or value.get('unit') or ''}".strip() if isinstance(
                value, dict) else str(value)
            ctx.error(IssueType.VALUE, loc, msg, found=found, limit=shown)
