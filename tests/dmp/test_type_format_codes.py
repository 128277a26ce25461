"""typeCode against JDV_J07 (LOINC + TRE_A05) and formatCode against the content sent (FACTS §3.1,
§3.4): a LOINC code under the TRE_A05 system, an N1 PDF format code on a structured CDA."""

from __future__ import annotations

import base64

from dmp_helpers import PAT1, cr_bio_bundle, issue_texts, sha1

TRE_A05 = "https://mos.esante.gouv.fr/NOS/TRE_A05-TypeDocComplementaire/FHIR/TRE-A05-TypeDocComplementaire"
TRE_A11 = "https://mos.esante.gouv.fr/NOS/TRE_A11-IheFormatCode/FHIR/TRE-A11-IheFormatCode"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
XDS_SD = (b'<?xml version="1.0" encoding="UTF-8"?><ClinicalDocument xmlns="urn:hl7-org:v3"><component>'
          b'<nonXMLBody><text mediaType="application/pdf" representation="B64">'
          + base64.b64encode(PDF) + b"</text></nonXMLBody></component></ClinicalDocument>")


def _doc(bundle: dict) -> dict:
    return bundle["entry"][1]["resource"]


def _with_content(bundle: dict, data: bytes, content_type: str) -> dict:
    att = _doc(bundle)["content"][0]["attachment"]
    att.update({"contentType": content_type, "size": len(data), "hash": sha1(data)})
    bundle["entry"][2]["resource"].update({"contentType": content_type, "data": base64.b64encode(data).decode()})
    return bundle


def _format(bundle: dict, code: str) -> dict:
    _doc(bundle)["content"][0]["format"] = {"system": TRE_A11, "code": code}
    return bundle


def test_loinc_code_under_tre_a05_is_refused(dmp) -> None:
    bundle = cr_bio_bundle(PAT1)
    _doc(bundle)["type"] = {"coding": [{"system": TRE_A05, "code": "11490-0"}]}
    r = dmp.provide(bundle)
    assert r.status_code == 422
    assert "TRE_A05" in issue_texts(r) and "http://loinc.org" in issue_texts(r)


def test_tre_a05_code_is_accepted(dmp) -> None:
    bundle = cr_bio_bundle(PAT1)
    _doc(bundle)["type"] = {"coding": [{"system": TRE_A05, "code": "SYNTH"}]}
    assert dmp.provide(bundle).status_code == 200


def test_n1_pdf_format_code_on_a_structured_cda_is_refused(dmp) -> None:
    r = dmp.provide(_format(cr_bio_bundle(PAT1), "urn:ihe:iti:xds-sd:pdf:2008"))
    assert r.status_code == 422 and "incompatible" in issue_texts(r)


def test_n1_pdf_as_pdf_or_wrapped_in_xds_sd_is_accepted(dmp) -> None:
    bundle = _with_content(_format(cr_bio_bundle(PAT1), "urn:ihe:iti:xds-sd:pdf:2008"), PDF, "application/pdf")
    assert dmp.provide(bundle).status_code == 200
    bundle = _with_content(_format(cr_bio_bundle(PAT1), "urn:ihe:iti:xds-sd:pdf:2008"), XDS_SD, "text/xml")
    assert dmp.provide(bundle).status_code == 200


def test_pdf_content_type_on_bytes_that_are_not_pdf_is_refused(dmp) -> None:
    bundle = _with_content(_format(cr_bio_bundle(PAT1), "urn:ihe:iti:xds-sd:pdf:2008"), b"hello", "application/pdf")
    r = dmp.provide(bundle)
    assert r.status_code == 422 and "signature" in issue_texts(r)


def test_structured_format_code_on_a_pdf_is_refused(dmp) -> None:
    r = dmp.provide(_with_content(cr_bio_bundle(PAT1), PDF, "application/pdf"))  # xd-lab
    assert r.status_code == 422 and "CDA structuré" in issue_texts(r)
    r = dmp.provide(_with_content(cr_bio_bundle(PAT1), XDS_SD, "text/xml"))
    assert r.status_code == 422 and "nonXMLBody" in issue_texts(r)
