"""Primitive datatype checks (FHIR R4 §2.24.0.1 primitive types, §2.6.2 JSON representation).

JSON types: ``boolean`` as true/false, ``integer``/``positiveInt``/``unsignedInt``/``decimal`` as
JSON numbers, everything else as strings (a decimal written ``"12"`` is an error, not coerced).
Formats use the regexes of the official definitions (carried in the base table) plus calendar
validity for dates, integer ranges and base64 decoding. :func:`fast_source` gives the source of a
cheap test that accepts only valid values (the walkers inline it; :func:`fast_checker` is the
same test as a function); anything it does not accept goes to :func:`check`.
"""

from __future__ import annotations

import base64
import binascii
import calendar
import re
from collections.abc import Callable
from functools import cache
from typing import Any

from profiles.base import base_model
from profiles.literals import DecimalLiteral
from profiles.messages import MsgId

# returns None when fine, else (msg id, args)
Problem = tuple[MsgId, dict[str, object]] | None

_NUMERIC = {"integer", "positiveInt", "unsignedInt", "decimal"}
_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1
_DATE_PART = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")
# Types whose official regex we replace by a cheaper equivalent check
_OVERRIDE = {"base64Binary", "string", "markdown", "xhtml", "integer", "positiveInt",
             "unsignedInt", "decimal", "boolean"}
# official regexes of uri/url/canonical and of code, recognised by fast_checker
_NO_WHITESPACE = r"\S*"
_TOKENS = r"[^\s]+(\s[^\s]+)*"


@cache
def _regex(type_code: str) -> re.Pattern[str] | None:
    t = base_model().types.get(type_code)
    if t is None or "regex" not in t or type_code in _OVERRIDE:
        return None
    return re.compile(t["regex"])


def _json_name(v: object) -> str:
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    if isinstance(v, dict):
        return "object"
    return "null"


def _short(v: object) -> str:
    s = str(v)
    return s if len(s) <= 60 else s[:57] + "..."


def _check_date_calendar(value: str) -> bool:
    m = _DATE_PART.match(value)
    if not m or not m.group(3):
        return True
    y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
    return 1 <= mo <= 12 and 1 <= d <= calendar.monthrange(y, mo)[1]


def check(type_code: str, value: object) -> Problem:
    """Check one primitive JSON value against its FHIR type."""
    if type_code == "boolean":
        if not isinstance(value, bool):
            return MsgId.PRIMITIVE_JSON_TYPE, {"type": type_code, "expected": "boolean", "found": _json_name(value)}
        return None
    if type_code in _NUMERIC:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return MsgId.PRIMITIVE_JSON_TYPE, {"type": type_code, "expected": "number", "found": _json_name(value)}
        if value.__class__ is DecimalLiteral:
            # kept as written (validate_bytes): the JSON number grammar is the decimal regex of
            # FHIR R4 §2.24.0.1, and integer types admit neither a fraction nor an exponent (1.0, 1e2)
            if type_code == "decimal":
                return None
            return MsgId.PRIMITIVE_FORMAT, {"type": type_code, "value": _short(value)}
        if type_code == "decimal":
            if value != value or value in (float("inf"), float("-inf")):
                return MsgId.PRIMITIVE_FORMAT, {"type": type_code, "value": _short(value)}
            return None
        if isinstance(value, float) and not value.is_integer():
            return MsgId.PRIMITIVE_FORMAT, {"type": type_code, "value": _short(value)}
        lo = 1 if type_code == "positiveInt" else 0 if type_code == "unsignedInt" else _INT_MIN
        if not lo <= value <= _INT_MAX:
            return MsgId.PRIMITIVE_RANGE, {"type": type_code, "value": _short(value)}
        return None
    if not isinstance(value, str):
        return MsgId.PRIMITIVE_JSON_TYPE, {"type": type_code, "expected": "string", "found": _json_name(value)}
    if not value:
        return MsgId.PRIMITIVE_EMPTY, {"type": type_code}
    special = _SPECIAL.get(type_code)
    if special is not None:
        return special(type_code, value)
    rx = _regex(type_code)
    if rx is not None and rx.fullmatch(value) is None:
        return MsgId.PRIMITIVE_FORMAT, {"type": type_code, "value": _short(value)}
    if type_code in ("date", "dateTime", "instant") and not _check_date_calendar(value):
        return MsgId.DATE_IMPOSSIBLE, {"value": _short(value)}
    return None


