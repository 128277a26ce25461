"""FHIR search-parameter plumbing shared by ITI-66 and ITI-67 (FHIR R4 search: token, date with
prefixes, string; FACTS §3.2 lists the PDSm parameters)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, false, func, or_

from dmp.fhir import bad_request, ins_of_search, parse_datetime

MAX_COUNT = 100
DEFAULT_COUNT = 20


def like_escape(v: str) -> str:
    return v.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def token_clause(column: Any, value: str) -> ColumnElement[bool]:
    """``system|code``, ``|code`` (no system) or ``code`` against a ``system|code`` column; comma = OR."""
    parts = []
    for v in value.split(","):
        if "|" in v:
            parts.append(column == v)
        else:
            parts.append(column.like(f"%|{like_escape(v)}", escape="\\"))
    return or_(*parts) if parts else false()


def multi_token_clause(column: Any, value: str) -> ColumnElement[bool]:
    """Same against a ``,system|code,system|code,`` column."""
    parts = []
    for v in value.split(","):
        if "|" in v:
            parts.append(column.like(f"%,{like_escape(v)},%", escape="\\"))
        else:
            parts.append(column.like(f"%|{like_escape(v)},%", escape="\\"))
    return or_(*parts) if parts else false()


_PREFIXES = ("eq", "ne", "gt", "lt", "ge", "le", "sa", "eb")


def _precision_end(raw: str, start: datetime) -> datetime:
    try:
        if len(raw) == 4:
            return start.replace(year=start.year + 1)
        if len(raw) == 7:
            return (start.replace(day=28) + timedelta(days=4)).replace(day=1)
        if len(raw) == 10:
            return start + timedelta(days=1)
        return start + timedelta(seconds=1)
    except (OverflowError, ValueError):  # the period ends after year 9999: it runs to the end of time
        return datetime.max.replace(tzinfo=start.tzinfo)


def date_clause(column: Any, value: str, name: str) -> ColumnElement[bool]:
    prefix, raw = ("eq", value)
    if value[:2] in _PREFIXES:
        prefix, raw = value[:2], value[2:]
    start = parse_datetime(raw)
    if start is None:
        raise bad_request(f"valeur de date invalide pour {name} : {value[:60]!r}", name)
    end = _precision_end(raw, start)
    return {
        "eq": (column >= start) & (column < end), "ne": (column < start) | (column >= end),
        "gt": column >= end, "sa": column >= end, "lt": column < start, "eb": column < start,
        "ge": column >= start, "le": column < end,
    }[prefix]


def string_clause(column: Any, value: str) -> ColumnElement[bool]:
    """FHIR string search: case-insensitive starts-with; comma = OR."""
    return or_(*[func.lower(column).like(like_escape(v.lower()) + "%", escape="\\") for v in value.split(",")])


def patient_ins(params: dict[str, list[str]]) -> str | None:
    """INS from ``patient`` (``Patient/<INS>``, full URL or bare) or ``patient.identifier``."""
    for v in params.get("patient.identifier", []) + params.get("patient:identifier", []):
        ins = ins_of_search(v)
        if ins is None:
            raise bad_request("patient.identifier : système INS attendu (urn:oid:1.2.250.1.213.1.4.8|<INS>)",
                              "patient.identifier")
        return ins
    for v in params.get("patient", []):
        return v.rstrip("/").rsplit("Patient/", 1)[-1] or None
    return None


MAX_OFFSET = 1_000_000_000


def count_offset(params: dict[str, list[str]]) -> tuple[int, int]:
    try:
        count = int((params.get("_count") or [str(DEFAULT_COUNT)])[0])
        offset = int((params.get("_offset") or ["0"])[0])
    except ValueError:
        raise bad_request("_count et _offset sont des entiers", "_count") from None
    if count < 0 or offset < 0:
        raise bad_request("_count et _offset sont positifs", "_count")
    if offset > MAX_OFFSET:  # beyond any database integer too: refuse rather than overflow
        raise bad_request(f"_offset au-delà de {MAX_OFFSET}", "_offset")
    return min(count, MAX_COUNT), offset


#: bounds of one search (a real FHIR server refuses far smaller URLs: 414 beyond ~8 kB); beyond
#: them a search is a 400, never a database error (SQLite: 1,000-deep expressions, 50 kB patterns)
MAX_SEARCH_VALUES = 100
MAX_SEARCH_VALUE_CHARS = 2048


def grouped(items: list[tuple[str, str]]) -> dict[str, list[str]]:
    """Search parameters by name, within :data:`MAX_SEARCH_VALUES` values (comma-separated ones
    included) of at most :data:`MAX_SEARCH_VALUE_CHARS` characters each."""
    if sum(v.count(",") + 1 for _, v in items) > MAX_SEARCH_VALUES:
        raise bad_request(f"trop de valeurs de paramètres de recherche (au plus {MAX_SEARCH_VALUES})",
                          items[0][0] if items else None)
    for k, v in items:
        if len(v) > MAX_SEARCH_VALUE_CHARS or len(k) > MAX_SEARCH_VALUE_CHARS:
            raise bad_request(f"valeur du paramètre {k[:60]!r} trop longue (au plus {MAX_SEARCH_VALUE_CHARS} "
                              "caractères)", k[:60])
    out: dict[str, list[str]] = {}
    for k, v in items:
        out.setdefault(k, []).append(v)
    return out


@dataclass
class SearchQuery:
    """A parsed ITI-66/ITI-67 search: the patient, the statement, paging, ignored parameters."""

    ins: str
    select: Select
    count: int
    offset: int
    ignored: list[str] = field(default_factory=list)
