"""check_message on sample messages and on each header/patient rule it enforces (FACTS §2.3–2.5)."""

from __future__ import annotations

import pytest
from mss_checks_util import GP, INS, OTHER_INS, SENDER, ids, message, replace_xdm

from mss.checks import check_message
from mss.findings import CATALOGUE, MDN_ERROR_LABELS, Finding, M
from mss.samples_docs import DEFAULT_PATIENT, cda_n1, pdf_bytes


@pytest.mark.parametrize("kind", ["ldl", "ldl-cda", "cr-bio", "cr-img", "text"])
def test_samples_are_clean(kind: str) -> None:
    raw = message(kind, recipients=[GP, f"{INS}@patient.mssante.fr"], disposition_notification_to=SENDER)
    res = check_message(raw, known_ins=lambda ins: ins == INS)
    assert res.findings == []
    assert res.mdn_error is None and res.ok
    assert res.patient_ins == INS and res.patient_count == 1
    if kind != "text":
        assert len(res.documents) == 1
        assert res.documents[0].kind == ("fhir" if kind == "ldl" else "cda")
        assert raw.count(b"XDM/1.0/DDM+") == 1
    assert len(res.cda_headers) == (1 if "cda" in kind or kind.startswith("cr-") else 0)
    assert res.to_json()["ok"] is True


def test_sample_subject_and_headers() -> None:
    raw = message("cr-bio").decode()
    assert "Subject: XDM/1.0/DDM+CR d'examens biologiques ADRTROIS DOMINIQUE 26/02/1997" in raw
    assert "X-MSS-CODECDA: 11502-2" in raw and "X-MSS-INS: O" in raw and "X-MSS-NIL: " in raw
    assert 'filename="IHE_XDM.ZIP"' in raw


def test_nil_required_on_every_message() -> None:
    for kind in ("text", "ldl"):
        res = check_message(message(kind, extra_headers={"X-MSS-NIL": ""}))
        assert M.NIL_MISSING in ids(res)
        f = next(f for f in res.findings if f.id == M.NIL_MISSING)
        assert f.location == "header:X-MSS-NIL" and f.severity == "error" and "X-MSS-NIL" in f.text_fr


def test_mes_value_and_patient_only() -> None:
    res = check_message(message("ldl", extra_headers={"X-MSS-MES": "fin"}))
    assert {M.MES_VALUE, M.MES_NOT_PATIENT} <= ids(res)
    ok = check_message(message("ldl", recipients=[f"{INS}@patient.mssante.fr"], extra_headers={"X-MSS-MES": "FIN"}))
    assert ok.findings == []


def test_subject_format_and_patient() -> None:
    res = check_message(message("ldl", extra_headers={"Subject": "Lettre de liaison"}))
    assert M.SUBJECT_FORMAT in ids(res)
    res = check_message(message("ldl", extra_headers={"Subject": "XDM/1.0/DDM+Lettre DUPONT JEAN 01/01/1950"}))
    assert ids(res) == {M.SUBJECT_PATIENT}
    assert res.mdn_error is None  # a warning does not block integration


def test_xdm_subject_without_zip() -> None:
    raw = message("text", extra_headers={"Subject": "XDM/1.0/DDM+Lettre ADRTROIS DOMINIQUE 26/02/1997"})
    res = check_message(raw)
    assert M.XDM_MISSING in ids(res)
    assert res.mdn_error == (906, MDN_ERROR_LABELS[906])


def test_structured_attachment_without_xdm() -> None:
    from email.message import EmailMessage
    from email.policy import SMTP

    msg = EmailMessage(policy=SMTP)
    msg["From"], msg["To"], msg["Subject"] = SENDER, GP, "XDM/1.0/DDM+CR ADRTROIS DOMINIQUE 26/02/1997"
    msg["Date"], msg["Message-ID"], msg["X-MSS-NIL"] = "Mon, 05 Jan 2026 10:00:00 +0100", "<a@b.fr>", "NIL-1"
    msg.set_content("cf. pj")
    cda = cda_n1(INS, DEFAULT_PATIENT, code="11502-2", display="CR", title="CR", pdf=pdf_bytes("x"))
    msg.add_attachment(cda, maintype="text", subtype="xml", filename="CR.XML")
    res = check_message(msg.as_bytes())
    assert M.XDM_MISSING in ids(res)


