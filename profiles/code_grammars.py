"""Required value sets of the R4 base that no code list can hold offline, checked by grammar
(FHIR R4 §4.1.0.1: a required binding is never downgraded for lack of an expansion).

- ``mimetypes`` (system ``urn:ietf:bcp:13``): ``type/subtype`` tokens of RFC 6838 §4.2, optional
  parameters (``; charset=UTF-8``), and the shorthands ``xml``, ``json``, ``ttl`` R4 allows where
  a format is named (CapabilityStatement.format);
- ``currencies`` (``urn:iso:std:iso:4217``): three capital letters (ISO 4217 alphabetic codes);
- ``timezones`` (``urn:ietf:bcp:175``): an IANA time zone name, checked against the platform's
  tz database when it has one, by its ``Area/Location`` shape otherwise.

- ``ucum-units`` (``http://unitsofmeasure.org``): a valid UCUM expression, by the UCUM grammar over
  the whole UCUM table (:mod:`profiles.ucum`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache

_TOKEN = r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}"
_MIME = re.compile(rf"^{_TOKEN}/{_TOKEN}(\s*;\s*[A-Za-z0-9!#$&^_.+-]+=(\"[^\"]*\"|[^;\s]+))*$")
_SHORTHANDS = frozenset(("xml", "json", "ttl"))
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_TZ_SHAPE = re.compile(r"^(UTC|GMT|[A-Z][A-Za-z_-]+(/[A-Za-z0-9_+-]+){1,2})$")


@cache
def _zones() -> frozenset[str]:
    try:
        from zoneinfo import available_timezones

        return frozenset(available_timezones())
    except Exception:  # noqa: BLE001 - no tz database on this platform: shape only
        return frozenset()


def _timezone(code: str) -> bool:
    zones = _zones()
    return code in zones if zones else _TZ_SHAPE.match(code) is not None


def _ucum(code: str) -> bool:
    from profiles import ucum  # its table loads with the validator; imported here to keep this module a leaf

    return ucum.is_valid(code)


#: value set url -> (its code system, the grammar of its codes)
GRAMMARS: dict[str, tuple[str, Callable[[str], bool]]] = {
    "http://hl7.org/fhir/ValueSet/mimetypes": ("urn:ietf:bcp:13",
                                               lambda c: c in _SHORTHANDS or _MIME.match(c) is not None),
    "http://hl7.org/fhir/ValueSet/currencies": ("urn:iso:std:iso:4217", lambda c: _CURRENCY.match(c) is not None),
    "http://hl7.org/fhir/ValueSet/timezones": ("urn:ietf:bcp:175", _timezone),
    "http://hl7.org/fhir/ValueSet/ucum-units": ("http://unitsofmeasure.org", _ucum),
}


def member(vs_url: str, system: str | None, code: str) -> bool | None:
    """Whether ``code`` belongs to a grammar-checked value set; None when ``vs_url`` is not one."""
    g = GRAMMARS.get(vs_url.split("|", 1)[0])
    if g is None:
        return None
    gsystem, ok = g
    if system is not None and system != gsystem:
        return False
    return ok(code)
