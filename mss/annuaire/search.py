"""FHIR search over the directory (FHIR R4 search; Annuaire Santé search parameters, FACTS §2.6).

Parameters: ``_id``, ``identifier`` (token ``[system|]value``: RPPS, IDNPS, FINESS, IDNST,
SIRET), ``name`` (string: starts with, ``:contains``, ``:exact``; accents and case ignored except
with ``:exact``), ``mailbox-mss`` (string on the MSSanté telecoms, ``:contains``/``:exact``),
``mailbox-mss-type`` (token on the metadata ``type``: PER, ORG, APP, CAB), ``active``; on
PractitionerRole also ``practitioner`` and ``organization`` (reference), with
``_include=PractitionerRole:practitioner|organization``; paging with ``_count`` (default 50, max
1000) and ``_offset``. An unknown parameter, modifier or malformed value is a 400
OperationOutcome naming it (strict, like a server with ``handling=strict``).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from mss.annuaire.resources import BAL_TYPES, EXT_MAILBOX_METADATA, TRE_R257, Directory, mailbox_type
from sandbox.errors import FhirError

DEFAULT_COUNT = 50
MAX_COUNT = 1000
COMMON = ("_id", "identifier", "name", "mailbox-mss", "mailbox-mss-type", "active")
PARAMS: dict[str, tuple[str, ...]] = {
    "Practitioner": COMMON,
    "Organization": COMMON,
    "PractitionerRole": tuple(p for p in COMMON if p != "name") + ("practitioner", "organization"),
}
STRING_MODIFIERS = ("", "contains", "exact")
CONTROL = ("_count", "_offset", "_include", "_format", "_total")


@dataclass
class SearchResult:
    total: int
    matches: list[dict[str, Any]]
    included: list[dict[str, Any]]
    offset: int
    count: int


def _fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).lower()


def _string_match(values: Sequence[str], wanted: str, modifier: str) -> bool:
    if modifier == "exact":
        return wanted in values
    w = _fold(wanted)
    if modifier == "contains":
        return any(w in _fold(v) for v in values)
    return any(_fold(v).startswith(w) for v in values)


def _names(r: dict[str, Any]) -> list[str]:
    if r["resourceType"] == "Organization":
        return [r.get("name", "")]
    out = []
    for n in r.get("name", []):
        out += [n.get("family", ""), *n.get("given", []), " ".join([*n.get("given", []), n.get("family", "")])]
    return out


def _mailboxes(r: dict[str, Any]) -> list[dict[str, Any]]:
    return [t for t in r.get("telecom", [])
            if any(e.get("url") == EXT_MAILBOX_METADATA for e in t.get("extension", []))]


def _token(value: str, name: str) -> tuple[str | None, str]:
    if not value:
        raise FhirError(400, "invalid", f"valeur vide pour le paramètre {name} / empty value for {name}",
                        expression=name)
    if "|" in value:
        system, _, code = value.partition("|")
        return system, code
    return None, value


def _matcher(rtype: str, name: str, modifier: str, value: str) -> Callable[[dict[str, Any]], bool]:
    if name in ("name", "mailbox-mss"):
        if modifier not in STRING_MODIFIERS:
            raise FhirError(400, "not-supported", f"modificateur :{modifier} non supporté pour {name} "
                            f"(:contains, :exact) / modifier :{modifier} not supported", expression=name)
        if name == "name":
            return lambda r: _string_match(_names(r), value, modifier)
        return lambda r: _string_match([t.get("value", "") for t in _mailboxes(r)], value, modifier)
    if modifier:
        raise FhirError(400, "not-supported", f"modificateur :{modifier} non supporté pour {name} / "
                        f"modifier not supported", expression=name)
    if name == "_id":
        return lambda r: r["id"] == value
    if name == "identifier":
        system, code = _token(value, name)
        return lambda r: any(i.get("value") == code and (system is None or system == "" or i.get("system") == system)
                             for i in r.get("identifier", []))
    if name == "mailbox-mss-type":
        system, code = _token(value, name)
        if code not in BAL_TYPES:
            raise FhirError(400, "code-invalid", f"type de BAL inconnu {code[:20]!r} (PER, ORG, APP, CAB) / "
                            f"unknown mailbox type", expression=name)
        if system not in (None, "", TRE_R257) and "TypeBAL" not in (system or ""):
            return lambda r: False
        return lambda r: any(mailbox_type(t) == code for t in _mailboxes(r))
    if name == "active":
        if value not in ("true", "false"):
            raise FhirError(400, "invalid", f"active attend true ou false (trouvé {value[:20]!r})", expression=name)
        return lambda r: str(r.get("active", True)).lower() == value
    if name in ("practitioner", "organization"):
        target = value if "/" in value else f"{'Practitioner' if name == 'practitioner' else 'Organization'}/{value}"
        return lambda r: r.get(name, {}).get("reference") == target
    raise FhirError(400, "not-supported", f"paramètre {name} non supporté sur {rtype}", expression=name)


def _int(params: list[tuple[str, str]], name: str, default: int, high: int) -> int:
    values = [v for k, v in params if k == name]
    if not values:
        return default
    try:
        n = int(values[-1])
    except ValueError:
        raise FhirError(400, "invalid", f"{name} doit être un entier (trouvé {values[-1][:20]!r})",
                        expression=name) from None
    if n < 0:
        raise FhirError(400, "invalid", f"{name} doit être positif ou nul", expression=name)
    return min(n, high)


def search(directory: Directory, rtype: str, params: list[tuple[str, str]]) -> SearchResult:
    """Run a search; raises :class:`FhirError` (400) on an unknown parameter or a malformed value."""
    allowed = PARAMS[rtype]
    matchers = []
    includes: list[str] = []
    for key, value in params:
        name, _, modifier = key.partition(":")
        if name in CONTROL:
            if name == "_include":
                if rtype != "PractitionerRole" or value not in ("PractitionerRole:practitioner",
                                                                "PractitionerRole:organization"):
                    raise FhirError(400, "not-supported", f"_include={value[:60]} non supporté", expression="_include")
                includes.append(value.split(":", 1)[1])
            continue
        if name not in allowed:
            raise FhirError(400, "not-supported", f"paramètre de recherche inconnu sur {rtype} : {name[:60]} "
                            f"(connus : {', '.join(allowed)}) / unknown search parameter", expression=name[:60])
        alternatives = [_matcher(rtype, name, modifier, v) for v in (value.split(",") if value else [value])]
        matchers.append(lambda r, alts=alternatives: any(m(r) for m in alts))
    count = _int(params, "_count", DEFAULT_COUNT, MAX_COUNT)
    offset = _int(params, "_offset", 0, 10**9)
    hits = [r for r in directory.of_type(rtype) if all(m(r) for m in matchers)]
    page = hits[offset:offset + count]
    included: list[dict[str, Any]] = []
    for field in includes:
        target_type = "Practitioner" if field == "practitioner" else "Organization"
        wanted = {r.get(field, {}).get("reference", "").split("/", 1)[-1] for r in page}
        included += [t for t in directory.of_type(target_type) if t["id"] in wanted]
    return SearchResult(len(hits), page, included, offset, count)
