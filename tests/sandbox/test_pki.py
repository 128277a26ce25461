"""Test PKI: TEST CAs, server certificate used by the TLS listener, issued client certificates
carrying FINESS / RPPS, verified and attributed on the HTTPS listener (issue 2)."""

import ssl
import uuid

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from sandbox.pki import CertKind


def _cn(name: x509.Name) -> str:
    return name.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value


def test_ca_is_clearly_test(sandbox):
    root = x509.load_pem_x509_certificate(sandbox.ctx.pki.root_cert.read_bytes())
    assert "TEST" in _cn(root.subject)
    bundle = sandbox.ctx.pki.ca_bundle.read_text()
    assert bundle.count("BEGIN CERTIFICATE") == 3


def test_organisation_and_professional_certificates(sandbox, tmp_path):
    pki = sandbox.ctx.pki
    org = pki.issue(CertKind.ORGANISATION, "INSI-AUTO", tmp_path / "org", identifier="0B0193488",
                    organisation="HOPITAL GENERIQUE FIN VARI", password="secret")
    cert = x509.load_pem_x509_certificate(org.cert_pem.read_bytes())
    assert _cn(cert.subject) == "INSI-AUTO"
    assert cert.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)[0].value == "0B0193488"
    assert _cn(cert.issuer) == "TEST AC IGC-SANTE ELEMENTAIRE ORGANISATIONS"
    key, leaf, extra = pkcs12.load_key_and_certificates(org.p12.read_bytes(), b"secret")
    assert leaf == cert and key is not None and len(extra) == 2
    pro = pki.issue(CertKind.PROFESSIONAL, "899700218896", tmp_path / "pro", given="ROBERT",
                    surname="SPECIALISTE0021889")
    pcert = x509.load_pem_x509_certificate(pro.cert_pem.read_bytes())
    assert _cn(pcert.subject) == "899700218896"
    assert pcert.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)[0].value == "899700218896"
    assert "PERSONNES" in _cn(pcert.issuer)


def test_https_listener_serves_with_test_server_cert_and_reads_client_cert(sandbox, tmp_path):
    with sandbox.https_client() as c:  # no client certificate: still served (optional)
        assert c.get("/sandbox/api/workspaces").status_code == 200
    with pytest.raises(httpx.ConnectError):  # a client that does not trust the test CA refuses it
        httpx.get(sandbox.https_url("/sandbox/api/workspaces"), verify=ssl.create_default_context())
    issued = sandbox.ctx.pki.issue(CertKind.ORGANISATION, "INSI-AUTO", tmp_path, identifier="0B0193488")
    corr = uuid.uuid4().hex
    with sandbox.https_client(issued) as c:
        assert c.get("/sandbox/api/workspaces", headers={"X-Correlation-ID": corr}).status_code == 200
    actor = sandbox.exchanges(correlation_id=corr)[0]["actor"]
    assert "CN=INSI-AUTO" in actor and "OU=0B0193488" in actor


def test_certificate_from_another_ca_is_refused(sandbox, tmp_path):
    from sandbox.pki import TestPKI

    foreign = TestPKI(tmp_path / "foreign")
    foreign.ensure()
    issued = foreign.issue(CertKind.ORGANISATION, "INTRUDER", tmp_path / "intruder")
    ctx = sandbox.ctx.pki.client_context(issued)
    with pytest.raises((httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError)):
        with httpx.Client(verify=ctx) as c:
            c.get(sandbox.https_url("/sandbox/api/workspaces"))
