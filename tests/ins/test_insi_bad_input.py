"""Every bad-input class the INSi endpoint handles answers a precise SOAP Fault (HTTP 500 with
``siram:Erreur``, as the real service), never a crash."""

from __future__ import annotations

import pytest

A1_ACTION = "<wsa:Action>urn:ServiceIdentiteCertifiee:1.0.0:rechercherInsAvecTraitsIdentite</wsa:Action>"


def _fault(ans, code, soap_code="soap:Sender"):
    assert ans.status == 500, ans.text
    assert ans.content_type.startswith("application/soap+xml")
    assert ans.fault_code == soap_code
    assert ans.erreur["code"] == code
    assert ans.erreur["severite"] == "erreur"
    assert ans.erreur["text"]
    return ans


def test_malformed_xml(insi):
    ans = _fault(insi.post("<soap:Envelope xmlns:soap='http://www.w3.org/2003/05/soap-envelope'><soap:Body>"),
                 "insi_400")
    assert ans.fault_subcode == "soap:siram_10"


def test_not_xml_at_all(insi):
    _fault(insi.post(b"\x00\xff garbage"), "insi_400")


def test_billion_laughs_refused(insi):
    bomb = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
            '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
            '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
            '<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Body>&lol3;'
            "</soap:Body></soap:Envelope>")
    _fault(insi.post(bomb), "insi_401")


def test_external_entity_refused(kit, insi):
    xxe = ('<?xml version="1.0"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
           + kit.a1_request().replace("ADRTROIS", "&xxe;", 1))
    ans = _fault(insi.post(xxe), "insi_401")
    assert "root:" not in ans.text


def test_dtd_alone_refused(kit, insi):
    _fault(insi.post('<!DOCTYPE soap:Envelope SYSTEM "http://example.invalid/x.dtd">' + kit.a1_request()),
           "insi_401")


def test_soap11_envelope_gets_version_mismatch(insi):
    body = ('<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/">'
            "<SOAP-ENV:Body><x/></SOAP-ENV:Body></SOAP-ENV:Envelope>")
    ans = insi.post(body, content_type="text/xml; charset=utf-8")
    assert ans.status == 500
    assert ans.content_type.startswith("text/xml")
    assert "<faultcode>SOAP-ENV:VersionMismatch</faultcode>" in ans.text
    assert 'SupportedEnvelope qname="ns1:Envelope" xmlns:ns1="http://www.w3.org/2003/05/soap-envelope"' in ans.text
    assert ans.erreur["code"] == "insi_403"


def test_not_an_envelope(insi):
    _fault(insi.post("<RECSANSVITALE/>"), "insi_402")


def test_missing_body(insi):
    _fault(insi.post('<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"/>'), "insi_402")


def test_wrong_content_type(kit, insi):
    _fault(insi.post(kit.a1_request(), content_type="text/xml; charset=utf-8"), "insi_404")


def test_unknown_must_understand_header(kit, insi):
    body = kit.a1_request().replace(
        "<soap:Header>", '<soap:Header><x:Secret xmlns:x="urn:x" soap:mustUnderstand="true"/>', 1)
    ans = _fault(insi.post(body), "insi_405", "soap:MustUnderstand")
    assert "NotUnderstood" in ans.text


@pytest.mark.parametrize(("start", "end", "code", "subcode"), [
    ("<ctxbam:ContexteBAM", "</ctxbam:ContexteBAM>", "insi_410", "soap:siram_20"),
    ("<ctxlps:ContexteLPS", "</ctxlps:ContexteLPS>", "insi_411", "soap:siram_20"),
    ("<ctxlps:IDAM", "</ctxlps:IDAM>", "insi_411", "soap:siram_20"),
    ("<wsa:Action>", "</wsa:Action>", "insi_412", "wsa:MessageAddressingHeaderRequired"),
    ("<wsa:MessageID>", "</wsa:MessageID>", "insi_413", "wsa:MessageAddressingHeaderRequired"),
])
def test_missing_headers(kit, insi, start, end, code, subcode):
    body = kit.a1_request()
    i = body.index(start)
    j = body.index(end, i) + len(end)
    ans = _fault(insi.post(body[:i] + body[j:]), code)
    assert ans.fault_subcode == subcode


def test_unknown_action(kit, insi):
    body = kit.a1_request().replace(A1_ACTION, "<wsa:Action>urn:ServiceIdentiteCertifiee:1.0.0:"
                                               "supprimerIns</wsa:Action>")
    ans = _fault(insi.post(body), "insi_414")
    assert ans.fault_subcode == "wsa:ActionNotSupported"
    assert ans.erreur["messageID"].startswith("uuid:")


