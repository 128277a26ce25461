"""The DPI's own IHE XDM writer (ITI-32, FACTS §2.4): ``IHE_XDM.ZIP`` with ``INDEX.HTM``,
``README.TXT``, ``IHE_XDM/SUBSET01/METADATA.XML`` (ebRIM ``SubmitObjectsRequest``: a submission set
and one document entry per file, with SHA-1 hash, size and ``URI``) and the documents. A vendor
writes its own: the simulator does not borrow the sandbox's."""

from __future__ import annotations

import hashlib
import io
import zipfile
from xml.etree.ElementTree import Element, SubElement, tostring

LCM = "urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0"
RIM = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"
_R = "{" + RIM + "}"
DOCUMENT_ENTRY = "urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1"
SUBMISSION_SET = "urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd"
HAS_MEMBER = "urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember"
SCHEMES = {  # DocumentEntry classification schemes (IHE ITI TF-3 §4.2.5)
    "class": "urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a",
    "confidentiality": "urn:uuid:f4f85eac-e6cb-4883-b524-f2705394840f",
    "format": "urn:uuid:a09d5840-386c-46f2-b5ad-9c3699a4309d",
    "facility": "urn:uuid:f33fb8ac-18af-42cc-ae0e-ed0b0bdb91e1",
    "practice": "urn:uuid:cccf5598-8b07-4b77-a05e-ae952c785ead",
    "type": "urn:uuid:f0306f51-975f-434e-a61c-c59651d33983",
}
DE_PATIENT_ID = "urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427"
DE_UNIQUE_ID = "urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab"
SS_CONTENT_TYPE = "urn:uuid:aa543740-bdda-424e-8c96-df4873be8500"
SS_PATIENT_ID = "urn:uuid:6b5aea1a-874a-4add-a6ec-cf9f9e77f0f7"
SS_UNIQUE_ID = "urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8"
SS_SOURCE_ID = "urn:uuid:554ac39e-e3fe-47fe-b233-965d2a147832"
LDL_CODES = {"class": ("10", "1.2.250.1.213.1.1.4.1"), "confidentiality": ("N", "2.16.840.1.113883.5.25"),
             "format": ("urn:asip:ci-sis:ldl-ses:2017", "1.2.250.1.213.1.1.4.2.282"),
             "facility": ("SA01", "1.2.250.1.71.4.2.4"), "practice": ("ETABLISSEMENT", "1.2.250.1.213.1.1.4.9"),
             "type": ("11490-0", "2.16.840.1.113883.6.1")}
PDF_CODES = {**LDL_CODES, "format": ("urn:ihe:iti:xds-sd:pdf:2008", "1.3.6.1.4.1.19376.1.2.3")}


def _slot(parent: Element, name: str, value: str) -> None:
    SubElement(SubElement(SubElement(parent, _R + "Slot", name=name), _R + "ValueList"), _R + "Value").text = value


def _ext(parent: Element, obj: str, scheme: str, value: str, n: int) -> None:
    SubElement(parent, _R + "ExternalIdentifier", id=f"{obj}-ei{n}", registryObject=obj,
               identificationScheme=scheme, value=value)


def metadata(files: list[tuple[str, bytes, str, dict[str, tuple[str, str]]]], ins: str, oid: str, stamp: str) -> bytes:
    root = Element("{" + LCM + "}SubmitObjectsRequest")
    rol = SubElement(root, _R + "RegistryObjectList")
    cx = f"{ins}^^^&{oid}&ISO"
    for i, (name, data, mime, codes) in enumerate(files, start=1):
        eid = f"Document{i:02d}"
        eo = SubElement(rol, _R + "ExtrinsicObject", id=eid, mimeType=mime, objectType=DOCUMENT_ENTRY)
        for slot, value in (("creationTime", stamp), ("hash", hashlib.sha1(data).hexdigest()),  # noqa: S324 - XDS
                            ("size", str(len(data))), ("languageCode", "fr-FR"), ("sourcePatientId", cx),
                            ("URI", name)):
            _slot(eo, slot, value)
        for n, (key, (code, scheme)) in enumerate(codes.items(), start=1):
            cl = SubElement(eo, _R + "Classification", id=f"{eid}-cl{n}", classificationScheme=SCHEMES[key],
                            classifiedObject=eid, nodeRepresentation=code)
            _slot(cl, "codingScheme", scheme)
        _ext(eo, eid, DE_PATIENT_ID, cx, 1)
        _ext(eo, eid, DE_UNIQUE_ID, f"1.2.250.1.999.2.{stamp}.{i}", 2)
        SubElement(rol, _R + "Association", id=f"as{i:02d}", associationType=HAS_MEMBER,
                   sourceObject="SubmissionSet01", targetObject=eid)
    rp = SubElement(rol, _R + "RegistryPackage", id="SubmissionSet01")
    _slot(rp, "submissionTime", stamp)
    cl = SubElement(rp, _R + "Classification", id="ss-cl1", classificationScheme=SS_CONTENT_TYPE,
                    classifiedObject="SubmissionSet01", nodeRepresentation="SA01")
    _slot(cl, "codingScheme", "1.2.250.1.71.4.2.4")
    _ext(rp, "SubmissionSet01", SS_UNIQUE_ID, f"1.2.250.1.999.2.{stamp}.0", 1)
    _ext(rp, "SubmissionSet01", SS_SOURCE_ID, "1.2.250.1.999.2", 2)
    _ext(rp, "SubmissionSet01", SS_PATIENT_ID, cx, 3)
    SubElement(rol, _R + "Classification", id="cl-ss", classifiedObject="SubmissionSet01",
               classificationNode=SUBMISSION_SET)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(root, encoding="unicode").encode()


def xdm_zip(cda: bytes, pdf: bytes, *, ins: str, oid: str, stamp: str, title: str) -> bytes:
    """``IHE_XDM.ZIP`` holding the CDA (``DOC0001.XML``) and its readable PDF (``DOC0002.PDF``)."""
    files = [("DOC0001.XML", cda, "text/xml", LDL_CODES), ("DOC0002.PDF", pdf, "application/pdf", PDF_CODES)]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("INDEX.HTM", f"<html><body><h1>{title}</h1><a href=\"IHE_XDM/SUBSET01/DOC0001.XML\">"
                                 "DOC0001.XML</a></body></html>")
        zf.writestr("README.TXT", "IHE XDM - DPI simulateur (mes-sandbox)\r\n")
        zf.writestr("IHE_XDM/SUBSET01/METADATA.XML", metadata(files, ins, oid, stamp))
        for name, data, _, _ in files:
            zf.writestr(f"IHE_XDM/SUBSET01/{name}", data)
    return buf.getvalue()


PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj "
       b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")