def test_codecda_and_ins_headers() -> None:
    assert M.CODECDA_MISSING in ids(check_message(message("cr-bio", extra_headers={"X-MSS-CODECDA": ""})))
    assert M.CODECDA_MISMATCH in ids(check_message(message("cr-bio", extra_headers={"X-MSS-CODECDA": "11490-0"})))
    assert M.INS_HEADER_MISSING in ids(check_message(message("cr-bio", extra_headers={"X-MSS-INS": ""})))
    assert M.INS_HEADER_VALUE in ids(check_message(message("cr-bio", extra_headers={"X-MSS-INS": "OUI"})))
    assert M.INS_HEADER_MISMATCH in ids(check_message(message("cr-bio", extra_headers={"X-MSS-INS": "N"})))
    fhir_only = check_message(message("ldl", extra_headers={"X-MSS-CODECDA": "11490-0", "X-MSS-INS": "O"}))
    assert {M.CODECDA_UNEXPECTED, M.INS_HEADER_UNEXPECTED} <= ids(fhir_only)


def test_ins_header_n_when_traits_missing() -> None:
    """A CDA without traits: X-MSS-INS must be N, and the MDN code is 905 (INS incomplete)."""
    def strip_traits(files: dict[str, bytes]) -> None:
        name = "IHE_XDM/SUBSET01/DOC0001.XML"
        cda = cda_n1(INS, DEFAULT_PATIENT, code="11502-2", display="CR", title="CR", pdf=pdf_bytes("x"),
                     with_traits=False)
        _rehash(files, name, cda)

    raw = replace_xdm(message("cr-bio"), strip_traits)
    res = check_message(raw)
    assert {"CDA-INS-TRAITS", M.INS_HEADER_MISMATCH} <= ids(res)
    assert res.mdn_error == (905, "INS incomplet (traits manquants)")
    raw_n = replace_xdm(message("cr-bio", extra_headers={"X-MSS-INS": "N"}), strip_traits)
    assert M.INS_HEADER_MISMATCH not in ids(check_message(raw_n))


def _rehash(files: dict[str, bytes], name: str, content: bytes) -> None:
    import hashlib

    old = files[name]
    files[name] = content
    meta = files["IHE_XDM/SUBSET01/METADATA.XML"]
    meta = meta.replace(hashlib.sha1(old).hexdigest().encode(), hashlib.sha1(content).hexdigest().encode())
    meta = meta.replace(f"<rim:Value>{len(old)}</rim:Value>".encode(),
                        f"<rim:Value>{len(content)}</rim:Value>".encode())
    files["IHE_XDM/SUBSET01/METADATA.XML"] = meta


def test_cda_without_ins_maps_to_903() -> None:
    def no_ins(files: dict[str, bytes]) -> None:
        name = "IHE_XDM/SUBSET01/DOC0001.XML"
        _rehash(files, name, files[name].replace(b'root="1.2.250.1.213.1.4.8"', b'root="1.2.250.1.999.1.1"'))

    res = check_message(replace_xdm(message("cr-bio"), no_ins))
    assert "CDA-INS-ABSENT" in ids(res)
    assert res.mdn_error == (903, "INS absent du CDA")


def test_unknown_patient_maps_to_902() -> None:
    res = check_message(message("ldl"), known_ins=lambda ins: False)
    assert ids(res) == {M.PATIENT_UNKNOWN}
    assert res.mdn_error == (902, "Identifiant de patient inconnu")