def test_body_does_not_match_action(kit, insi):
    body = kit.a1_request().replace("rechercherInsAvecTraitsIdentite", "rechercherInsAvecCarteVitale")
    _fault(insi.post(body), "insi_415")


@pytest.mark.parametrize(("traits", "problem"), [
    (("adrtrois", "DOMINIQUE", "F", "1997-02-26"), "INS_NAME_NOT_NORMALISED"),
    (("ADRTROIS", "Dominique", "F", "1997-02-26"), "INS_NAME_NOT_NORMALISED"),
    (("ÉCETINSI", "PIERRE", "M", "2009-07-14"), "INS_NAME_NOT_NORMALISED"),
    (("ADRTROIS", "DOMINIQUÉ", "F", "1997-02-26"), "INS_NAME_NOT_NORMALISED"),
    (("ADR3TROIS", "DOMINIQUE", "F", "1997-02-26"), "INS_NAME_CHARACTERS"),
    (("ADRTROIS", "DOMINIQUE2", "F", "1997-02-26"), "INS_NAME_CHARACTERS"),
    (("ADRTROIS", "DOMINIQUE", "F", "1997-02-30"), "INS_DATE_IMPOSSIBLE"),
    (("ADRTROIS", "DOMINIQUE", "F", "1997-13-01"), "INS_DATE_IMPOSSIBLE"),
    (("ADRTROIS", "DOMINIQUE", "F", "26/02/1997"), "INS_DATE_FORMAT"),
    (("ADRTROIS", "DOMINIQUE", "F", "2999-01-01"), "INS_DATE_FUTURE"),
    (("ADRTROIS", "DOMINIQUE", "X", "1997-02-26"), "INS_SEX_INVALID"),
    (("ADRTROIS", "DOMINIQUE", "f", "1997-02-26"), "INS_SEX_INVALID"),
    (("ADRTROIS", "DOMINIQUE", "F", "1997-02-26", "2A02"), "INS_COG_FORMAT"),
    (("ADRTROIS", "DOMINIQUE", "F", "1997-02-26", "2C020"), "INS_COG_FORMAT"),
    (("", "DOMINIQUE", "F", "1997-02-26"), "INS_TRAIT_MISSING"),
])
def test_invalid_traits(insi, traits, problem):
    ans = _fault(insi.traits(*traits), "insi_420")
    assert ans.fault_subcode == "soap:siram_30"
    assert problem in ans.problems


def test_no_first_name(kit, insi):
    body = kit.a1_request().replace("<ins:Prenom>DOMINIQUE</ins:Prenom>", "")
    ans = _fault(insi.post(body), "insi_420")
    assert ans.problems == ["INS_TRAIT_MISSING"]


def test_several_problems_reported_together(insi):
    ans = _fault(insi.traits("adr3", "dominique", "Z", "1997-02-31"), "insi_420")
    assert set(ans.problems) >= {"INS_NAME_NOT_NORMALISED", "INS_SEX_INVALID", "INS_DATE_IMPOSSIBLE"}


def test_vitale_nir_with_wrong_key(kit, insi):
    ans = _fault(insi.post(kit.vitale_request("297022A02077877", "1997-02-26")), "insi_421")
    assert ans.problems[0] == "INS_NIR_KEY_MISMATCH"
    assert "78" in ans.erreur["text"]


def test_vitale_bad_rank_and_short_matricule(kit, insi):
    assert "INS_RANK_INVALID" in _fault(insi.post(kit.vitale_request("297022A020778", "1997-02-26", "X")),
                                        "insi_420").problems
    assert "INS_NIR_LENGTH" in _fault(insi.post(kit.vitale_request("29702", "1997-02-26")), "insi_421").problems


def test_faults_echo_message_id(kit, insi):
    body = kit.a1_request().replace("<ins:Sexe>F</ins:Sexe>", "<ins:Sexe>Q</ins:Sexe>")
    mid = body.split("<wsa:MessageID>")[1].split("</wsa:MessageID>")[0]
    assert _fault(insi.post(body), "insi_420").erreur["messageID"] == mid


def test_get_without_wsdl_is_not_a_500(client):
    r = client.get("/ins/insi")
    assert r.status_code == 405
    assert r.headers["allow"] == "POST"
