"""Sample documents for MSSanté messages: an FR Document Core discharge letter (FHIR document Bundle,
FACTS §5), CDA R2 N1 documents with an embedded PDF (CR-BIO, CR-IMG, LDL; FR header template
``1.2.250.1.213.1.1.1.1``, N1 template ``1.3.6.1.4.1.19376.1.2.20``, FACTS §5) and a small PDF.

Synthetic data only; the shapes are those the ``profiles`` validator and
:func:`profiles.read_cda_header` accept without errors.
"""

from __future__ import annotations

import base64
from typing import Any
from xml.sax.saxutils import escape, quoteattr

OID_INS_NIR = "1.2.250.1.213.1.4.8"

#: the sample author and organisation (PSC public test persona and organisation, FACTS §4)
DEFAULT_AUTHOR = {"idnps": "899700427885", "family": "DOC0042788", "given": "KIT"}
DEFAULT_ORG = {"finess": "0B0193488", "name": "HOPITAL GENERIQUE FIN VARI"}
#: INSi test identity ADRTROIS DOMINIQUE (FACTS §1.2)
DEFAULT_PATIENT = {"birth_name": "ADRTROIS", "first_names": ["DOMINIQUE"], "sex": "F", "birth_date": "1997-02-26",
                   "birth_place": "2A020"}


def pdf_bytes(text: str) -> bytes:
    """A one-page PDF showing ``text`` (ASCII), with a correct xref table."""
    safe = text.encode("ascii", "replace").decode().replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    stream = f"BT /F1 12 Tf 50 780 Td ({safe}) Tj ET".encode()
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def _gender(sex: str) -> str:
    return {"M": "male", "F": "female"}.get(sex, "unknown")


