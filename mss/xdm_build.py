"""Writing an IHE XDM package (ITI-32) as French senders put it in ``IHE_XDM.ZIP`` (FACTS §2.4, §3.4).

Layout: ``INDEX.HTM``, ``README.TXT``, ``IHE_XDM/SUBSET01/METADATA.XML`` (ebRIM
``SubmitObjectsRequest``: one SubmissionSet, one DocumentEntry per document with its SHA-1 hash
and size, HasMember associations, RPLC when a document replaces another) and the documents
``IHE_XDM/SUBSET01/DOC0001.<ext>``. Used by the message samples, the MSSanté service's own
sending and the reference simulator; :func:`mss.xdm.read_xdm` accepts what it writes.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element, SubElement, register_namespace, tostring

from mss.xdm_ebrim import (
    DE_AUTHOR,
    DE_CODES,
    DE_PATIENT_ID,
    DE_UNIQUE_ID,
    DOCUMENT_ENTRY_TYPE,
    HAS_MEMBER,
    NS_LCM,
    NS_RIM,
    RPLC,
    SS_AUTHOR,
    SS_CONTENT_TYPE,
    SS_PATIENT_ID,
    SS_SOURCE_ID,
    SS_UNIQUE_ID,
    SUBMISSION_SET_NODE,
)

OID_INS_NIR = "1.2.250.1.213.1.4.8"
_R = "{" + NS_RIM + "}"
_SCHEME_BY_NAME = {name: uuid for uuid, name in DE_CODES.items()}
_EXT = {"application/fhir+json": "JSON", "application/json": "JSON", "text/xml": "XML", "application/xml": "XML",
        "application/pdf": "PDF", "text/plain": "TXT"}

Coded = tuple[str, str, str]  # (code, codingScheme, display)


@dataclass(frozen=True)
class XdmDocumentInput:
    """A document to put in the package and its XDS metadata (French value sets, FACTS §3.4)."""

    content: bytes
    mime_type: str
    title: str
    type_code: Coded
    class_code: Coded = ("10", "1.2.250.1.213.1.1.4.1", "Compte rendu")
    format_code: Coded = ("urn:ihe:iti:xds:2017:mimeTypeSufficient", "1.3.6.1.4.1.19376.1.2.3",
                          "Format défini par le type MIME")
    confidentiality: Coded = ("N", "2.16.840.1.113883.5.25", "Normal")
    healthcare_facility_type: Coded = ("SA01", "1.2.250.1.71.4.2.4", "Etablissement public de santé")
    practice_setting: Coded = ("ETABLISSEMENT", "1.2.250.1.213.1.1.4.9", "Etablissement de santé")
    creation_time: str = "20260115090000"
    unique_id: str = ""
    file_name: str = ""
    #: unique id of the document this one replaces (RPLC association, "annule et remplace")
    replaces: str = ""


@dataclass(frozen=True)
class SubmissionMetadata:
    patient_ins: str
    patient_oid: str = OID_INS_NIR
    author_id: str = ""  # IDNPS of the author (authorPerson XCN)
    author_name: str = ""
    source_id: str = "1.2.250.1.999.42"
    unique_id: str = ""
    submission_time: str = "20260115100000"
    title: str = "Envoi MSSanté"
    content_type_code: Coded = ("SA01", "1.2.250.1.71.4.2.4", "Etablissement public de santé")
    intended_recipients: Sequence[str] = field(default_factory=tuple)


def _slot(parent: Element, name: str, *values: str) -> None:
    slot = SubElement(parent, _R + "Slot", name=name)
    vl = SubElement(slot, _R + "ValueList")
    for v in values:
        SubElement(vl, _R + "Value").text = v


def _name(parent: Element, text: str) -> None:
    SubElement(SubElement(parent, _R + "Name"), _R + "LocalizedString", value=text)


def _code(parent: Element, obj: str, scheme: str, coded: Coded, n: int) -> None:
    cl = SubElement(parent, _R + "Classification", id=f"{obj}-cl{n}", classificationScheme=scheme,
                    classifiedObject=obj, nodeRepresentation=coded[0])
    _slot(cl, "codingScheme", coded[1])
    _name(cl, coded[2] or coded[0])


def _author(parent: Element, obj: str, scheme: str, sub: SubmissionMetadata) -> None:
    if not sub.author_id:
        return
    cl = SubElement(parent, _R + "Classification", id=f"{obj}-author", classificationScheme=scheme,
                    classifiedObject=obj, nodeRepresentation="")
    family, _, given = sub.author_name.partition(" ")
    _slot(cl, "authorPerson", f"{sub.author_id}^{family}^{given}^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS")


def _ext_id(parent: Element, obj: str, scheme: str, value: str, name: str, n: int) -> None:
    ei = SubElement(parent, _R + "ExternalIdentifier", id=f"{obj}-ei{n}", registryObject=obj,
                    identificationScheme=scheme, value=value)
    _name(ei, name)


def metadata_xml(documents: Sequence[XdmDocumentInput], sub: SubmissionMetadata, names: Sequence[str]) -> bytes:
    register_namespace("lcm", NS_LCM)
    register_namespace("rim", NS_RIM)
    root = Element("{" + NS_LCM + "}SubmitObjectsRequest")
    rol = SubElement(root, _R + "RegistryObjectList")
    patient_cx = f"{sub.patient_ins}^^^&{sub.patient_oid}&ISO"
    ss_id = "SubmissionSet01"
    entry_ids = []
    for i, (doc, file_name) in enumerate(zip(documents, names, strict=True), start=1):
        eid = f"Document{i:02d}"
        entry_ids.append(eid)
        eo = SubElement(rol, _R + "ExtrinsicObject", id=eid, mimeType=doc.mime_type, objectType=DOCUMENT_ENTRY_TYPE)
        _slot(eo, "creationTime", doc.creation_time)
        _slot(eo, "hash", hashlib.sha1(doc.content).hexdigest())  # noqa: S324 - XDS mandates SHA-1
        _slot(eo, "size", str(len(doc.content)))
        _slot(eo, "languageCode", "fr-FR")
        _slot(eo, "sourcePatientId", patient_cx)
        _slot(eo, "URI", file_name)
        _name(eo, doc.title)
        _author(eo, eid, DE_AUTHOR, sub)
        for n, (name, coded) in enumerate((
                ("classCode", doc.class_code), ("confidentialityCode", doc.confidentiality),
                ("formatCode", doc.format_code), ("healthcareFacilityTypeCode", doc.healthcare_facility_type),
                ("practiceSettingCode", doc.practice_setting), ("typeCode", doc.type_code)), start=1):
            _code(eo, eid, _SCHEME_BY_NAME[name], coded, n)
        _ext_id(eo, eid, DE_PATIENT_ID, patient_cx, "XDSDocumentEntry.patientId", 1)
        _ext_id(eo, eid, DE_UNIQUE_ID, doc.unique_id or f"{sub.source_id}.{i}", "XDSDocumentEntry.uniqueId", 2)
    rp = SubElement(rol, _R + "RegistryPackage", id=ss_id)
    _slot(rp, "submissionTime", sub.submission_time)
    if sub.intended_recipients:
        _slot(rp, "intendedRecipient", *[f"|{a}^^^^^^^^^^^^^^NET^INTERNET^{a}" for a in sub.intended_recipients])
    _name(rp, sub.title)
    _author(rp, ss_id, SS_AUTHOR, sub)
    _code(rp, ss_id, SS_CONTENT_TYPE, sub.content_type_code, 1)
    _ext_id(rp, ss_id, SS_UNIQUE_ID, sub.unique_id or f"{sub.source_id}.0", "XDSSubmissionSet.uniqueId", 1)
    _ext_id(rp, ss_id, SS_SOURCE_ID, sub.source_id, "XDSSubmissionSet.sourceId", 2)
    _ext_id(rp, ss_id, SS_PATIENT_ID, patient_cx, "XDSSubmissionSet.patientId", 3)
    SubElement(rol, _R + "Classification", id="cl-ss", classifiedObject=ss_id, classificationNode=SUBMISSION_SET_NODE)
    for i, eid in enumerate(entry_ids, start=1):
        assoc = SubElement(rol, _R + "Association", id=f"as{i:02d}", associationType=HAS_MEMBER, sourceObject=ss_id,
                           targetObject=eid)
        _slot(assoc, "SubmissionSetStatus", "Original")
    for i, (eid, doc) in enumerate(zip(entry_ids, documents, strict=True), start=1):
        if doc.replaces:
            SubElement(rol, _R + "Association", id=f"rplc{i:02d}", associationType=RPLC, sourceObject=eid,
                       targetObject=doc.replaces)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(root, encoding="unicode").encode()


def build_xdm(documents: Sequence[XdmDocumentInput], submission: SubmissionMetadata) -> bytes:
    """The bytes of an ``IHE_XDM.ZIP`` holding ``documents`` with ``submission``'s metadata."""
    names = [d.file_name or f"DOC{i:04d}.{_EXT.get(d.mime_type, 'BIN')}" for i, d in enumerate(documents, start=1)]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        def put(name: str, data: bytes) -> None:
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 15, 10, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)

        put("INDEX.HTM", ("<html><head><meta charset=\"utf-8\"><title>IHE XDM</title></head><body><h1>"
                          f"{submission.title}</h1><ul>" + "".join(
                              f'<li><a href="IHE_XDM/SUBSET01/{n}">{d.title}</a></li>'
                              for n, d in zip(names, documents, strict=True)) + "</ul></body></html>").encode())
        put("README.TXT", ("Paquet IHE XDM (ITI-32) produit par mes-sandbox, bac à sable de test.\r\n"
                           "IHE XDM package (ITI-32) written by mes-sandbox, a test sandbox.\r\n").encode())
        put("IHE_XDM/SUBSET01/METADATA.XML", metadata_xml(documents, submission, names))
        for name, doc in zip(names, documents, strict=True):
            put(f"IHE_XDM/SUBSET01/{name}", doc.content)
    return buf.getvalue()
