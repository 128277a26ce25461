"""Client side of ITI-65 for ``mes-sandbox dmp provide`` (FACTS §3.2, PDSm comprehensive): wrap one
document (FHIR document Bundle, CDA XML or PDF) into a transaction Bundle with its SubmissionSet
``List``, its ``DocumentReference`` and its ``Binary``, as a DPI builds it. Standard library only."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from datetime import datetime
from typing import Any

INS_SYSTEM = "urn:oid:1.2.250.1.213.1.4.8"
RPPS_SYSTEM = "urn:oid:1.2.250.1.71.4.2.1"
NOS = "https://mos.esante.gouv.fr/NOS"
TRE_A03 = f"{NOS}/TRE_A03-ClasseDocument/FHIR/TRE-A03-ClasseDocument"
TRE_A06 = f"{NOS}/TRE_A06-FormatCodeComplementaire/FHIR/TRE-A06-FormatCodeComplementaire"
TRE_A08 = f"{NOS}/TRE_A08-HL7Confidentiality/FHIR/TRE-A08-HL7Confidentiality"
IHE_FORMAT = "http://ihe.net/fhir/ihe.formatcode.fhir/CodeSystem/formatcode"
PDSM_DOCREF = "https://interop.esante.gouv.fr/ig/fhir/pdsm/StructureDefinition/pdsm-comprehensive-document-reference"
#: formatCode (system, code) of a CDA by LOINC type (JDV_J10); FHIR documents and PDFs are below
CDA_FORMATS = {"11502-2": (IHE_FORMAT, "urn:ihe:lab:xd-lab:2008"),
               "18748-4": (IHE_FORMAT, "urn:ihe:rad:CDA:ImagingReportStructuredHeadings:2013"),
               "11490-0": (TRE_A06, "urn:asip:ci-sis:ldl-ses:2017")}
MIME_SUFFICIENT = (IHE_FORMAT, "urn:ihe:iti:xds:2017:mimeTypeSufficient")
PDF = (IHE_FORMAT, "urn:ihe:iti:xds-sd:pdf:2008")


class DocumentError(ValueError):
    """The file is not a document this command can wrap (one line for the user)."""


def describe(data: bytes, name: str) -> tuple[str, str, str]:
    """(content type, LOINC type code or "", title) of a document file."""
    if data.lstrip().startswith(b"%PDF"):
        return "application/pdf", "", name
    if data.lstrip()[:1] == b"{":
        try:
            doc = json.loads(data)
        except ValueError as exc:
            raise DocumentError(f"{name}: JSON illisible ({exc})") from None
        if not isinstance(doc, dict) or doc.get("resourceType") != "Bundle" or doc.get("type") != "document":
            raise DocumentError(f"{name}: un Bundle FHIR de type 'document' est attendu")
        comp = next((e.get("resource") for e in doc.get("entry") or []
                     if (e.get("resource") or {}).get("resourceType") == "Composition"), None) or {}
        code = next((c.get("code", "") for c in (comp.get("type") or {}).get("coding") or []), "")
        return "application/fhir+json", code, comp.get("title") or name
    if data.lstrip().startswith(b"<"):
        return "text/xml", "", name
    raise DocumentError(f"{name}: document FHIR (JSON), CDA (XML) ou PDF attendu")


def provide_bundle(data: bytes, name: str, ins: str, *, author: str, type_code: str = "", class_code: str = "10",
                   now: datetime | None = None) -> dict[str, Any]:
    """The ITI-65 transaction Bundle depositing ``data`` for patient ``ins`` by professional ``author``."""
    ctype, found_type, title = describe(data, name)
    type_code = type_code or found_type
    if not type_code:
        raise DocumentError(f"{name}: donnez --type-code (LOINC, p. ex. 11502-2)")
    if ctype == "application/fhir+json":
        fmt = MIME_SUFFICIENT
    elif ctype == "application/pdf":
        fmt = PDF
    else:
        fmt = CDA_FORMATS.get(type_code, MIME_SUFFICIENT)
    stamp = (now or datetime.now().astimezone()).isoformat(timespec="seconds")
    ss, dr, bin_ = (f"urn:uuid:{uuid.uuid4()}" for _ in range(3))
    subject = {"reference": f"Patient?identifier={INS_SYSTEM}|{ins}"}
    author_res = {"resourceType": "Practitioner", "id": "auteur",
                  "identifier": [{"system": RPPS_SYSTEM, "value": author}]}
    doc = {
        "resourceType": "DocumentReference", "meta": {"profile": [PDSM_DOCREF]},
        "contained": [author_res, {"resourceType": "Patient", "id": "patient",
                                   "identifier": [{"system": INS_SYSTEM, "value": ins}]}],
        "masterIdentifier": {"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{uuid.uuid4()}"},
        "status": "current", "type": {"coding": [{"system": "http://loinc.org", "code": type_code}]},
        "category": [{"coding": [{"system": TRE_A03, "code": class_code}]}],
        "subject": subject, "date": stamp, "author": [{"reference": "#auteur"}],
        "custodian": {"display": "mes-sandbox"},
        "securityLabel": [{"coding": [{"system": TRE_A08, "code": "N"}]}],
        "content": [{"attachment": {"contentType": ctype, "url": bin_, "size": len(data),
                                    "hash": base64.b64encode(hashlib.sha1(data).digest()).decode(),  # noqa: S324
                                    "title": title, "creation": stamp},
                     "format": {"system": fmt[0], "code": fmt[1]}}],
        "context": {"period": {"start": stamp},
                    "facilityType": {"coding": [{"system": f"{NOS}/TRE_R02-SecteurActivite/FHIR/"
                                                           "TRE-R02-SecteurActivite", "code": "SA01"}]},
                    "practiceSetting": {"coding": [{"system": f"{NOS}/TRE_A01-CadreExercice/FHIR/"
                                                              "TRE-A01-CadreExercice", "code": "ETABLISSEMENT"}]},
                    "sourcePatientInfo": {"reference": "#patient"}},
    }
    sset = {
        "resourceType": "List", "status": "current", "mode": "working",
        "code": {"coding": [{"system": "https://profiles.ihe.net/ITI/MHD/CodeSystem/MHDlistTypes",
                             "code": "submissionset"}]},
        "subject": subject, "date": stamp, "contained": [dict(author_res)],
        "extension": [
            {"url": "https://profiles.ihe.net/ITI/MHD/StructureDefinition/ihe-designationType",
             "valueCodeableConcept": {"coding": [{"system": f"{NOS}/TRE_A00-ProducteurDocNonPS/FHIR/"
                                                            "TRE-A00-ProducteurDocNonPS", "code": "04"}]}},
            {"url": "https://profiles.ihe.net/ITI/MHD/StructureDefinition/ihe-sourceId",
             "valueIdentifier": {"system": "urn:ietf:rfc:3986", "value": "urn:oid:1.2.250.1.999.1"}}],
        "source": {"reference": "#auteur"},
        "identifier": [{"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{uuid.uuid4()}"}],
        "entry": [{"item": {"reference": dr}}],
    }
    return {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": ss, "resource": sset, "request": {"method": "POST", "url": "List"}},
        {"fullUrl": dr, "resource": doc, "request": {"method": "POST", "url": "DocumentReference"}},
        {"fullUrl": bin_, "resource": {"resourceType": "Binary", "contentType": ctype,
                                       "data": base64.b64encode(data).decode()},
         "request": {"method": "POST", "url": "Binary"}},
    ]}
