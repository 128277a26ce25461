"""Sample MSSanté messages as a Ségur sender writes them (FACTS §2.3, §2.4, §5, §8 item 9).

:func:`build_message` returns the RFC 5322 bytes (CRLF) of a message with the subject
``XDM/1.0/DDM+<libellé> <NOM> <prénom> <JJ/MM/AAAA>``, the ``X-MSS-*`` headers, an
``IHE_XDM.ZIP`` attachment and the human-readable PDF beside it. Kinds:

- ``ldl``: discharge letter as an FR Document Core FHIR document Bundle (no CDA, so no
  ``X-MSS-CODECDA``/``X-MSS-INS``);
- ``ldl-cda``, ``cr-bio``, ``cr-img``: CDA R2 N1 documents (embedded PDF) with LOINC ``11490-0``,
  ``11502-2``, ``18748-4``; ``X-MSS-CODECDA`` and ``X-MSS-INS: O``;
- ``text``: a plain message without documents (only ``X-MSS-NIL``).

:func:`mss.checks.check_message` finds nothing to say about any of them. Tests, the MSSanté
service and the reference simulator build their messages here and then break what they test.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid
from typing import Any

import orjson

from mss.samples_docs import DEFAULT_AUTHOR, DEFAULT_PATIENT, OID_INS_NIR, cda_n1, fhir_discharge_letter, pdf_bytes
from mss.xdm_build import SubmissionMetadata, XdmDocumentInput, build_xdm

LOINC = "2.16.840.1.113883.6.1"
#: X-MSS-NIL of the sandbox's own sender (the real value is the product's listing number)
SANDBOX_NIL = "MES-SANDBOX-0001"
SUBJECT_PREFIX = "XDM/1.0/DDM+"
REPLACE_PREFIX = "[Annule et remplace]"

#: kind -> (LOINC code, label, N1 CDA or FHIR, XDS classCode, formatCode)
KINDS: dict[str, tuple[str, str, str, tuple[str, str, str]]] = {
    "ldl": ("11490-0", "Lettre de liaison à la sortie", "fhir",
            ("10", "1.2.250.1.213.1.1.4.1", "Compte rendu")),
    "ldl-cda": ("11490-0", "Lettre de liaison à la sortie", "cda",
                ("10", "1.2.250.1.213.1.1.4.1", "Compte rendu")),
    "cr-bio": ("11502-2", "CR d'examens biologiques", "cda", ("10", "1.2.250.1.213.1.1.4.1", "Compte rendu")),
    "cr-img": ("18748-4", "CR d'imagerie médicale", "cda", ("31", "1.2.250.1.213.1.1.4.1", "Imagerie médicale")),
}


def subject_for(label: str, patient: dict[str, Any]) -> str:
    """``XDM/1.0/DDM+<libellé> <NOM> <prénom> <JJ/MM/AAAA>`` (libellé truncated to 40 characters)."""
    y, m, d = (str(patient.get("birth_date") or "0000-00-00").split("-") + ["", ""])[:3]
    first = (list(patient.get("first_names") or [""]) or [""])[0]
    return f"{SUBJECT_PREFIX}{label[:40]} {str(patient.get('birth_name', '')).upper()} {first} {d}/{m}/{y}"


def build_message(kind: str = "ldl", *, sender: str, recipients: list[str], patient_ins: str,
                  patient: dict[str, Any] | None = None, disposition_notification_to: str | None = None,
                  extra_headers: dict[str, str] | None = None, patient_oid: str = OID_INS_NIR,
                  replaces: str = "", message_id: str | None = None) -> bytes:
    """The bytes of a sample message; see the module docstring. ``extra_headers`` replace or add
    headers (a value of ``""`` removes the header). ``replaces`` makes it an "annule et remplace" of
    the document with that unique id (subject prefix, RPLC association, relatedDocument/relatesTo)."""
    if kind != "text" and kind not in KINDS:
        raise ValueError(f"unknown sample kind {kind!r}; known: text, {', '.join(KINDS)}")
    pat = dict(patient or DEFAULT_PATIENT)
    msg = EmailMessage(policy=SMTP)
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = message_id or make_msgid(domain=sender.rpartition("@")[2] or "sandbox.invalid")
    msg["X-MSS-NIL"] = SANDBOX_NIL
    if disposition_notification_to:
        msg["Disposition-Notification-To"] = disposition_notification_to
    if kind == "text":
        msg["Subject"] = "Message sans document"
        msg.set_content("Bonjour,\n\nMessage de test sans document.\n")
    else:
        _with_documents(msg, kind, recipients, patient_ins, pat, patient_oid, replaces)
    for name, value in (extra_headers or {}).items():
        del msg[name]
        if value != "":
            msg[name] = value
    return msg.as_bytes()


def _with_documents(msg: EmailMessage, kind: str, recipients: Sequence[str], ins: str, pat: dict[str, Any],
                    ins_oid: str, replaces: str) -> None:
    code, label, form, class_code = KINDS[kind]
    pdf = pdf_bytes(f"{label} - {pat.get('birth_name', '')} - document de test mes-sandbox")
    if form == "fhir":
        content = orjson.dumps(fhir_discharge_letter(ins, pat, ins_oid=ins_oid, replaces=replaces))
        doc = XdmDocumentInput(content, "application/fhir+json", label, (code, LOINC, label), class_code=class_code,
                               replaces=replaces)
    else:
        content = cda_n1(ins, pat, code=code, display=label, title=label, pdf=pdf, ins_oid=ins_oid, replaces=replaces)
        doc = XdmDocumentInput(content, "text/xml", label, (code, LOINC, label), class_code=class_code,
                               format_code=("urn:ihe:iti:xds-sd:pdf:2008", "1.3.6.1.4.1.19376.1.2.3", "PDF"),
                               replaces=replaces)
        msg["X-MSS-CODECDA"] = code
        msg["X-MSS-INS"] = "O"
    author = DEFAULT_AUTHOR
    zip_bytes = build_xdm([doc], SubmissionMetadata(
        patient_ins=ins, patient_oid=ins_oid, author_id=author["idnps"],
        author_name=f"{author['family']} {author['given']}", intended_recipients=tuple(recipients)))
    msg["Subject"] = (f"{REPLACE_PREFIX} " if replaces else "") + subject_for(label, pat)
    msg.set_content(f"Bonjour,\n\nVeuillez trouver ci-joint : {label}.\n\nCordialement.\n")
    msg.add_attachment(zip_bytes, maintype="application", subtype="zip", filename="IHE_XDM.ZIP")
    msg.add_attachment(pdf, maintype="application", subtype="pdf", filename=f"{kind.upper()}.pdf")