def test_two_patients_in_one_message() -> None:
    """Documents about one patient sent to another patient's mailbox: two patients, refused."""
    res = check_message(message("ldl", recipients=[f"{OTHER_INS}@patient.mssante.fr"]))
    assert {M.PATIENT_MULTIPLE, M.PATIENT_RECIPIENT_MISMATCH} <= ids(res)
    assert res.patient_count == 2 and res.patient_ins is None
    assert res.mdn_error is not None and res.mdn_error[0] == 904


def test_two_patients_inside_the_package() -> None:
    """METADATA.XML names one patient, the document another."""
    def other_patient(files: dict[str, bytes]) -> None:
        files["IHE_XDM/SUBSET01/METADATA.XML"] = files["IHE_XDM/SUBSET01/METADATA.XML"].replace(
            INS.encode(), OTHER_INS.encode())

    res = check_message(replace_xdm(message("ldl"), other_patient))
    assert {M.PATIENT_MULTIPLE, M.PATIENT_INS_MISMATCH} <= ids(res)
    assert res.patient_count == 2
    assert res.mdn_error == (904, "INS ne correspond pas exactement")


def test_threading_headers() -> None:
    res = check_message(message("text", extra_headers={"Message-ID": "pas-un-id", "In-Reply-To": "<a@b.fr>"}))
    assert {M.THREAD_MESSAGE_ID, M.THREAD_REFERENCES} <= ids(res)
    ok = check_message(message("text", extra_headers={"In-Reply-To": "<a@b.fr>", "References": "<z@b.fr> <a@b.fr>"}))
    assert ok.findings == []
    assert M.THREAD_IN_REPLY_TO in ids(check_message(message("text", extra_headers={"In-Reply-To": "a b c"})))


def test_annule_et_remplace() -> None:
    replaced = "1.2.250.1.999.3.0"
    ok = check_message(message("cr-bio", replaces=replaced, extra_headers={"References": "<old@b.fr>"}))
    assert ok.findings == []
    ok_fhir = check_message(message("ldl", replaces=replaced, extra_headers={"In-Reply-To": "<o@b.fr>",
                                                                             "References": "<o@b.fr>"}))
    assert ok_fhir.findings == []
    subject = "[Annule et remplace] XDM/1.0/DDM+CR d'examens biologiques ADRTROIS DOMINIQUE 26/02/1997"
    bad = check_message(message("cr-bio", extra_headers={"Subject": subject}))
    assert {M.REPLACE_NO_THREAD, M.REPLACE_NO_PARENT} <= ids(bad)
    assert bad.mdn_error == (900, "Version incorrecte")


def test_declared_mime_type_against_the_bytes() -> None:
    def pdf_declared(files: dict[str, bytes]) -> None:
        files["IHE_XDM/SUBSET01/METADATA.XML"] = files["IHE_XDM/SUBSET01/METADATA.XML"].replace(
            b'mimeType="text/xml"', b'mimeType="application/pdf"')

    res = check_message(replace_xdm(message("cr-bio"), pdf_declared))
    assert ids(res) == {M.XDM_MIME_TYPE}
    assert len(res.cda_headers) == 1  # the CDA is still read and checked


def test_invalid_fhir_document_is_reported_with_its_location() -> None:
    def break_fhir(files: dict[str, bytes]) -> None:
        name = "IHE_XDM/SUBSET01/DOC0001.JSON"
        _rehash(files, name, files[name].replace(b'"status":"final"', b'"status":"finale"'))

    res = check_message(replace_xdm(message("ldl"), break_fhir))
    bad = [f for f in res.findings if f.id == M.FHIR_INVALID]
    assert bad and bad[0].location.startswith("IHE_XDM/SUBSET01/DOC0001.JSON#Bundle.entry[0]")
    assert res.mdn_error == (906, "Autre")


