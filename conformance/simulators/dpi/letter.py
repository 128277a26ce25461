"""The discharge letter (lettre de liaison à la sortie, LDL-SES) a DPI sends to the DMP as an ITI-65
Provide Document Bundle (FACTS §3.2, §3.4, §5): PDSm comprehensive DocumentReference + SubmissionSet
+ Binary (a CDA R2 header with the LDL-SES template), typeCode LOINC ``11490-0``, classCode
TRE_A03 ``10`` (compte rendu), formatCode ``urn:asip:ci-sis:ldl-ses:2017``, confidentiality from
TRE_A08, author = the logged-in professional (RPPS), subject = the patient's INS with the OID INSi
returned. Each keyword argument copies one vendor mistake of the fault catalogue.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape

NOS = "https://mos.esante.gouv.fr/NOS"
TRE_A03 = f"{NOS}/TRE_A03-ClasseDocument/FHIR/TRE-A03-ClasseDocument"
TRE_A06 = f"{NOS}/TRE_A06-FormatCodeComplementaire/FHIR/TRE-A06-FormatCodeComplementaire"
TRE_A08 = f"{NOS}/TRE_A08-HL7Confidentiality/FHIR/TRE-A08-HL7Confidentiality"
TRE_A07 = f"{NOS}/TRE_A07-StatutVisibiliteDocument/FHIR/TRE-A07-StatutVisibiliteDocument"
TRE_R02 = f"{NOS}/TRE_R02-SecteurActivite/FHIR/TRE-R02-SecteurActivite"
TRE_A01 = f"{NOS}/TRE_A01-CadreExercice/FHIR/TRE-A01-CadreExercice"
TRE_A00 = f"{NOS}/TRE_A00-ProducteurDocNonPS/FHIR/TRE-A00-ProducteurDocNonPS"
RPPS_SYSTEM = "urn:oid:1.2.250.1.71.4.2.1"
LOINC = "http://loinc.org"
LDL_TYPE = "11490-0"
LDL_CLASS = "10"
LDL_FORMAT = "urn:asip:ci-sis:ldl-ses:2017"
LDL_TEMPLATE = "1.2.250.1.213.1.1.1.29"
PDSM = "https://interop.esante.gouv.fr/ig/fhir/pdsm/StructureDefinition"


def sha1_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.sha1(data).digest()).decode()  # noqa: S324 - FHIR Attachment.hash


FR_CORE = "https://hl7.fr/ig/fhir/core/StructureDefinition"
INS_TYPE = "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203"
COMMUNE = "https://mos.esante.gouv.fr/NOS/TRE_R13-CommuneOM/FHIR/TRE-R13-CommuneOM"
INS_TYPE_BY_OID = {"1.2.250.1.213.1.4.8": "INS-NIR", "1.2.250.1.213.1.4.9": "INS-NIA",
                   "1.2.250.1.213.1.4.10": "INS-NIR-TEST", "1.2.250.1.213.1.4.11": "INS-NIR-DEMO"}


def contained_patient(ins: str, oid: str, traits: dict[str, Any]) -> dict[str, Any]:
    """The patient as fr-core-patient-ins shapes it (FACTS §1.5, A.3): the INS identifier typed by
    its nature, ``given`` = the first first name, the full list in its extension."""
    res: dict[str, Any] = {"resourceType": "Patient", "id": "patient", "identifier": [{
        "use": "official", "type": {"coding": [{"system": INS_TYPE, "code": INS_TYPE_BY_OID.get(oid, "INS-NIR")}]},
        "system": f"urn:oid:{oid}", "value": ins}]}
    if traits:
        res["name"] = [{"use": "official", "family": traits["family"], "given": list(traits["given"]),
                        "extension": [{"url": f"{FR_CORE}/fr-core-patient-birth-list-given-name",
                                       "valueString": traits["birth_list"]}]}]
        res["gender"] = traits["gender"]
        res["birthDate"] = traits["birth_date"]
        if traits.get("birth_place"):
            res["extension"] = [{"url": "http://hl7.org/fhir/StructureDefinition/patient-birthPlace", "valueAddress": {
                "extension": [{"url": f"{FR_CORE}/fr-core-address-insee-code",
                               "valueCoding": {"system": COMMUNE, "code": traits["birth_place"]}}]}}]
    return res


def cda(ins: str, oid: str, title: str, *, patient: dict[str, Any] | None = None, author_rpps: str = "",
        author_family: str = "", author_given: str = "") -> bytes:
    """A CDA R2 header of an LDL-SES (template ``1.2.250.1.213.1.1.1.29``) with what the French header
    rules ask (FACTS §5; ``profiles.read_cda_header``): effective time with a zone, set id and version,
    the patient's INS with its traits, the author with a national id and a time, the custodian."""
    p = patient or {}
    now = datetime.now(UTC).strftime("%Y%m%d%H%M%S+0000")
    sex = {"female": "F", "male": "M"}.get(str(p.get("gender", "")), str(p.get("gender", "")))
    given = "".join(f"<given>{escape(g)}</given>" for g in p.get("given") or [])
    traits = (f'<patient><name><family qualifier="BR">{escape(str(p.get("family", "")))}</family>{given}</name>'
              f'<administrativeGenderCode code="{escape(sex)}" codeSystem="2.16.840.1.113883.5.1"/>'
              f'<birthTime value="{str(p.get("birth_date", "")).replace("-", "")}"/></patient>') if p else ""
    author = (f'<author><time value="{now}"/><assignedAuthor><id root="1.2.250.1.71.4.2.1" '
              f'extension="{escape(author_rpps)}"/><assignedPerson><name><family>{escape(author_family)}</family>'
              f'<given>{escape(author_given)}</given></name></assignedPerson></assignedAuthor></author>'
              if author_rpps else "")
    set_id = uuid.uuid4().hex
    return (
        '<?xml version="1.0" encoding="UTF-8"?><ClinicalDocument xmlns="urn:hl7-org:v3">'
        '<realmCode code="FR"/><typeId root="2.16.840.1.113883.1.3" extension="POCD_HD000040"/>'
        f'<templateId root="1.2.250.1.213.1.1.1.1"/><templateId root="{LDL_TEMPLATE}"/>'
        f'<id root="1.2.250.1.999.2" extension="{uuid.uuid4().hex}"/>'
        f'<code code="{LDL_TYPE}" codeSystem="2.16.840.1.113883.6.1" '
        'displayName="Lettre de liaison à la sortie d\'un établissement de soins"/>'
        f'<title>{escape(title)}</title><effectiveTime value="{now}"/>'
        '<confidentialityCode code="N" codeSystem="2.16.840.1.113883.5.25"/><languageCode code="fr-FR"/>'
        f'<setId root="1.2.250.1.999.2.1" extension="{set_id}"/><versionNumber value="1"/>'
        f'<recordTarget><patientRole><id root="{oid}" extension="{ins}"/>{traits}</patientRole></recordTarget>'
        f'{author}<custodian><assignedCustodian><representedCustodianOrganization>'
        '<id root="1.2.250.1.71.4.2.2" extension="10B0193488"/><name>HOPITAL GENERIQUE FIN VARI</name>'
        '</representedCustodianOrganization></assignedCustodian></custodian>'
        '<component><structuredBody><component><section>'
        '<templateId root="1.2.250.1.213.1.1.2.35.1"/><title>Statut du document</title>'
        '<text>Document validé</text></section></component></structuredBody></component>'
        '</ClinicalDocument>').encode()


