"""FHIR R4 helpers shared by the DMP transactions: canonicals and OIDs (FACTS §1.1, §3.2–3.4),
reference parsing, dates, OperationOutcome issues. No web framework here."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import orjson

from ins import INS_SYSTEMS, InsIdentifier, ins_of_system_value, system_for
from sandbox.errors import FhirError, issue

FHIR_JSON = "application/fhir+json"
BASE_PATH = "/dmp/fhir"

RPPS_SYSTEM = "urn:oid:1.2.250.1.71.4.2.1"

PDSM = "https://interop.esante.gouv.fr/ig/fhir/pdsm"
PDSM_DR_PROFILE = f"{PDSM}/StructureDefinition/pdsm-comprehensive-document-reference"
PDSM_SUBMISSIONSET_PROFILE = f"{PDSM}/StructureDefinition/pdsm-submissionset-comprehensive"
ARCHIVE_EXT = f"{PDSM}/StructureDefinition/pdsm-ext-is-archived"
#: FACTS §3.4 trap: PDSm st_maj.md uses the SearchParameter URL for the extension
ARCHIVE_EXT_TRAP = f"{PDSM}/SearchParameter/PDSm-isArchived"
PDSM4DMP = "https://interop.esante.gouv.fr/ig/fhir/pdsm4dmp"
DMP_CLOSURE_EXT = f"{PDSM4DMP}/StructureDefinition/dmp-fermeture"  # [U] FACTS §3.3: exact URL unseen
SANDBOX_EXT = "https://mes-sandbox.invalid/fhir/StructureDefinition"
MHD_LIST_TYPES = "https://profiles.ihe.net/ITI/MHD/CodeSystem/MHDlistTypes"

_UUID_RE = re.compile(r"^urn:uuid:[0-9a-fA-F-]{36}$")
_DATE_RE = re.compile(r"^\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$")


def is_urn_uuid(value: Any) -> bool:
    return isinstance(value, str) and bool(_UUID_RE.match(value))


def now() -> datetime:
    return datetime.now(UTC)


def instant(dt: datetime) -> str:
    """FHIR instant in UTC with milliseconds."""
    return dt.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_datetime(value: Any) -> datetime | None:
    """A FHIR date/dateTime/instant as an aware UTC datetime (start of the period); None if invalid."""
    if not isinstance(value, str) or not _DATE_RE.match(value):
        return None
    v = value
    if len(v) == 4:
        v += "-01-01"
    elif len(v) == 7:
        v += "-01"
    try:
        dt = datetime.fromisoformat(v.replace("Z", "+00:00"))
        return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
    except (ValueError, OverflowError):  # e.g. 9999-12-31T23:00:00-05:00 is past datetime.max in UTC
        return None


def token(coding: dict[str, Any] | None) -> str:
    """``system|code`` of a Coding (empty when there is no code)."""
    if not isinstance(coding, dict) or not isinstance(coding.get("code"), str):
        return ""
    return f"{coding.get('system') or ''}|{coding['code']}"


def codings(concept: Any) -> list[dict[str, Any]]:
    if not isinstance(concept, dict):
        return []
    return [c for c in concept.get("coding") or [] if isinstance(c, dict)]


def first_token(concept: Any) -> str:
    for c in codings(concept):
        t = token(c)
        if t:
            return t
    return ""


def ins_of_identifier(ident: Any) -> InsIdentifier | None:
    """The INS of a logical reference's identifier (``system|value``, no type: a reference names
    the patient the way a search does). A Patient's own identifiers go through ``ins.select_ins``."""
    if not isinstance(ident, dict):
        return None
    return ins_of_system_value(ident.get("system"), ident.get("value"))


def patient_identifier(ins: str) -> dict[str, str]:
    """The identifier the DMP writes for a patient it knows by matricule only (NIA kept as NIA)."""
    return {"system": system_for(ins), "value": ins}


def ins_of_search(value: str) -> str | None:
    """``urn:oid:1.2.250.1.213.1.4.8|<INS>`` (or the INS alone) → INS."""
    system, sep, code = value.partition("|")
    if not sep:
        return value or None
    return code if system in INS_SYSTEMS and code else None


def bad_request(diagnostics: str, expression: str | None = None, status: int = 400,
                code: str = "invalid") -> FhirError:
    return FhirError(status, code, diagnostics, expression=expression)


def outcome_issue(severity: str, code: str, diagnostics: str, expression: str | None = None) -> dict[str, Any]:
    return issue(severity, code, diagnostics, expression)


def copied(tree: Any) -> Any:
    """A deep copy of parsed JSON (an orjson round trip: several times faster than copy.deepcopy)."""
    return orjson.loads(orjson.dumps(tree))
