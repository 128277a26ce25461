"""INSi client certificates are bound to a workspace (ins/certificates.py; issue #15): a certificate
issued for workspace A queries INSi in A only (identities, scripted faults, evidence), never in B;
a certificate the sandbox did not bind, and a call without one, get INSi's SOAP fault and touch
no workspace. Real HTTPS listener, real client certificates, two workspaces and an anonymous caller.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from sandbox.pki import CertKind, Issued
from sandbox.testing import RunningSandbox


def _issue(sandbox: RunningSandbox, ws: str, key: str | None, out: Path, subject: str = "INSI-AUTO"):
    with sandbox.client(key=key) as c:
        return c.post(f"/sandbox/api/workspaces/{ws}/ins/certificates",
                      json={"subject": subject, "identifier": "0B0193488"})


def _save(answer: dict, out: Path) -> Issued:
    out.mkdir(parents=True, exist_ok=True)
    issued = Issued(out / "cert.pem", out / "key.pem", out / "chain.pem", out / "cert.p12")
    issued.cert_pem.write_text(answer["certificate_pem"])
    issued.key_pem.write_text(answer["private_key_pem"])
    issued.chain_pem.write_text(answer["chain_pem"])
    return issued


def _call(sandbox, kit, cert, workspace=None):
    headers = {"content-type": kit.SOAP12}
    if workspace:
        headers["x-sandbox-workspace"] = workspace
    with sandbox.https_client(cert, key=None) as c:
        return kit.parse_answer(c.post("/ins/insi", content=kit.a1_request().encode(), headers=headers))


def _script_not_found(sandbox, ws):
    with sandbox.client() as c:
        r = c.post(f"/sandbox/api/workspaces/{ws}/faults", json={"service": "ins", "kind": "not_found"})
        assert r.status_code == 201, r.text


def _pending_faults(sandbox, ws) -> int:
    """Scripted faults of ``ws`` not fired yet."""
    with sandbox.client() as c:
        faults = c.get(f"/sandbox/api/workspaces/{ws}/faults").json()["faults"]
    return sum(1 for f in faults if f["fired"] < f["times"])


def _soap_exchanges(sandbox, ws) -> list[dict]:
    sandbox.call(sandbox.ctx.recorder.flush)
    return [e for e in sandbox.exchanges(workspace=ws, service="ins") if e["protocol"] == "soap"]


@pytest.fixture()
def bound(sandbox, two_tenants, tmp_path):
    a, b = two_tenants
    r = _issue(sandbox, a.name, a.key, tmp_path)
    assert r.status_code == 201, r.text
    got = r.json()
    assert got["workspace"] == a.name and "BEGIN PRIVATE KEY" in got["private_key_pem"]
    assert r.headers["location"].endswith(got["fingerprint_sha256"])
    return a, b, _save(got, tmp_path / "a"), got


@pytest.fixture()
def two_tenants(sandbox):
    names = [f"c-{uuid.uuid4().hex[:10]}" for _ in range(2)]
    tenants = [type("Tenant", (), {"name": n, "key": sandbox.create_workspace(n)}) for n in names]
    yield tenants[0], tenants[1]
    with sandbox.client() as c:
        for n in names:
            c.delete(f"/sandbox/api/workspaces/{n}")


def test_certificate_of_a_queries_a_only(sandbox, kit, bound):
    a, b, cert, _ = bound
    _script_not_found(sandbox, a.name)
    _script_not_found(sandbox, b.name)
    assert _call(sandbox, kit, cert).cr == "01"  # A's scripted fault, consumed by A's certificate
    assert _call(sandbox, kit, cert, a.name).cr == "00"  # A's identities
    assert _pending_faults(sandbox, a.name) == 0
    assert _pending_faults(sandbox, b.name) == 1
    actors = {e["actor"] for e in _soap_exchanges(sandbox, a.name)}
    assert actors == {"IDAM=AM-TEST-0001 CN=INSI-AUTO,OU=0B0193488"}
    assert _soap_exchanges(sandbox, b.name) == []


def test_certificate_of_a_does_not_reach_b(sandbox, kit, bound):
    a, b, cert, _ = bound
    _script_not_found(sandbox, b.name)
    ans = _call(sandbox, kit, cert, b.name)
    assert (ans.status, ans.erreur["code"]) == (500, "insi_431")
    assert a.name in ans.erreur["text"] and ans.cr is None
    assert _pending_faults(sandbox, b.name) == 1  # B's fault untouched
    assert _soap_exchanges(sandbox, b.name) == [] and _soap_exchanges(sandbox, a.name) == []


def test_unbound_certificate_is_refused(sandbox, kit, bound, tmp_path):
    a, _, _, _ = bound
    loose = sandbox.ctx.pki.issue(CertKind.ORGANISATION, "INSI-AUTO", tmp_path / "loose", identifier="0B0193488")
    _script_not_found(sandbox, a.name)
    for ws in (None, a.name):
        ans = _call(sandbox, kit, loose, ws)
        assert (ans.status, ans.erreur["code"], ans.fault_subcode) == (500, "insi_431", "soap:siram_50")
    assert _pending_faults(sandbox, a.name) == 1
    assert _soap_exchanges(sandbox, a.name) == []


def test_anonymous_caller_gets_a_fault_and_touches_nothing(sandbox, kit, bound):
    a, _, _, _ = bound
    _script_not_found(sandbox, a.name)
    ans = _call(sandbox, kit, None, a.name)
    assert ans.erreur["code"] == "insi_430"
    assert _pending_faults(sandbox, a.name) == 1
    assert _soap_exchanges(sandbox, a.name) == []


def test_fhir_patient_follows_the_certificate(sandbox, bound):
    a, b, cert, _ = bound
    with sandbox.https_client(cert, key=None) as c:
        mine = c.get("/ins/fhir/Patient", params={"identifier": "297022A02077878"})
        other = c.get("/ins/fhir/Patient", params={"identifier": "297022A02077878"},
                      headers={"x-sandbox-workspace": b.name})
    assert mine.status_code == 200 and mine.json()["total"] == 1
    assert other.status_code == 403 and other.json()["resourceType"] == "OperationOutcome"


def test_issuing_needs_the_workspace_key(sandbox, bound, tmp_path):
    a, b, _, _ = bound
    assert _issue(sandbox, a.name, b.key, tmp_path).status_code == 403
    assert _issue(sandbox, a.name, None, tmp_path).status_code == 401
    assert _issue(sandbox, a.name, a.key, tmp_path, subject="DMP-AUTO").status_code == 422
    assert _issue(sandbox, "no-such-ws", None, tmp_path).status_code == 401
    with sandbox.client(key=b.key) as c:
        assert c.get(f"/sandbox/api/workspaces/{a.name}/ins/certificates").status_code == 403


def test_revoked_or_deleted_binding_is_refused(sandbox, kit, bound):
    a, _, cert, got = bound
    fp = got["fingerprint_sha256"]
    with sandbox.client(key=a.key) as c:
        listed = c.get(f"/sandbox/api/workspaces/{a.name}/ins/certificates").json()["certificates"]
        assert [x["fingerprint_sha256"] for x in listed] == [fp]
        assert "private_key_pem" not in listed[0]
        assert c.post(f"/sandbox/api/workspaces/{a.name}/reset").status_code == 200
    assert _call(sandbox, kit, cert).cr == "00"  # a reset keeps the workspace's credentials
    with sandbox.client(key=a.key) as c:
        assert c.delete(f"/sandbox/api/workspaces/{a.name}/ins/certificates/{fp}").status_code == 204
        assert c.delete(f"/sandbox/api/workspaces/{a.name}/ins/certificates/{fp}").status_code == 404
    assert _call(sandbox, kit, cert).erreur["code"] == "insi_431"


def test_deleting_the_workspace_drops_its_certificates(sandbox, kit, bound):
    a, _, cert, _ = bound
    with sandbox.client() as c:
        assert c.delete(f"/sandbox/api/workspaces/{a.name}").status_code == 204
    assert _call(sandbox, kit, cert).erreur["code"] == "insi_431"


def test_stored_issuance_holds_no_private_key(sandbox, bound):
    a, _, _, _ = bound
    sandbox.call(sandbox.ctx.recorder.flush)
    (ex,) = [e for e in sandbox.exchanges(workspace=a.name) if e["operation"] == "ins.certificate.issue"]
    with sandbox.client() as c:
        stored = c.get(f"/sandbox/api/exchanges/{ex['id']}/response-body").text
    assert "BEGIN CERTIFICATE" in stored and "PRIVATE KEY-----\nMI" not in stored


def test_cli_issues_a_bound_certificate(sandbox, kit, two_tenants, tmp_path):
    a, _ = two_tenants
    out = tmp_path / "cli-cert"
    p = subprocess.run([sys.executable, "-c", "from sandbox.cli import main; main()", "pki", "issue",
                        "--kind", "organisation", "--subject", "INSI-AUTO", "--identifier", "0B0193488",
                        "--out", str(out), "--workspace", a.name, "--url", sandbox.base_url],
                       env={**os.environ, "MES_SANDBOX_OPERATOR_KEY": sandbox.operator_key},
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    assert a.name in p.stdout and (out / "key.pem").stat().st_mode & 0o077 == 0
    issued = Issued(out / "cert.pem", out / "key.pem", out / "chain.pem", out / "cert.p12")
    _script_not_found(sandbox, a.name)
    assert _call(sandbox, kit, issued).cr == "01"


def test_a_recreated_workspace_does_not_revive_the_old_certificates(sandbox, kit, bound):
    """Deleting a workspace revokes its certificates (sandbox/workspace_certificates.py): a new
    workspace of the same name starts with none."""
    a, _, cert, _ = bound
    with sandbox.client() as c:
        assert c.delete(f"/sandbox/api/workspaces/{a.name}").status_code == 204
        assert c.post("/sandbox/api/workspaces", json={"name": a.name}).status_code == 201
        assert c.get(f"/sandbox/api/workspaces/{a.name}/ins/certificates").json()["certificates"] == []
    assert _call(sandbox, kit, cert).erreur["code"] == "insi_431"


def test_a_revoked_insi_certificate_is_refused_by_mssante_too(sandbox, bound):
    """One registry: an INSi certificate also opens its organisation's MSSanté mailboxes in its
    workspace; once revoked it opens nothing, never the default workspace."""
    from mss.auth import AuthRefused, from_certificate
    from sandbox.tls import describe

    a, _, cert, got = bound
    der = describe(_der(cert))
    assert sandbox.call(from_certificate, sandbox.ctx, der).workspace == a.name
    with sandbox.client(key=a.key) as c:
        assert c.delete(f"/sandbox/api/workspaces/{a.name}/ins/certificates/{got['fingerprint_sha256']}"
                        ).status_code == 204
    with pytest.raises(AuthRefused):
        sandbox.call(from_certificate, sandbox.ctx, der)


def _der(cert: Issued) -> bytes:
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    return x509.load_pem_x509_certificate(cert.cert_pem.read_bytes()).public_bytes(Encoding.DER)
