"""Mutual TLS for INSi on the HTTPS listener (FACTS §1.2): an IGC-Santé organisation certificate
``INSI-AUTO``/``INSI-MANU`` from the test PKI is required; plain HTTP only from loopback."""

from __future__ import annotations

import httpx
import pytest

from ins.insi_errors import InsiFault
from ins.insi_transport import Caller, check_caller
from sandbox.pki import ORG_CA_CN, CertKind, Issued, TestPKI


@pytest.fixture(scope="module")
def certs(sandbox, tmp_path_factory):
    pki = sandbox.ctx.pki
    base = tmp_path_factory.mktemp("insi-certs")
    foreign = TestPKI(base / "foreign-pki")
    foreign.ensure()
    return {
        "auto": pki.issue(CertKind.ORGANISATION, "INSI-AUTO", base / "auto", identifier="0B0193488"),
        "manu": pki.issue(CertKind.ORGANISATION, "INSI-MANU", base / "manu", identifier="0B0193488"),
        "other_cn": pki.issue(CertKind.ORGANISATION, "DMP-AUTO", base / "other", identifier="0B0193488"),
        "cps": pki.issue(CertKind.PROFESSIONAL, "899700218896", base / "cps"),
        "foreign": foreign.issue(CertKind.ORGANISATION, "INSI-AUTO", base / "foreign", identifier="0B0193488"),
    }


def _post(sandbox, kit, workspace, cert=None):
    with sandbox.https_client(cert) as c:
        r = c.post("/ins/insi", content=kit.a1_request().encode(),
                   headers={"content-type": kit.SOAP12, "x-sandbox-workspace": workspace})
    return kit.parse_answer(r)


def _bound(sandbox, workspace, subject, out):
    """A certificate the sandbox issued for ``workspace`` (ins/certificates.py)."""
    with sandbox.client() as c:
        r = c.post(f"/sandbox/api/workspaces/{workspace}/ins/certificates",
                   json={"subject": subject, "identifier": "0B0193488"})
    assert r.status_code == 201, r.text
    out.mkdir()
    issued = Issued(out / "cert.pem", out / "key.pem", out / "chain.pem", out / "cert.p12")
    for path, field in ((issued.cert_pem, "certificate_pem"), (issued.key_pem, "private_key_pem"),
                        (issued.chain_pem, "chain_pem")):
        path.write_text(r.json()[field])
    return issued


@pytest.mark.parametrize("subject", ["INSI-AUTO", "INSI-MANU"])
def test_organisation_certificate_accepted(sandbox, kit, workspace, subject, tmp_path):
    ans = _post(sandbox, kit, workspace, _bound(sandbox, workspace, subject, tmp_path / "c"))
    assert (ans.status, ans.cr, ans.number, ans.key) == (200, "00", "297022A020778", "78")


def test_certificate_not_bound_to_a_workspace_is_refused(sandbox, kit, workspace, certs):
    ans = _post(sandbox, kit, workspace, certs["auto"])
    assert ans.status == 500 and ans.erreur["code"] == "insi_431" and "inconnu" in ans.erreur["text"]


def test_actor_is_idam_and_certificate_subject(sandbox, kit, workspace, tmp_path):
    _post(sandbox, kit, workspace, _bound(sandbox, workspace, "INSI-AUTO", tmp_path / "c"))
    (ex,) = [e for e in sandbox.exchanges(workspace=workspace, service="ins") if e["protocol"] == "soap"]
    assert ex["actor"] == "IDAM=AM-TEST-0001 CN=INSI-AUTO,OU=0B0193488"


def test_no_client_certificate_is_a_fault(sandbox, kit, workspace):
    ans = _post(sandbox, kit, workspace)
    assert ans.status == 500 and ans.erreur["code"] == "insi_430" and ans.fault_subcode == "soap:siram_50"


@pytest.mark.parametrize("which", ["other_cn", "cps"])
def test_wrong_kind_of_certificate_is_refused(sandbox, kit, workspace, certs, which):
    ans = _post(sandbox, kit, workspace, certs[which])
    assert ans.status == 500 and ans.erreur["code"] == "insi_431"


def test_certificate_from_another_ca_fails_the_tls_handshake(sandbox, kit, workspace, certs):
    with pytest.raises(httpx.TransportError):
        _post(sandbox, kit, workspace, certs["foreign"])


def test_plain_http_on_loopback_is_accepted(kit, insi):
    assert insi.post(kit.a1_request()).cr == "00"


def test_plain_http_from_another_host_is_refused():
    with pytest.raises(InsiFault) as err:
        check_caller(Caller(tls=False, client_host="192.0.2.10"), plain_http_loopback_only=True)
    assert err.value.code == "insi_430"
    assert check_caller(Caller(tls=False, client_host="192.0.2.10"), plain_http_loopback_only=False) == ""
    assert check_caller(Caller(tls=False, client_host="::1"), plain_http_loopback_only=True) == ""


def test_policy_without_a_listener():
    ok = Caller(tls=True, client_host="10.0.0.1", cert_subject={"CN": "INSI-MANU"}, cert_issuer_cn=ORG_CA_CN)
    assert check_caller(ok, plain_http_loopback_only=True) == "CN=INSI-MANU"
