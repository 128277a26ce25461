"""Content checks of an MSSanté message (FACTS §2.3–2.5, §5, §8 items 9–10).

:func:`check_message` is pure and synchronous and never raises on bad input: unreadable MIME, a
hostile ZIP, DTDs in XML, invalid FHIR all become :class:`~mss.findings.Finding` objects. It
checks the headers (:mod:`mss.mime_headers`), finds ``IHE_XDM.ZIP`` when documents are sent, reads
it safely (:func:`mss.xdm.read_xdm`), validates each FHIR document with ``profiles.validate_bytes``,
reads each CDA header with ``profiles.read_cda_header`` and checks ``X-MSS-CODECDA`` and
``X-MSS-INS`` against them, counts the patients (one per message), asks ``known_ins`` whether the
INS is known, and maps the blocking findings to the error MDN code (900–906).

Why only the XDM package's attachment is decoded: the other attachments (PDF, stray XML or JSON)
are judged by name and content type alone, and decoding their base64 cost ~5 µs per KB (6 µs for
the CR-BIO sample's 641-byte PDF, ~500 µs for a 100 KB one) for bytes nobody read.
"""

from __future__ import annotations

import email
import email.policy
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from email.utils import getaddresses
from typing import Any

import orjson

import profiles
from mss.findings import ERROR, Finding, M, finding, mdn_error, sort_findings
from mss.mime_headers import PATIENT_DOMAIN, check_headers, check_replace, check_subject, header, strip_replace
from mss.xdm import INS_OIDS, XdmDocument, XdmLimits, read_xdm

#: CDA issue id -> MDN application error code (FACTS §2.5): INS problems are specific, the rest "other"
_CDA_MDN = {"CDA-INS-ABSENT": 903, "CDA-INS-FORMAT": 904, "CDA-INS-KEY": 904, "CDA-INS-TRAITS": 905,
            "CDA-AUTHOR": 901}
_STRUCTURED = ("text/xml", "application/xml", "application/hl7-v3+xml", "application/fhir+json",
               "application/fhir+xml", "application/json")
_MAX_FHIR_FINDINGS = 20

__all__ = ["CdaHeader", "CheckResult", "check_message"]
CdaHeader = profiles.CdaHeader


@dataclass
class CheckResult:
    findings: list[Finding] = field(default_factory=list)
    patient_ins: str | None = None
    patient_count: int = 0
    documents: list[XdmDocument] = field(default_factory=list)
    cda_headers: list[profiles.CdaHeader] = field(default_factory=list)
    mdn_error: tuple[int, str] | None = None
    lang: str = "fr"
    #: the parsed message (None when unreadable), for its headers: the transport reads Subject,
    #: Message-ID and Disposition-Notification-To here instead of parsing the message again
    message: Message | None = None

    @property
    def ok(self) -> bool:
        return self.mdn_error is None

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok, "patient_ins": self.patient_ins, "patient_count": self.patient_count,
            "mdn_error": {"code": self.mdn_error[0], "label": self.mdn_error[1]} if self.mdn_error else None,
            "findings": [{**f.to_json(), "text": f.text(self.lang)} for f in self.findings],
            "documents": [d.to_json() for d in self.documents],
            "cda_headers": [h.to_json() for h in self.cda_headers],
        }


@dataclass
class _Patients:
    """INS seen in the message, by where they were seen, and the traits of the documents' patient."""

    seen: dict[str, list[str]] = field(default_factory=dict)
    traits: dict[str, str] = field(default_factory=dict)

    def add(self, ins: str, where: str) -> None:
        if ins:
            self.seen.setdefault(ins, []).append(where)


def check_message(raw: bytes, *, known_ins: Callable[[str], bool] | None = None, lang: str = "fr",
                  limits: XdmLimits | None = None) -> CheckResult:
    """Check one message (RFC 5322 bytes); see the module docstring."""
    res = CheckResult(lang=lang)
    try:
        _check(raw, res, known_ins, limits)
    except RecursionError:
        res.findings.append(finding(M.MIME_MALFORMED, "mime", detail="structure trop profonde / nesting too deep"))
    res.findings = sort_findings(res.findings)
    res.mdn_error = mdn_error(res.findings)
    return res


