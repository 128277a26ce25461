"""How suite ``dpi-ldl`` reads what a vendor sent: documents judged by ``profiles/`` (CDA header
reader, FHIR validator), each finding citing the validator's rule id; the mail parsers facing bad
input (truncated zip, oversized member, METADATA.XML with a DTD, hash and size mismatches, a folded
receipt field) without raising."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, field
from typing import Any

from conformance.simulators.dpi import letter, mail, xdm
from conformance.suites.dpi_ldl import mail_evidence
from conformance.suites.dpi_ldl.documents import judge_fhir, judge_letter_cda

INS = "297022A02077878"
TRAITS = {"family": "ADRTROIS", "given": ["DOMINIQUE"], "gender": "female", "birth_date": "1997-02-26"}


@dataclass
class Recorder:
    """Stands for the TestContext: ``judge_*`` only record findings through ``check``."""

    findings: list[dict[str, Any]] = field(default_factory=list)

    def check(self, ok: bool, msg: Any, *, at: str | None = None, exchanges: Any = (), **fmt: Any) -> bool:
        if not ok:
            self.findings.append({"id": msg.id, "at": at, **fmt})
        return ok


def _cda(ins: str = INS, **kw: Any) -> bytes:
    return letter.cda(ins, "1.2.250.1.213.1.4.8", "Lettre", patient=kw.get("patient", TRAITS),
                      author_rpps="899700218896", author_family="SPECIALISTE", author_given="ROBERT")


def test_good_letter_cda_has_no_finding() -> None:
    rec = Recorder()
    h = judge_letter_cda(rec, _cda(), ())  # type: ignore[arg-type]
    assert rec.findings == [] and h.ins_qualified and h.code == "11490-0"


def test_cda_findings_cite_the_header_rule_ids() -> None:
    rec = Recorder()
    judge_letter_cda(rec, _cda("297022A02077877"), (), at="Binary:")  # type: ignore[arg-type]
    assert [f["rule"] for f in rec.findings] == ["CDA-INS-KEY"]
    assert all(f["at"].startswith("Binary:/ClinicalDocument") for f in rec.findings)
    rec = Recorder()
    judge_letter_cda(rec, _cda(patient={}), (), exclude=("CDA-INS",))  # type: ignore[arg-type]
    assert rec.findings == []  # dmp.03 leaves the INS rules to dmp.02


def test_not_a_letter_and_not_xml() -> None:
    rec = Recorder()
    other = _cda().replace(b"1.2.250.1.213.1.1.1.29", b"1.2.250.1.213.1.1.1.45")
    judge_letter_cda(rec, other, ())  # type: ignore[arg-type]
    # a CR-IMG template with the letter's code: the header rule and the LDL-SES check both say so
    assert [(f["id"], f.get("rule")) for f in rec.findings] == [("dpi-ldl.doc.cda-rule", "CDA-CODE-TEMPLATE"),
                                                                ("dpi-ldl.doc.ldl", None)]
    rec = Recorder()
    judge_letter_cda(rec, b"<!DOCTYPE x [<!ENTITY a 'b'>]><x>&a;</x>", ())  # type: ignore[arg-type]
    assert [f["rule"] for f in rec.findings] == ["CDA-XML"]


def test_fhir_document_validated_by_profiles() -> None:
    rec = Recorder()
    judge_fhir(rec, json.dumps({"resourceType": "Bundle", "type": "document", "entry": "not-a-list"}).encode(),
               (), at="IHE_XDM.ZIP:DOC0001.JSON:")  # type: ignore[arg-type]
    assert rec.findings and all(f["id"] == "dpi-ldl.doc.fhir-profile" and f["rule"] for f in rec.findings)
    assert all(f["at"].startswith("IHE_XDM.ZIP:DOC0001.JSON:") for f in rec.findings)
    rec = Recorder()
    judge_fhir(rec, b"{not json", ())  # type: ignore[arg-type]
    assert [f["rule"] for f in rec.findings] == ["json"]


def test_the_simulators_xdm_is_whole() -> None:
    package = mail_evidence.read_xdm(xdm.xdm_zip(_cda(), xdm.PDF, ins=INS, oid="1.2.250.1.213.1.4.8",
                                                 stamp="20260101120000", title="Lettre"))
    assert mail_evidence.xdm_problems(package) == []
    assert [e["mimeType"] for e in package.entries] == ["text/xml", "application/pdf"]


def _zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_xdm_bad_input_is_a_problem_not_a_crash() -> None:
    assert "zip illisible" in mail_evidence.xdm_problems(mail_evidence.read_xdm(b"PK\x03\x04 truncated"))[0]
    doc = b"<ClinicalDocument/>"
    meta = ('<lcm:SubmitObjectsRequest xmlns:lcm="urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0" '
            'xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"><rim:RegistryObjectList>'
            '<rim:ExtrinsicObject id="d" mimeType="text/xml">'
            '<rim:Slot name="URI"><rim:ValueList><rim:Value>DOC0001.XML</rim:Value></rim:ValueList></rim:Slot>'
            f'<rim:Slot name="hash"><rim:ValueList><rim:Value>{"0" * 40}</rim:Value></rim:ValueList></rim:Slot>'
            '<rim:Slot name="size"><rim:ValueList><rim:Value>1</rim:Value></rim:ValueList></rim:Slot>'
            '</rim:ExtrinsicObject><rim:ExtrinsicObject id="e" mimeType="text/xml">'
            '<rim:Slot name="URI"><rim:ValueList><rim:Value>MISSING.XML</rim:Value></rim:ValueList></rim:Slot>'
            '</rim:ExtrinsicObject></rim:RegistryObjectList></lcm:SubmitObjectsRequest>').encode()
    problems = mail_evidence.xdm_problems(mail_evidence.read_xdm(_zip({
        "IHE_XDM/SUBSET01/METADATA.XML": meta, "IHE_XDM/SUBSET01/DOC0001.XML": doc})))
    assert "INDEX.HTM absent" in problems and "README.TXT absent" in problems
    assert any("SHA-1" in p for p in problems) and any("taille 1" in p for p in problems)
    assert any("MISSING.XML" in p for p in problems)
    dtd = _zip({"IHE_XDM/SUBSET01/METADATA.XML": b'<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>'})
    assert any("METADATA.XML" in p for p in mail_evidence.xdm_problems(mail_evidence.read_xdm(dtd)))


def test_oversized_member_is_not_read(monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(mail_evidence, "MAX_MEMBER", 1000)
    package = mail_evidence.read_xdm(_zip({"README.TXT": b"0" * 5000}))
    assert "README.TXT" not in package.files and package.problems == ["README.TXT: 5000 octets / bytes"]


def test_receipt_fields_survive_folding() -> None:
    original = mail.letter_message(sender="a@pro.sandbox.mssante.fr", to=["b@pro.sandbox.mssante.fr"], subject="s",
                                   xdm=None, pdf=xdm.PDF, headers={}, ask_receipt=True)
    original.replace_header("Message-ID", "<" + "x" * 90 + "@pro.sandbox.mssante.fr>")  # folded past 78 columns
    report, to = mail.mdn(original, me="b@pro.sandbox.mssante.fr")
    parsed = mail_evidence.parse_message(report.as_bytes())
    fields = mail_evidence.notification_fields(parsed)
    assert to == "a@pro.sandbox.mssante.fr" and mail_evidence.is_receipt(parsed)
    assert fields["original-message-id"] == str(original["Message-ID"])
    assert fields["disposition"].endswith("; processed")