def letter_bundle(*, ins: str, oid: str, author_rpps: str, author_family: str, author_given: str,
                  title: str = "Lettre de liaison à la sortie", replaces: str | None = None,
                  type_code: str = LDL_TYPE, class_code: str = LDL_CLASS, format_code: str = LDL_FORMAT,
                  confidentiality: str = "N", patient: dict[str, Any] | None = None,
                  patch_replaced: bool = True) -> tuple[dict[str, Any], str]:
    """The ITI-65 transaction Bundle and the document's masterIdentifier value. ``patient`` is the
    contained fr-core Patient's traits (``family``, ``given``, ``birth_list``, ``gender``,
    ``birth_date``, ``birth_place``) as INSi returned them."""
    ss, dr, bin_ = (f"urn:uuid:{uuid.uuid4()}" for _ in range(3))
    now = datetime.now(UTC).astimezone().isoformat(timespec="seconds")
    data = cda(ins, oid, title, patient=patient, author_rpps=author_rpps, author_family=author_family,
               author_given=author_given)
    master = f"urn:oid:1.2.250.1.999.2.{uuid.uuid4().int % 10**15}"
    subject = {"reference": f"Patient?identifier=urn:oid:{oid}|{ins}"}
    author = {"resourceType": "Practitioner", "id": "auteur",
              "identifier": [{"system": RPPS_SYSTEM, "value": author_rpps}],
              "name": [{"family": author_family, "given": [author_given]}]}
    doc: dict[str, Any] = {
        "resourceType": "DocumentReference",
        "meta": {"profile": [f"{PDSM}/pdsm-comprehensive-document-reference"]},
        "contained": [author, contained_patient(ins, oid, patient or {})],
        "masterIdentifier": {"system": "urn:ietf:rfc:3986", "value": master},
        "status": "current",
        "type": {"coding": [{"system": LOINC, "code": type_code}]},
        "category": [{"coding": [{"system": TRE_A03, "code": class_code}]}],
        "subject": subject, "date": now,
        "author": [{"reference": "#auteur"}],
        "custodian": {"display": "HOPITAL GENERIQUE FIN VARI"},
        "securityLabel": [{"coding": [{"system": TRE_A08, "code": confidentiality}]}],
        "content": [{"attachment": {"contentType": "text/xml", "url": bin_, "size": len(data), "hash": sha1_b64(data),
                                    "title": title, "creation": now},
                     "format": {"system": TRE_A06, "code": format_code}}],
        "context": {"period": {"start": now},
                    "facilityType": {"coding": [{"system": TRE_R02, "code": "SA01"}]},
                    "practiceSetting": {"coding": [{"system": TRE_A01, "code": "ETABLISSEMENT"}]},
                    "sourcePatientInfo": {"reference": "#patient"}},
    }
    entries: list[dict[str, Any]] = []
    if replaces:
        doc["relatesTo"] = [{"code": "replaces", "target": {"reference": f"DocumentReference/{replaces}"}}]
    sset = {
        "resourceType": "List", "status": "current", "mode": "working",
        "code": {"coding": [{"system": "https://profiles.ihe.net/ITI/MHD/CodeSystem/MHDlistTypes",
                             "code": "submissionset"}]},
        "subject": subject, "date": now, "contained": [dict(author)],
        "extension": [
            {"url": "https://profiles.ihe.net/ITI/MHD/StructureDefinition/ihe-designationType",
             "valueCodeableConcept": {"coding": [{"system": TRE_A00, "code": "04"}]}},
            {"url": "https://profiles.ihe.net/ITI/MHD/StructureDefinition/ihe-sourceId",
             "valueIdentifier": {"system": "urn:ietf:rfc:3986", "value": "urn:oid:1.2.250.1.999.2"}}],
        "source": {"reference": "#auteur"},
        "identifier": [{"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{uuid.uuid4()}"}],
        "entry": [{"item": {"reference": dr}}],
    }
    if replaces and patch_replaced:  # PDSm4DMP TD2.1: the replaced entry superseded in the same batch
        entries.append({"resource": {"resourceType": "Parameters", "parameter": [{"name": "operation", "part": [
            {"name": "type", "valueCode": "replace"}, {"name": "path", "valueString": "DocumentReference.status"},
            {"name": "value", "valueCode": "superseded"}]}]},
            "request": {"method": "PATCH", "url": f"DocumentReference/{replaces}"}})
    entries[:0] = [
        {"fullUrl": ss, "resource": sset, "request": {"method": "POST", "url": "List"}},
        {"fullUrl": dr, "resource": doc, "request": {"method": "POST", "url": "DocumentReference"}},
        {"fullUrl": bin_, "resource": {"resourceType": "Binary", "contentType": "text/xml",
                                       "data": base64.b64encode(data).decode()},
         "request": {"method": "POST", "url": "Binary"}},
    ]
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}, master