def _parse(raw: bytes, res: CheckResult) -> Message | None:
    if not isinstance(raw, bytes | bytearray) or not raw.strip():
        res.findings.append(finding(M.MIME_MALFORMED, "mime", detail="message vide / empty message"))
        return None
    msg = email.message_from_bytes(bytes(raw), policy=email.policy.compat32)
    defects = [d for part in msg.walk() for d in part.defects]
    if defects:
        res.findings.append(finding(M.MIME_MALFORMED, "mime", detail=", ".join(sorted({type(d).__name__
                                                                                          for d in defects}))))
    if not msg.keys():
        res.findings.append(finding(M.MIME_MALFORMED, "mime", detail="aucun en-tête / no header"))
        return None
    return msg


def _recipients(msg: Message) -> list[str]:
    # parsed before RFC 2047 decoding: a decoded display name may hold commas or angle brackets
    values = [str(v) for n in ("To", "Cc") for v in msg.get_all(n) or []]
    return [addr for _, addr in getaddresses(values) if addr]


def _attachments(msg: Message) -> list[tuple[str, str, Message]]:
    """(file name, content type, part) of every leaf part except the text bodies; only the XDM
    package's part is decoded (:func:`_decoded`), the others are judged by name and type."""
    out = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        name = part.get_filename() or ""
        ctype = part.get_content_type()
        if not name and ctype.startswith("text/") and part.get("Content-Disposition") is None:
            continue
        out.append((str(name), ctype, part))
    return out


def _decoded(part: Message) -> bytes:
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def _check(raw: bytes, res: CheckResult, known_ins: Callable[[str], bool] | None, limits: XdmLimits | None) -> None:
    msg = _parse(raw, res)
    if msg is None:
        return
    res.message = msg
    recipients = _recipients(msg)
    res.findings += check_headers(msg, recipients)
    subject = header(msg, "Subject") or ""
    xdm = _xdm_attachment(_attachments(msg), subject, res)
    patients = _Patients()
    replaces = _check_package(xdm, res, patients, limits) if xdm is not None else False
    for addr in recipients:
        local, _, domain = addr.rpartition("@")
        if domain.lower() == PATIENT_DOMAIN:
            patients.add(local.upper(), f"header:To {addr}")  # INS with 2A/2B: case is not significant
    res.findings += check_subject(subject, has_documents=xdm is not None, patient=patients.traits or None)
    res.findings += check_replace(msg, subject, replaces_something=replaces)
    _check_mss_headers(msg, res)
    _check_patients(patients, res, known_ins)


def _xdm_attachment(atts: list[tuple[str, str, Message]], subject: str,
                    res: CheckResult) -> tuple[str, bytes] | None:
    """The XDM package's (name, bytes), after the attachment rules of ECO.2.1.1."""
    zips = [a for a in atts if a[0].upper() == "IHE_XDM.ZIP"]
    other_zips = [a for a in atts if a not in zips and (a[1] in ("application/zip", "application/x-zip-compressed")
                                                       or a[0].upper().endswith(".ZIP"))]
    if not zips and other_zips:
        res.findings.append(finding(M.XDM_NAME, f"attachment:{other_zips[0][0]}", name=other_zips[0][0]))
        zips = other_zips[:1]
    structured = [a for a in atts if a[1] in _STRUCTURED or a[0].upper().endswith((".XML", ".JSON"))]
    pdfs = [a for a in atts if a[1] == "application/pdf" or a[0].upper().endswith(".PDF")]
    if len(zips) > 1:
        res.findings.append(finding(M.XDM_MULTIPLE, "attachment:IHE_XDM.ZIP", count=len(zips)))
    if zips:
        if not pdfs:
            res.findings.append(finding(M.PDF_MISSING, "attachment"))
        return zips[0][0] or "IHE_XDM.ZIP", _decoded(zips[0][2])
    if structured or strip_replace(subject)[1].startswith("XDM/1.0/DDM+"):
        detail = ", ".join(a[0] or a[1] for a in structured) or "objet XDM/1.0/DDM+ / XDM subject"
        res.findings.append(finding(M.XDM_MISSING, "attachment:IHE_XDM.ZIP", detail=detail))
    elif pdfs:
        res.findings.append(finding(M.XDM_MISSING, "attachment:IHE_XDM.ZIP", severity="warning",
                                    detail=", ".join(a[0] or a[1] for a in pdfs)))
    return None