def fhir_discharge_letter(ins: str, patient: dict[str, Any], *, ins_oid: str = OID_INS_NIR,
                          doc_id: str = "LDL-0001", replaces: str = "") -> dict[str, Any]:
    """An FR Document Core document Bundle holding a discharge letter (LOINC 11490-0)."""
    u = "urn:uuid:0c5a6d2e-0000-4000-8000-"
    first = list(patient.get("first_names") or ["INCONNU"])
    birth_place = str(patient.get("birth_place") or "")
    pat_ext: list[dict[str, Any]] = [{
        "url": "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-identity-reliability",
        "extension": [
            {"url": "identityStatus", "valueCoding": {
                "system": "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0445", "code": "VALI"}},
            {"url": "methodCollection", "valueCoding": {"code": "INSI"}},
            {"url": "dateCollection", "valueDate": "2026-01-12"},
            {"url": "validationMode", "valueCoding": {"code": "CN"}}]}]
    if birth_place:
        pat_ext.append({"url": "http://hl7.org/fhir/StructureDefinition/patient-birthPlace", "valueAddress": {
            "extension": [{"url": "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-address-insee-code",
                           "valueCoding": {"system": "https://mos.esante.gouv.fr/NOS/TRE_R13-CommuneOM/FHIR/"
                                                     "TRE-R13-CommuneOM", "code": birth_place}}]}})
    kind = "INS-NIR" if ins_oid == OID_INS_NIR else "INS-NIA"
    composition: dict[str, Any] = {
        "resourceType": "Composition", "id": "c1",
        "meta": {"profile": ["https://interop.esante.gouv.fr/ig/fhir/document-core/StructureDefinition/"
                             "fr-composition-document"]},
        "text": {"status": "generated", "div": '<div xmlns="http://www.w3.org/1999/xhtml">Lettre de liaison</div>'},
        "status": "final", "type": {"coding": [{"system": "http://loinc.org", "code": "11490-0"}]},
        "subject": {"reference": u + "000000000001"}, "date": "2026-01-15T10:00:00+01:00",
        "author": [{"reference": u + "000000000002"}], "title": "Lettre de liaison à la sortie",
        "custodian": {"reference": u + "000000000003"},
        "section": [{"title": "Motif d'hospitalisation", "text": {
            "status": "generated", "div": '<div xmlns="http://www.w3.org/1999/xhtml">Pneumopathie</div>'}}]}
    if replaces:
        composition["relatesTo"] = [{"code": "replaces", "targetIdentifier": {"value": replaces}}]
    author, org = DEFAULT_AUTHOR, DEFAULT_ORG
    return {
        "resourceType": "Bundle",
        "meta": {"profile": ["https://interop.esante.gouv.fr/ig/fhir/document-core/StructureDefinition/"
                             "fr-bundle-document"]},
        "identifier": {"system": "urn:oid:1.2.250.1.999.3", "value": doc_id},
        "type": "document", "timestamp": "2026-01-15T10:00:00+01:00",
        "entry": [
            {"fullUrl": u + "00000000000c", "resource": composition},
            {"fullUrl": u + "000000000001", "resource": {
                "resourceType": "Patient",
                "meta": {"profile": ["https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-patient-ins"]},
                "text": {"status": "generated", "div": '<div xmlns="http://www.w3.org/1999/xhtml"><p>'
                         f'{escape(str(patient.get("birth_name", "")))} {escape(first[0])}</p></div>'},
                "extension": pat_ext,
                "identifier": [{"use": "official" if kind == "INS-NIR" else "temp", "type": {"coding": [{
                    "system": "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203", "code": kind}]},
                    "system": f"urn:oid:{ins_oid}", "value": ins}],
                "name": [{"use": "official", "family": patient.get("birth_name", ""), "given": first[:1],
                          "extension": [{"url": "https://hl7.fr/ig/fhir/core/StructureDefinition/"
                                                "fr-core-patient-birth-list-given-name",
                                         "valueString": " ".join(first)}]}],
                "gender": _gender(str(patient.get("sex", ""))), "birthDate": patient.get("birth_date", "")}},
            {"fullUrl": u + "000000000002", "resource": {
                "resourceType": "Practitioner",
                "meta": {"profile": ["https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-practitioner"]},
                "text": {"status": "generated", "div": '<div xmlns="http://www.w3.org/1999/xhtml"><p>Dr '
                         f'{author["given"]} {author["family"]}</p></div>'},
                "identifier": [{"use": "official" if kind == "INS-NIR" else "temp", "type": {"coding": [{
                    "system": "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203", "code": "IDNPS"}]},
                    "system": "urn:oid:1.2.250.1.71.4.2.1", "value": author["idnps"]}],
                "name": [{"family": author["family"], "given": [author["given"]], "prefix": ["DR"]}]}},
            {"fullUrl": u + "000000000003", "resource": {
                "resourceType": "Organization",
                "meta": {"profile": ["https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-organization"]},
                "text": {"status": "generated", "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{org["name"]}</div>'},
                "identifier": [{"use": "official" if kind == "INS-NIR" else "temp", "type": {"coding": [{
                    "system": "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203", "code": "FINEG"}]},
                    "system": "https://finess.esante.gouv.fr", "value": org["finess"]}],
                "name": org["name"]}},
        ]}


def cda_n1(ins: str, patient: dict[str, Any], *, code: str, display: str, title: str, pdf: bytes,
           ins_oid: str = OID_INS_NIR, doc_id: str = "1.2.250.1.999.3.1", replaces: str = "",
           with_traits: bool = True) -> bytes:
    """A CDA R2 N1 document (FR header) whose body is ``pdf``, base64."""
    first = list(patient.get("first_names") or ["INCONNU"])
    birth = str(patient.get("birth_date") or "").replace("-", "")
    author, org = DEFAULT_AUTHOR, DEFAULT_ORG
    traits = (f'<name><family qualifier="BR">{escape(str(patient.get("birth_name", "")))}</family>'
              f'<given>{escape(first[0])}</given></name>'
              f'<administrativeGenderCode code="{escape(str(patient.get("sex", "")))}" '
              f'codeSystem="2.16.840.1.113883.5.1"/><birthTime value="{birth}"/>') if with_traits else ""
    related = (f'<relatedDocument typeCode="RPLC"><parentDocument><id root={quoteattr(replaces)}/></parentDocument>'
               '</relatedDocument>') if replaces else ""
    body = base64.b64encode(pdf).decode()
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<ClinicalDocument xmlns="urn:hl7-org:v3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <realmCode code="FR"/>
  <typeId root="2.16.840.1.113883.1.3" extension="POCD_HD000040"/>
  <templateId root="2.16.840.1.113883.2.8.2.1"/>
  <templateId root="1.2.250.1.213.1.1.1.1"/>
  <templateId root="1.3.6.1.4.1.19376.1.2.20"/>
  <id root="{doc_id}"/>
  <code code="{code}" codeSystem="2.16.840.1.113883.6.1" displayName={quoteattr(display)}/>
  <title>{escape(title)}</title>
  <effectiveTime value="20260115100000+0100"/>
  <confidentialityCode code="N" codeSystem="2.16.840.1.113883.5.25"/>
  <languageCode code="fr-FR"/>
  <setId root="{doc_id}.0"/>
  <versionNumber value="1"/>
  <recordTarget><patientRole><id root="{ins_oid}" extension="{escape(ins)}"/>
    <patient>{traits}</patient></patientRole></recordTarget>
  <author><time value="20260115100000+0100"/><assignedAuthor>
    <id root="1.2.250.1.71.4.2.1" extension="{author['idnps']}"/>
    <assignedPerson><name><family>{author['family']}</family><given>{author['given']}</given></name></assignedPerson>
  </assignedAuthor></author>
  <custodian><assignedCustodian><representedCustodianOrganization>
    <id root="1.2.250.1.71.4.2.2" extension="1{org['finess']}"/><name>{org['name']}</name>
  </representedCustodianOrganization></assignedCustodian></custodian>
  {related}
  <component><nonXMLBody><text mediaType="application/pdf" representation="B64">{body}</text></nonXMLBody></component>
</ClinicalDocument>
""".encode()