def _check_base64(type_code: str, value: str) -> Problem:
    try:
        base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError):
        return MsgId.PRIMITIVE_FORMAT, {"type": type_code, "value": _short(value)}
    return None


#: R4 §2.24.0.1 string: "strings SHALL NOT exceed 1 MB (1024 × 1024 characters) in size"
STRING_LIMIT = 1024 * 1024


def _check_string(type_code: str, value: str) -> Problem:
    if value.isspace():
        return MsgId.PRIMITIVE_EMPTY, {"type": type_code}
    if len(value) > STRING_LIMIT:
        return MsgId.STRING_TOO_LONG, {"length": len(value)}
    return None


def _check_xhtml(type_code: str, value: str) -> Problem:
    # Narrative.div: an XHTML <div> (FHIR R4 §2.15.0 Narrative, txt-1/txt-2 checked in invariants)
    v = value.lstrip()
    if not v.startswith("<div") or not value.rstrip().endswith("</div>"):
        return MsgId.PRIMITIVE_FORMAT, {"type": type_code, "value": _short(value)}
    return None


_SPECIAL: dict[str, Callable[[str, str], Problem]] = {
    "base64Binary": _check_base64,
    "string": _check_string,
    "markdown": _check_string,
    "xhtml": _check_xhtml,
}


def has_outer_whitespace(value: object) -> bool:
    return isinstance(value, str) and bool(value) and (value[0].isspace() or value[-1].isspace())


def fast_source(type_code: str) -> tuple[str, dict[str, Any]]:
    """The source of a cheap test of a value ``v`` that is True only for values :func:`check`
    accepts (False → call check), and the names it uses (distinct per type, so that the tests of
    several types can share one namespace: generated walkers inline them)."""
    if type_code == "boolean":
        return "v.__class__ is bool", {}
    if type_code == "decimal":
        return ("v.__class__ is int or (v.__class__ is float and v == v and v not in _INFINITIES)",
                {"_INFINITIES": (float("inf"), float("-inf"))})
    if type_code in _NUMERIC:
        lo = 1 if type_code == "positiveInt" else 0 if type_code == "unsignedInt" else _INT_MIN
        return f"v.__class__ is int and {lo} <= v <= {_INT_MAX}", {}
    if type_code in ("string", "markdown"):
        # also False with outer whitespace, so that the caller's general path warns about it, and
        # over the 1 MB limit, so that it reports it
        return ('v.__class__ is str and v != "" and not v[0].isspace() and not v[-1].isspace() '
                f'and len(v) <= {STRING_LIMIT}', {})
    if type_code == "xhtml":
        return ('v.__class__ is str and v != "" and v.lstrip().startswith("<div") and v.rstrip().endswith("</div>")',
                {})
    if type_code in _SPECIAL:
        return f"_check({type_code!r}, v) is None", {"_check": check}
    rx = _regex(type_code)
    if rx is None:
        if type_code in ("date", "dateTime", "instant"):
            return f"_check({type_code!r}, v) is None", {"_check": check}
        return 'v.__class__ is str and v != ""', {}
    name = f"_match_{type_code}"
    names = {name: rx.fullmatch}
    if type_code in ("date", "dateTime", "instant"):
        # the regex bounds month 01-12 and day 01-31: only days 29-31 need the calendar
        names["_calendar"] = _check_date_calendar
        return (f'v.__class__ is str and v != "" and {name}(v) is not None and '
                '(len(v) < 10 or v[8:10] < "29" or _calendar(v))', names)
    # str.split() cuts at exactly the characters \s matches: a value that splits into itself
    # alone is a non-empty run without whitespace, decided without the regex engine
    if rx.pattern == _NO_WHITESPACE:
        return "v.__class__ is str and v.split() == [v]", {}
    if rx.pattern == _TOKENS:
        return f'v.__class__ is str and (v.split() == [v] or (v != "" and {name}(v) is not None))', names
    return f'v.__class__ is str and v != "" and {name}(v) is not None', names


@cache
def fast_checker(type_code: str) -> Callable[[object], bool]:
    """A cheap predicate that is True only for values :func:`check` accepts (False → call check)."""
    source, names = fast_source(type_code)
    return eval(f"lambda v: {source}", names)  # noqa: S307 - our own source (fast_source)