def _check_package(xdm: tuple[str, bytes], res: CheckResult, patients: _Patients, limits: XdmLimits | None) -> bool:
    """Read the package and check each document; True when one of them replaces another."""
    package = read_xdm(xdm[1], limits=limits, location=f"attachment:{xdm[0]}")
    res.findings += package.findings
    res.documents = package.documents
    patients.add(package.submission_set.get("patient_ins", ""), "IHE_XDM/SUBSET01/METADATA.XML#SubmissionSet")
    replaces = False
    for doc in package.documents:
        where = f"IHE_XDM/SUBSET01/METADATA.XML#{doc.entry_id}"
        patients.add(doc.patient_ins, where)
        doc_replaces, content_ins = _check_document(doc, res, patients)
        replaces |= doc_replaces or bool(doc.replaces)
        if doc.patient_ins and content_ins and content_ins != doc.patient_ins:
            # the entry's patientId against the document's own INS
            res.findings.append(finding(M.PATIENT_INS_MISMATCH, where, found=doc.patient_ins, expected=content_ins))
    return replaces


def _check_document(doc: XdmDocument, res: CheckResult, patients: _Patients) -> tuple[bool, str]:
    """Check one document's content: (it declares what it replaces, the INS it is about)."""
    where = doc.path or doc.uri
    if not doc.content:
        return False, ""
    if doc.kind == "fhir":
        return _check_fhir(doc.content, where, res, patients)
    if doc.kind == "cda":
        h = profiles.read_cda_header(doc.content)
        res.cda_headers.append(h)
        for issue in h.issues:
            mdn = _CDA_MDN.get(issue.id, 906) if issue.severity == ERROR else None
            res.findings.append(Finding(issue.id, issue.severity, issue.text_fr, issue.text_en,
                                        f"{where}#{issue.location}", mdn))
        patients.add(h.patient_ins, f"{where}#recordTarget")
        if h.patient_ins and not patients.traits:
            b = h.birth_date
            patients.traits = {"birth_name": h.birth_name,
                               "birth_date": f"{b[:4]}-{b[4:6]}-{b[6:8]}" if len(b) >= 8 else ""}
        return bool(h.replaces), h.patient_ins
    return False, ""


def _check_fhir(content: bytes, where: str, res: CheckResult, patients: _Patients) -> tuple[bool, str]:
    issues = profiles.validate_bytes(content)
    errors = [i for i in issues if i.severity in ("error", "fatal")]
    for i in errors[:_MAX_FHIR_FINDINGS]:
        res.findings.append(finding(M.FHIR_INVALID, f"{where}#{i.expression}", expression=i.expression or "-",
                                    detail=f"[{i.message_id}] {i.text_fr}"))
    if len(errors) > _MAX_FHIR_FINDINGS:
        res.findings.append(finding(M.FHIR_INVALID, where, expression="…",
                                    detail=f"+{len(errors) - _MAX_FHIR_FINDINGS}"))
    try:
        doc = orjson.loads(content)
    except orjson.JSONDecodeError as exc:
        if not errors:
            res.findings.append(finding(M.FHIR_UNREADABLE, where, detail=str(exc)))
        return False, ""
    if not isinstance(doc, dict) or doc.get("resourceType") != "Bundle" or doc.get("type") != "document":
        found = f"{doc.get('resourceType')}/{doc.get('type')}" if isinstance(doc, dict) else type(doc).__name__
        res.findings.append(finding(M.FHIR_NOT_DOCUMENT, where, found=found))
        return False, ""
    replaces, ins = False, ""
    for n, entry in enumerate(doc.get("entry") or []):
        r = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(r, dict):
            continue
        if r.get("resourceType") == "Composition":
            replaces |= any(isinstance(x, dict) and x.get("code") == "replaces" for x in r.get("relatesTo") or [])
        if r.get("resourceType") == "Patient":
            ins = ins or _fhir_patient(r, f"{where}#Bundle.entry[{n}].resource", res, patients)
    return replaces, ins


