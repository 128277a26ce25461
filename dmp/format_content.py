"""Does a document's ``formatCode`` fit what was sent? (FACTS §3.1 XDS metadata "formatCode (R,
JDV_J60; N1 PDF → ``urn:ihe:iti:xds-sd:pdf:2008``; N3 via ASS_A11)", §3.4 ASS_A11.)

Two families of codes:

- **N1, unstructured** (``urn:ihe:iti:xds-sd:pdf:2008``, ``…:text:2008``, ``urn:ihe:iti-fr:xds-sd:jpeg:2010``,
  ``…:rtf:2010``, ``…:tiff:2010``): the content is that media type, either as sent (``contentType`` and
  the bytes' signature agree) or wrapped in a CDA ``nonXMLBody`` whose ``text/@mediaType`` is it
  (IHE XDS-SD).
- **Structured CDA** (ASS_A11: ``urn:asip:ci-sis:ldl-ses:2017``, ``urn:ihe:lab:xd-lab:2008``,
  ``urn:ihe:rad:CDA:ImagingReportStructuredHeadings:2013``, ``urn:ans:ci-sis:img-da:2022``,
  ``urn:asip:ci-sis:vac-note:2021``): the content is an XML ``ClinicalDocument``, not an XDS-SD wrapper.

``urn:ihe:iti:xds:2017:mimeTypeSufficient`` and codes outside both families are not checked here.
The content is sniffed, never parsed as XML (the bytes may be large; a marker is enough to judge).
"""

from __future__ import annotations

import re

from dmp.terminology import Finding

N1_MEDIA = {
    "urn:ihe:iti:xds-sd:pdf:2008": ("application/pdf",),
    "urn:ihe:iti:xds-sd:text:2008": ("text/plain",),
    "urn:ihe:iti-fr:xds-sd:jpeg:2010": ("image/jpeg",),
    "urn:ihe:iti-fr:xds-sd:rtf:2010": ("text/rtf", "application/rtf"),
    "urn:ihe:iti-fr:xds-sd:tiff:2010": ("image/tiff",),
}
STRUCTURED_CDA = ("urn:asip:ci-sis:ldl-ses:2017", "urn:ihe:lab:xd-lab:2008",
                  "urn:ihe:rad:CDA:ImagingReportStructuredHeadings:2013", "urn:ans:ci-sis:img-da:2022",
                  "urn:asip:ci-sis:vac-note:2021")
XML_MEDIA = ("text/xml", "application/xml", "application/hl7-cda+xml")
#: magic numbers of the binary N1 formats
SIGNATURES = {"application/pdf": (b"%PDF-",), "image/jpeg": (b"\xff\xd8\xff",),
              "image/tiff": (b"II*\x00", b"MM\x00*"), "text/rtf": (b"{\\rtf",), "application/rtf": (b"{\\rtf",)}
SNIFF_BYTES = 1 << 20
_MEDIA_TYPE = re.compile(rb"<text[^>]*\smediaType\s*=\s*[\"']([^\"']+)[\"']")


def _media(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def _cda(data: bytes) -> tuple[bool, str | None]:
    """(is a ClinicalDocument, the nonXMLBody media type or None)."""
    head = data[:SNIFF_BYTES]
    if b"<ClinicalDocument" not in head and b":ClinicalDocument" not in head:
        return False, None
    if b"nonXMLBody" not in head:
        return True, None
    found = _MEDIA_TYPE.search(head[head.index(b"nonXMLBody"):])
    return True, found.group(1).decode("ascii", "replace").lower() if found else ""


def _signature_ok(media: str, data: bytes) -> bool:
    sigs = SIGNATURES.get(media)
    return sigs is None or data.startswith(sigs)


def check_format_content(code: str, content_type: str, data: bytes, at: str) -> list[Finding]:
    """Findings (errors) when formatCode ``code`` contradicts the attachment's type or bytes."""
    media = _media(content_type)
    is_cda, wrapped = _cda(data)
    if code in N1_MEDIA:
        wanted = N1_MEDIA[code]
        if media in wanted:
            if _signature_ok(media, data):
                return []
            return [Finding("error", "value", at, f"formatCode {code} et contentType {media} : le contenu "
                                                  f"n'est pas un fichier {media} (signature absente)")]
        if is_cda and wrapped in wanted:
            return []  # IHE XDS-SD: the N1 document wrapped in a CDA nonXMLBody
        what = ("un CDA structuré" if is_cda and wrapped is None else
                f"un CDA enveloppant {wrapped or 'un contenu sans mediaType'}" if is_cda else f"du {media}")
        return [Finding("error", "value", at, f"formatCode {code} (N1, {' ou '.join(wanted)}) incompatible avec "
                                              f"le contenu envoyé : {what}")]
    if code in STRUCTURED_CDA:
        if not is_cda or media not in XML_MEDIA:
            why = media if is_cda else f"{media}, pas un ClinicalDocument"
            return [Finding("error", "value", at, f"formatCode {code} (CDA structuré) incompatible avec le contenu "
                                                  f"envoyé ({why})")]
        if wrapped is not None:
            return [Finding("error", "value", at, f"formatCode {code} (CDA structuré) sur un CDA non structuré "
                                                  f"(nonXMLBody {wrapped}) : formatCode N1 attendu")]
    return []
