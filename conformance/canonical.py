"""RFC 8785 JSON Canonicalization Scheme (JCS): the one byte form a report is hashed and signed in.

Objects' members sorted by the UTF-16 code units of their names, no insignificant whitespace,
strings escaped as ECMAScript's ``JSON.stringify`` does (only ``"``, ``\\`` and control
characters), numbers in ECMAScript's shortest round-trip form (RFC 8785 §3.2.2.3).
"""

from __future__ import annotations

import math
from json.encoder import encode_basestring  # type: ignore[attr-defined]
from typing import Any


class CanonicalError(ValueError):
    """A value JCS cannot represent (NaN, infinity, a non-string key, an unknown type)."""


def _number(value: float) -> str:
    """ECMAScript Number::toString of ``value`` (RFC 8785 §3.2.2.3)."""
    if math.isnan(value) or math.isinf(value):
        raise CanonicalError("NaN and infinity have no JSON form")
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    text = repr(abs(value))  # the shortest digits that round-trip, as ECMAScript requires
    mant, _, exp = text.partition("e")
    whole, _, frac = mant.partition(".")
    raw = (whole + frac).lstrip("0")
    digits = raw.rstrip("0")
    k = len(digits)
    n = k + int(exp or 0) - len(frac) + (len(raw) - k)
    if k <= n <= 21:
        out = digits + "0" * (n - k)
    elif 0 < n <= 21:
        out = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        out = "0." + "0" * -n + digits
    else:
        e = n - 1
        out = (digits[0] + ("." + digits[1:] if k > 1 else "")) + f"e{'+' if e > 0 else '-'}{abs(e)}"
    return sign + out


def _encode(value: Any, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, float):
        out.append(_number(value))
    elif isinstance(value, str):
        out.append(encode_basestring(value))
    elif isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise CanonicalError(f"object member names must be strings, not {type(key).__name__}")
        out.append("{")
        for i, key in enumerate(sorted(value, key=lambda k: k.encode("utf-16-be"))):
            if i:
                out.append(",")
            out.append(encode_basestring(key))
            out.append(":")
            _encode(value[key], out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _encode(item, out)
        out.append("]")
    else:
        raise CanonicalError(f"{type(value).__name__} has no JSON form")


def canonical_bytes(value: Any) -> bytes:
    """The RFC 8785 form of ``value``, UTF-8 encoded."""
    out: list[str] = []
    _encode(value, out)
    try:
        return "".join(out).encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate
        raise CanonicalError(f"a string holds a lone surrogate ({exc.reason})") from None