def _fhir_patient(p: dict[str, Any], loc: str, res: CheckResult, patients: _Patients) -> str:
    """Record the Patient's INS and traits; returns the INS ("" when absent)."""
    ins = [i.get("value", "") for i in p.get("identifier") or [] if isinstance(i, dict)
           and str(i.get("system", "")).removeprefix("urn:oid:") in INS_OIDS]
    if not ins:
        res.findings.append(finding(M.PATIENT_INS_ABSENT, loc))
        return ""
    patients.add(str(ins[0]), loc)
    names = [n for n in p.get("name") or [] if isinstance(n, dict)]
    family = next((str(n.get("family") or "") for n in names if n.get("family")), "")
    given = any(n.get("given") for n in names)
    missing = [label for label, ok in (("nom de naissance", family), ("prénom", given),
                                       ("sexe", p.get("gender") in ("male", "female")),
                                       ("date de naissance", p.get("birthDate"))) if not ok]
    if missing:
        res.findings.append(finding(M.PATIENT_TRAITS, loc, missing=", ".join(missing)))
    elif not patients.traits:
        patients.traits = {"birth_name": family, "birth_date": str(p.get("birthDate") or "")}
    return str(ins[0])


def _check_mss_headers(msg: Message, res: CheckResult) -> None:
    """X-MSS-CODECDA and X-MSS-INS against the CDA headers (ECO.2.4.1, ECO.2.4.2)."""
    codecda, ins = header(msg, "X-MSS-CODECDA"), header(msg, "X-MSS-INS")
    cdas = [h for h in res.cda_headers if h.code or h.patient_ins]
    if not cdas:
        if codecda is not None:
            res.findings.append(finding(M.CODECDA_UNEXPECTED, "header:X-MSS-CODECDA"))
        if ins is not None:
            res.findings.append(finding(M.INS_HEADER_UNEXPECTED, "header:X-MSS-INS"))
        return
    expected_codes = [h.code for h in cdas]
    if codecda is None:
        res.findings.append(finding(M.CODECDA_MISSING, "header:X-MSS-CODECDA", codes=", ".join(expected_codes)))
    else:
        found = [c.strip() for c in codecda.split(",") if c.strip()]
        if sorted(found) != sorted(expected_codes):
            res.findings.append(finding(M.CODECDA_MISMATCH, "header:X-MSS-CODECDA", found=codecda,
                                        expected=",".join(expected_codes)))
    expected_ins = "O" if all(h.ins_qualified for h in cdas) else "N"
    if ins is None:
        res.findings.append(finding(M.INS_HEADER_MISSING, "header:X-MSS-INS"))
    elif ins not in ("O", "N"):
        res.findings.append(finding(M.INS_HEADER_VALUE, "header:X-MSS-INS", value=ins))
    elif ins != expected_ins:
        res.findings.append(finding(M.INS_HEADER_MISMATCH, "header:X-MSS-INS", found=ins, expected=expected_ins))


def _check_patients(patients: _Patients, res: CheckResult, known_ins: Callable[[str], bool] | None) -> None:
    res.patient_count = len(patients.seen)
    if res.patient_count > 1:
        ids = ", ".join(f"{ins} ({patients.seen[ins][0]})" for ins in sorted(patients.seen))
        res.findings.append(finding(M.PATIENT_MULTIPLE, "message", count=res.patient_count, ids=ids))
        recipient_ins = [i for i, where in patients.seen.items() if all(w.startswith("header:To") for w in where)]
        doc_ins = [i for i in patients.seen if i not in recipient_ins]
        for ins in recipient_ins:
            if doc_ins:
                res.findings.append(finding(M.PATIENT_RECIPIENT_MISMATCH, "header:To",
                                            address=f"{ins}@{PATIENT_DOMAIN}", ins=doc_ins[0]))
        return
    if res.patient_count == 1:
        res.patient_ins = next(iter(patients.seen))
        if known_ins is not None and not known_ins(res.patient_ins):
            res.findings.append(finding(M.PATIENT_UNKNOWN, "message", ins=res.patient_ins))