@pytest.mark.parametrize("raw", [
    b"",
    b"\x00\xff\xfe garbage \x00",
    b"From: a@b.fr\r\nContent-Type: multipart/mixed; boundary=XYZ\r\n\r\n--XYZ\r\nContent-Type: text/plain\r\n\r\nhi",
    b"From a@b.fr\nSubject: no colon line\nContent-Type: multipart/mixed\n\nbody without boundary",
    b"Subject: =?utf-8?q?broken\r\nContent-Transfer-Encoding: base64\r\nContent-Type: application/zip; "
    b"name=IHE_XDM.ZIP\r\nContent-Disposition: attachment; filename=IHE_XDM.ZIP\r\n\r\n!!!notbase64",
])
def test_malformed_mime_gives_findings_not_exceptions(raw: bytes) -> None:
    res = check_message(raw)
    assert res.findings, raw
    assert res.mdn_error is not None
    assert all(isinstance(f, Finding) for f in res.findings)
    res.to_json()


def test_malformed_multipart_is_named() -> None:
    raw = (b"From: a@b.fr\r\nMessage-ID: <x@b.fr>\r\nX-MSS-NIL: N1\r\nDate: Mon, 05 Jan 2026 10:00:00 +0100\r\n"
           b"Content-Type: multipart/mixed; boundary=XYZ\r\n\r\nno boundary here\r\n")
    res = check_message(raw)
    assert M.MIME_MALFORMED in ids(res)


def test_catalogue_texts_fr_en_and_json() -> None:
    for msg_id, entry in CATALOGUE.items():
        assert msg_id.value.startswith("MSS-")
        assert entry.fr and entry.en and entry.fr != entry.en
        assert entry.mdn is None or 900 <= entry.mdn <= 906
    res = check_message(message("ldl", extra_headers={"X-MSS-NIL": ""}), lang="en")
    j = res.to_json()
    assert j["findings"][0]["text"] == j["findings"][0]["text_en"]
    assert j["findings"][0]["id"] == "MSS-NIL-MISSING"


def test_subject_is_decoded_before_it_is_checked() -> None:
    """RFC 2047 encoded words and raw UTF-8 subjects are read as text (the patient check sees them)."""
    import base64

    good = "XDM/1.0/DDM+Lettre de liaison à la sortie ADRTROIS DOMINIQUE 26/02/1997"
    wrong = "XDM/1.0/DDM+Lettre de liaison à la sortie DUPONT JEAN 01/01/1950"
    for subject, expected in ((good, set()), (wrong, {M.SUBJECT_PATIENT})):
        encoded = "=?utf-8?b?" + base64.b64encode(subject.encode()).decode() + "?="
        assert ids(check_message(message("ldl", extra_headers={"Subject": encoded}))) == expected
        raw = message("ldl", extra_headers={"Subject": "PLACEHOLDER"}).replace(b"PLACEHOLDER", subject.encode())
        assert ids(check_message(raw)) == expected


def test_patient_address_case_does_not_make_a_second_patient() -> None:
    res = check_message(message("ldl", recipients=[f"{INS.lower()}@Patient.MSSante.fr"]))
    assert res.findings == [] and res.patient_count == 1 and res.patient_ins == INS


def test_findings_name_the_requirement_they_bear_on() -> None:
    res = check_message(message("cr-bio", extra_headers={"X-MSS-NIL": "", "X-MSS-INS": "N"}))
    by_id = {f["id"]: f for f in res.to_json()["findings"]}
    assert by_id["MSS-NIL-MISSING"]["requirements"] == ["ECO.2.4.3"]
    assert by_id["MSS-INS-HEADER-MISMATCH"]["requirements"] == ["ECO.2.4.2"]


def test_recipient_display_names_are_not_split() -> None:
    # the encoded display name decodes to text that looks like another patient's address
    fake = "=?utf-8?q?J=C3=A9r=C3=B4me_=3C146026322000196=40patient=2Emssante=2Efr=3E?="
    to = f'{fake} <{GP}>, "ADRTROIS, Dominique" <{INS}@patient.mssante.fr>'
    raw = message("ldl").replace(f"To: {GP}".encode(), f"To: {to}".encode())
    res = check_message(raw)
    assert res.findings == [] and res.patient_count == 1
