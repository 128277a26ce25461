"""JSON parsing that keeps decimal literals as written (FHIR R4 §2.6.2 JSON representation,
§2.24.0.1 ``decimal``: the precision of a decimal is significant — ``0.010`` is not ``0.01`` —
and its JSON number must be handled without loss).

:func:`parse_json` reads RFC 8259 JSON (UTF-8, no ``NaN``/``Infinity``, no lone surrogate
escapes) and turns every number written with a fraction or an exponent into a
:class:`DecimalLiteral`: a ``float`` (arithmetic, comparisons and ``isinstance`` checks work
unchanged) that remembers its text. Integers stay exact Python ints. The validator reads the text
where it matters: a decimal written ``1.0`` or ``1e2`` is not an ``integer``, messages quote the
value as written, and fixed/pattern values compare value *and* precision when both sides are
literals. Plain floats (``profiles.validate`` on an already parsed dict) behave as before.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

import orjson

from profiles.issues import Issue, IssueType, Severity, make_issue
from profiles.messages import MsgId


class DecimalLiteral(float):
    """A JSON number that has a fraction or an exponent, with its text as written."""

    __slots__ = ("text",)
    text: str

    def __new__(cls, text: str) -> DecimalLiteral:
        obj = super().__new__(cls, text)
        obj.text = text
        return obj

    def __str__(self) -> str:
        return self.text

    __repr__ = __str__

    def _digits(self) -> tuple[Any, ...]:
        return tuple(Decimal(self.text).as_tuple())

    def __eq__(self, other: object) -> bool:
        if other.__class__ is DecimalLiteral:
            return self._digits() == other._digits()  # type: ignore[attr-defined]
        return float.__eq__(self, other)  # type: ignore[operator]

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = float.__hash__


def dumps_default(obj: object) -> object:
    """``orjson.dumps(default=...)`` hook writing a :class:`DecimalLiteral` as written."""
    if obj.__class__ is DecimalLiteral:
        return orjson.Fragment(obj.text)  # type: ignore[attr-defined]
    raise TypeError(type(obj).__name__)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


# a \uD800-\uDFFF escape: only then can a lone surrogate reach the parsed strings
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def _syntax(reason: str) -> list[Issue]:
    return [make_issue(Severity.FATAL, IssueType.STRUCTURE, "", MsgId.JSON_SYNTAX, reason=reason[:120])]


def parse_json(raw: bytes) -> tuple[Any, list[Issue]]:
    """Parse ``raw``; a syntax error becomes a fatal ``STRUCT_JSON_SYNTAX`` issue, never an exception."""
    try:
        text = raw.decode("utf-8")
        doc = json.loads(text, parse_float=DecimalLiteral, parse_constant=_no_constant)
    except RecursionError:
        return None, _syntax("nesting too deep")
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, NaN/Infinity
        return None, _syntax(str(exc))
    if _SURROGATE_ESCAPE.search(text) is not None:
        try:  # orjson refuses unpaired surrogates, as RFC 8259 §8.2 advises
            orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            if "surrogate" in str(exc):
                return None, _syntax(str(exc))
    return doc, []
