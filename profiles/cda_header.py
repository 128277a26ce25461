"""CDA R2 header reader with the French header rules (FACTS §5, §3.4, §2.3; ANS CI-SIS).

:func:`read_cda_header` parses a CDA document safely (:mod:`profiles.safe_xml`: no DTD, no entities, no network)
and returns a :class:`CdaHeader`: templateIds, document ``code``, patient INS and its OID, traits,
authors, confidentiality, effective time, set id / version, replaced document, and whether the body
is N1 (``nonXMLBody``, e.g. an embedded PDF, template ``1.3.6.1.4.1.19376.1.2.20``) or N3
(``structuredBody``). Rules are reported as :class:`CdaIssue` (stable id, severity, French and
English texts, XPath-like location), never raised. Full schematron validation is out of scope.

Rules checked (CI-SIS "En-tête des documents médicaux", as FACTS §5 names them):
``typeId`` POCD_HD000040, ``realmCode`` FR, FR header template ``1.2.250.1.213.1.1.1.1``, document
``code`` in LOINC with the code its FR template implies (LDL-SES ``11490-0``, CR-BIO ``11502-2``,
CR-IMG ``18748-4``, DA-IMG ``55115-0``), ``effectiveTime`` to the minute with a time zone,
``confidentialityCode`` N/R/V in ``2.16.840.1.113883.5.25``, ``setId`` and ``versionNumber``,
patient INS (OID ``.8`` NIR, ``.9`` NIA, ``.10`` TEST, ``.11`` DEMO, 15 characters, NIR key) with
its traits (birth name, first given name, sex, birth date), an author with a national id and a time,
a custodian, and for N1 a base64 body whose media type is a known unstructured format.

Why ``_first`` instead of ``find("a/b")``: ElementTree's C ``find`` handles a single tag itself but
hands any path to ElementPath (Python selectors); the header's four paths (patient, author name,
custodian, parent document) as C single-tag finds made reading a CR-BIO header 22 → 18 µs.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field, fields
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException

from profiles.nir import check_value
from profiles.safe_xml import safe_fromstring

NS = "urn:hl7-org:v3"
_N = "{" + NS + "}"
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"

OID_LOINC = "2.16.840.1.113883.6.1"
OID_CONFIDENTIALITY = "2.16.840.1.113883.5.25"
OID_RPPS = "1.2.250.1.71.4.2.1"
TEMPLATE_FR_HEADER = "1.2.250.1.213.1.1.1.1"
TEMPLATE_N1 = "1.3.6.1.4.1.19376.1.2.20"
#: INS OIDs (FACTS §1.1, §8 item 1): NIR, NIA, TEST, DEMO
INS_OIDS = {"1.2.250.1.213.1.4.8": "NIR", "1.2.250.1.213.1.4.9": "NIA",
            "1.2.250.1.213.1.4.10": "TEST", "1.2.250.1.213.1.4.11": "DEMO"}
#: FR document template -> LOINC document code it implies (FACTS §5 table)
TEMPLATE_CODES = {
    "1.2.250.1.213.1.1.1.29": "11490-0",
    "1.2.250.1.213.1.1.1.55": "11502-2",
    "1.2.250.1.213.1.1.1.45": "18748-4",
    "1.2.250.1.213.1.1.1.47": "55115-0",
}
#: unstructured (N1) media types and the XDS formatCode each maps to (FACTS §3.4, ASS_A11)
N1_MEDIA_TYPES = {"application/pdf": "urn:ihe:iti:xds-sd:pdf:2008", "text/plain": "urn:ihe:iti:xds-sd:text:2008",
                  "image/jpeg": "urn:ihe:iti-fr:xds-sd:jpeg:2010", "text/rtf": "urn:ihe:iti-fr:xds-sd:rtf:2010",
                  "image/tiff": "urn:ihe:iti-fr:xds-sd:tiff:2010"}
_TS = re.compile(r"^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2}(?:\.\d+)?)?([+-]\d{4})$")
_TS_ANY = re.compile(r"^\d{4}(\d{2}(\d{2}(\d{2}(\d{2}(\d{2}(\.\d+)?)?)?)?)?)?([+-]\d{4})?$")


@dataclass(frozen=True)
class CdaIssue:
    id: str
    severity: str  # "error" | "warning" | "info"
    text_fr: str
    text_en: str
    location: str


@dataclass(frozen=True)
class CdaAuthor:
    id_root: str
    id_extension: str
    family: str
    given: str
    time: str


@dataclass
class CdaHeader:
    """What the header says; empty strings when absent. ``issues`` holds the rule results."""

    template_ids: list[str] = field(default_factory=list)
    document_id: str = ""
    code: str = ""
    code_system: str = ""
    code_display: str = ""
    title: str = ""
    effective_time: str = ""
    confidentiality: str = ""
    confidentiality_system: str = ""
    language: str = ""
    set_id: str = ""
    version_number: str = ""
    patient_ins: str = ""
    patient_ins_oid: str = ""
    patient_ins_kind: str = ""  # NIR | NIA | TEST | DEMO
    patient_ids: list[tuple[str, str]] = field(default_factory=list)  # (root, extension)
    birth_name: str = ""
    used_name: str = ""
    given: list[str] = field(default_factory=list)
    sex: str = ""
    birth_date: str = ""  # YYYYMMDD as written
    authors: list[CdaAuthor] = field(default_factory=list)
    custodian: str = ""
    level: str = ""  # "N1" | "N3" | ""
    media_type: str = ""
    embedded: bytes = b""
    replaces: list[str] = field(default_factory=list)  # ids of parent documents (relatedDocument RPLC)
    issues: list[CdaIssue] = field(default_factory=list)

    @property
    def missing_traits(self) -> list[str]:
        missing = []
        if not self.birth_name:
            missing.append("nom de naissance")
        if not self.given:
            missing.append("prénom")
        if self.sex not in ("M", "F"):
            missing.append("sexe")
        if not self.birth_date:
            missing.append("date de naissance")
        return missing

    @property
    def ins_qualified(self) -> bool:
        """X-MSS-INS = O: matricule with its INS OID and the traits (FACTS §2.3, ECO.2.4.2)."""
        return bool(self.patient_ins and self.patient_ins_oid and not self.missing_traits)

    @property
    def ok(self) -> bool:
        return not any(i.severity in ("error", "fatal") for i in self.issues)

    def to_json(self) -> dict[str, Any]:
        """The fields in order, as ``dataclasses.asdict`` gives them but without its deep copy of
        every value (a tenth of an ingested message's checks); ``embedded`` as its size."""
        d: dict[str, Any] = {}
        for name in _FIELDS:
            value = getattr(self, name)
            if name == "authors":
                value = [{"id_root": a.id_root, "id_extension": a.id_extension, "family": a.family,
                          "given": a.given, "time": a.time} for a in value]
            elif name == "issues":
                value = [{"id": i.id, "severity": i.severity, "text_fr": i.text_fr, "text_en": i.text_en,
                          "location": i.location} for i in value]
            elif isinstance(value, list):
                value = list(value)  # of strings or of (root, extension) tuples: immutable items
            d[name] = value
        d["embedded_size"] = len(self.embedded)
        d["ins_qualified"] = self.ins_qualified
        return d


_FIELDS = tuple(f.name for f in fields(CdaHeader) if f.name != "embedded")


def _t(tag: str) -> str:
    return _N + tag


def _issue(h: CdaHeader, rule: str, severity: str, fr: str, en: str, loc: str) -> None:
    h.issues.append(CdaIssue(f"CDA-{rule}", severity, fr, en, loc))


def read_cda_header(xml: bytes) -> CdaHeader:
    """Read and check a CDA R2 header. Never raises on content: unreadable XML, a DTD or entities
    give one ``CDA-XML`` issue and an empty header."""
    h = CdaHeader()
    try:
        root = safe_fromstring(xml)
    except DefusedXmlException:
        _issue(h, "XML", "error", "Document CDA refusé : DTD ou entités interdites",
               "CDA document refused: DTD or entities are forbidden", "/")
        return h
    except (ParseError, ValueError, LookupError) as exc:  # LookupError: an unknown declared encoding
        _issue(h, "XML", "error", f"Document CDA illisible : {exc}", f"Unreadable CDA document: {exc}", "/")
        return h
    if root.tag != _t("ClinicalDocument"):
        _issue(h, "ROOT", "error", f"Élément racine {root.tag} au lieu de ClinicalDocument (urn:hl7-org:v3)",
               f"Root element {root.tag} instead of ClinicalDocument (urn:hl7-org:v3)", "/")
        return h
    _read(h, root)
    _check(h, root)
    return h


_RECORD_TARGET, _PATIENT_ROLE, _ASSIGNED_PERSON, _NAME, _ID = (
    _t("recordTarget"), _t("patientRole"), _t("assignedPerson"), _t("name"), _t("id"))
_CUSTODIAN, _ASSIGNED_CUSTODIAN, _REPRESENTED_CUSTODIAN, _PARENT_DOCUMENT = (
    _t("custodian"), _t("assignedCustodian"), _t("representedCustodianOrganization"), _t("parentDocument"))


def _first(el: Element, *tags: str) -> Element | None:
    """``el.find("a/b/…")`` for namespaced tags: the first match in document order, by single-tag
    ``findall``/``find`` (in C; a path goes through ElementPath's Python selectors)."""
    if len(tags) == 1:
        return el.find(tags[0])
    for child in el.findall(tags[0]):
        found = _first(child, *tags[1:])
        if found is not None:
            return found
    return None


def _attr(el: Element | None, name: str) -> str:
    return (el.get(name) or "").strip() if el is not None else ""


def _text(el: Element | None) -> str:
    return "".join(el.itertext()).strip() if el is not None else ""


def _read(h: CdaHeader, root: Element) -> None:
    h.template_ids = [_attr(t, "root") for t in root.findall(_t("templateId"))]
    h.document_id = _attr(root.find(_t("id")), "root")
    code = root.find(_t("code"))
    h.code, h.code_system, h.code_display = _attr(code, "code"), _attr(code, "codeSystem"), _attr(code, "displayName")
    h.title = _text(root.find(_t("title")))
    h.effective_time = _attr(root.find(_t("effectiveTime")), "value")
    conf = root.find(_t("confidentialityCode"))
    h.confidentiality, h.confidentiality_system = _attr(conf, "code"), _attr(conf, "codeSystem")
    h.language = _attr(root.find(_t("languageCode")), "code")
    h.set_id = _attr(root.find(_t("setId")), "root")
    h.version_number = _attr(root.find(_t("versionNumber")), "value")
    role = _first(root, _RECORD_TARGET, _PATIENT_ROLE)
    if role is not None:
        for pid in role.findall(_t("id")):
            h.patient_ids.append((_attr(pid, "root"), _attr(pid, "extension")))
            if _attr(pid, "root") in INS_OIDS and not h.patient_ins:
                h.patient_ins, h.patient_ins_oid = _attr(pid, "extension"), _attr(pid, "root")
                h.patient_ins_kind = INS_OIDS[h.patient_ins_oid]
        patient = role.find(_t("patient"))
        if patient is not None:
            for name in patient.findall(_t("name")):
                for fam in name.findall(_t("family")):
                    q = _attr(fam, "qualifier")
                    if q == "BR" or (not q and not h.birth_name):
                        h.birth_name = _text(fam)
                    elif q == "SP":
                        h.used_name = _text(fam)
                if not h.given:
                    h.given = [_text(g) for g in name.findall(_t("given")) if _text(g)]
            h.sex = _attr(patient.find(_t("administrativeGenderCode")), "code")
            h.birth_date = _attr(patient.find(_t("birthTime")), "value")
    for author in root.findall(_t("author")):
        aa = author.find(_t("assignedAuthor"))
        aid = aa.find(_t("id")) if aa is not None else None
        person = _first(aa, _ASSIGNED_PERSON, _NAME) if aa is not None else None
        h.authors.append(CdaAuthor(_attr(aid, "root"), _attr(aid, "extension"),
                                   _text(person.find(_t("family"))) if person is not None else "",
                                   _text(person.find(_t("given"))) if person is not None else "",
                                   _attr(author.find(_t("time")), "value")))
    cust = _first(root, _CUSTODIAN, _ASSIGNED_CUSTODIAN, _REPRESENTED_CUSTODIAN)
    if cust is not None:
        cid = cust.find(_t("id"))
        h.custodian = _attr(cid, "extension") or _attr(cid, "root") or _text(cust.find(_t("name")))
    for rel in root.findall(_t("relatedDocument")):
        if _attr(rel, "typeCode") == "RPLC":
            parent_id = _first(rel, _PARENT_DOCUMENT, _ID)
            if parent_id is not None:
                ext = _attr(parent_id, "extension")
                h.replaces.append(_attr(parent_id, "root") + (f"^{ext}" if ext else ""))
    comp = root.find(_t("component"))
    if comp is not None:
        if comp.find(_t("structuredBody")) is not None:
            h.level = "N3"
        body = comp.find(_t("nonXMLBody"))
        if body is not None:
            h.level = "N1"
            text = body.find(_t("text"))
            h.media_type = _attr(text, "mediaType")
            if text is not None and _attr(text, "representation") == "B64":
                try:
                    h.embedded = base64.b64decode("".join((text.text or "").split()), validate=True)
                except (binascii.Error, ValueError):
                    h.embedded = b""


def _check(h: CdaHeader, root: Element) -> None:  # noqa: C901 - one rule after the other, in header order
    type_id = root.find(_t("typeId"))
    if _attr(type_id, "root") != "2.16.840.1.113883.1.3" or _attr(type_id, "extension") != "POCD_HD000040":
        _issue(h, "TYPEID", "error", "typeId doit être root=2.16.840.1.113883.1.3 extension=POCD_HD000040",
               "typeId must be root=2.16.840.1.113883.1.3 extension=POCD_HD000040", "/ClinicalDocument/typeId")
    if _attr(root.find(_t("realmCode")), "code") != "FR":
        _issue(h, "REALM", "error", "realmCode doit valoir FR", "realmCode must be FR", "/ClinicalDocument/realmCode")
    if TEMPLATE_FR_HEADER not in h.template_ids:
        _issue(h, "TEMPLATE-FR", "error", f"templateId de l'en-tête français {TEMPLATE_FR_HEADER} absent",
               f"French header templateId {TEMPLATE_FR_HEADER} missing", "/ClinicalDocument/templateId")
    if not h.document_id:
        _issue(h, "ID", "error", "Identifiant du document (id/@root) absent", "Document id (id/@root) missing",
               "/ClinicalDocument/id")
    loc = "/ClinicalDocument/code"
    if not h.code:
        _issue(h, "CODE", "error", "Code du document absent", "Document code missing", loc)
    elif h.code_system != OID_LOINC:
        _issue(h, "CODE", "error", f"Code du document hors LOINC (codeSystem {h.code_system})",
               f"Document code not in LOINC (codeSystem {h.code_system})", loc)
    for template, expected in TEMPLATE_CODES.items():
        if template in h.template_ids and h.code and h.code != expected:
            _issue(h, "CODE-TEMPLATE", "error", f"Le modèle {template} impose le code {expected} (trouvé {h.code})",
                   f"Template {template} requires code {expected} (found {h.code})", loc)
    if not _TS.match(h.effective_time):
        _issue(h, "EFFECTIVE-TIME", "error",
               f"effectiveTime « {h.effective_time} » : date et heure à la minute avec fuseau (AAAAMMJJhhmm[ss]+zzzz)",
               f"effectiveTime '{h.effective_time}': date and time to the minute with a zone (YYYYMMDDhhmm[ss]+zzzz)",
               "/ClinicalDocument/effectiveTime")
    if h.confidentiality_system != OID_CONFIDENTIALITY or h.confidentiality not in ("N", "R", "V"):
        _issue(h, "CONFIDENTIALITY", "error",
               f"confidentialityCode « {h.confidentiality} » : N, R ou V du système {OID_CONFIDENTIALITY}",
               f"confidentialityCode '{h.confidentiality}': N, R or V of system {OID_CONFIDENTIALITY}",
               "/ClinicalDocument/confidentialityCode")
    if h.language and h.language != "fr-FR":
        _issue(h, "LANGUAGE", "warning", f"languageCode « {h.language} » au lieu de fr-FR",
               f"languageCode '{h.language}' instead of fr-FR", "/ClinicalDocument/languageCode")
    if not h.set_id or not h.version_number:
        _issue(h, "VERSION", "error", "setId et versionNumber sont obligatoires",
               "setId and versionNumber are required", "/ClinicalDocument/setId")
    _check_patient(h)
    if not any(a.id_root and a.id_extension and a.time for a in h.authors):
        _issue(h, "AUTHOR", "error", "Au moins un auteur avec identifiant (id root/extension) et heure (time)",
               "At least one author with an identifier (id root/extension) and a time", "/ClinicalDocument/author")
    if not h.custodian:
        _issue(h, "CUSTODIAN", "error", "Organisation responsable (custodian) absente", "Custodian missing",
               "/ClinicalDocument/custodian")
    if not h.level:
        _issue(h, "BODY", "error", "Corps du document (structuredBody ou nonXMLBody) absent",
               "Document body (structuredBody or nonXMLBody) missing", "/ClinicalDocument/component")
    elif h.level == "N1":
        loc = "/ClinicalDocument/component/nonXMLBody/text"
        if h.media_type not in N1_MEDIA_TYPES:
            _issue(h, "N1-MEDIA", "error", f"Type de contenu N1 « {h.media_type} » non admis",
                   f"N1 media type '{h.media_type}' not allowed", loc)
        if not h.embedded:
            _issue(h, "N1-B64", "error", "Contenu N1 absent ou non codé en base64 (representation=B64)",
                   "N1 content missing or not base64 (representation=B64)", loc)
        elif h.media_type == "application/pdf" and not h.embedded.startswith(b"%PDF-"):
            _issue(h, "N1-PDF", "error", "Le contenu N1 déclaré PDF n'est pas un PDF",
                   "The N1 content declared as PDF is not a PDF", loc)
        if TEMPLATE_N1 not in h.template_ids:
            _issue(h, "N1-TEMPLATE", "error", f"Document N1 sans templateId {TEMPLATE_N1}",
                   f"N1 document without templateId {TEMPLATE_N1}", "/ClinicalDocument/templateId")


def _check_patient(h: CdaHeader) -> None:
    loc = "/ClinicalDocument/recordTarget/patientRole/id"
    if not h.patient_ins:
        _issue(h, "INS-ABSENT", "error",
               "INS absente : aucun id patient avec une OID INS (1.2.250.1.213.1.4.8/9/10/11)",
               "INS missing: no patient id with an INS OID (1.2.250.1.213.1.4.8/9/10/11)", loc)
    else:
        fmt, key = check_value(h.patient_ins)
        if not fmt or key is None:
            _issue(h, "INS-FORMAT", "error", f"INS « {h.patient_ins} » : 15 caractères attendus (13 + clé)",
                   f"INS '{h.patient_ins}': 15 characters expected (13 + key)", loc)
        elif int(h.patient_ins[13:]) != key:
            _issue(h, "INS-KEY", "error", f"INS « {h.patient_ins} » : clé {h.patient_ins[13:]} au lieu de {key:02d}",
                   f"INS '{h.patient_ins}': key {h.patient_ins[13:]} instead of {key:02d}", loc)
    if h.patient_ins and h.missing_traits:
        missing = ", ".join(h.missing_traits)
        _issue(h, "INS-TRAITS", "error", f"Traits INS manquants : {missing}", f"Missing INS traits: {missing}",
               "/ClinicalDocument/recordTarget/patientRole/patient")
    if h.birth_date and not _TS_ANY.match(h.birth_date):
        _issue(h, "BIRTH-TIME", "error", f"birthTime « {h.birth_date} » mal formé",
               f"Malformed birthTime '{h.birth_date}'", "/ClinicalDocument/recordTarget/patientRole/patient/birthTime")
