"""INS without a client certificate takes a key (issue #15, docs/security.md "Credentials"): plain-HTTP
INSi, ``/ins/fhir`` and ``/ins/api/verify`` carry ``Authorization: Bearer <key>``; a workspace key
opens its own workspace only, the operator key the one ``X-Sandbox-Workspace`` names; no valid key is
INSi's ``insi_431`` fault, a FHIR 401 or a problem 401, recorded in ``anonymous`` only; ``serve
--open`` keeps the header alone. Real sockets, two workspaces and an anonymous caller.
"""

from __future__ import annotations

import secrets

import httpx
import pytest

from sandbox.testing import RunningSandbox, running_sandbox

ADRTROIS = {"matricule": "297022A02077878", "birth_name": "ADRTROIS", "first_names": ["DOMINIQUE"],
            "sex": "F", "birth_date": "1997-02-26", "birth_place": "2A020"}
FORGED = "msbw.{ws}." + "x" * 43




def _corr() -> str:
    return "inskey-" + secrets.token_hex(6)


def _insi(c: httpx.Client, kit, corr: str, workspace: str | None = None):  # noqa: ANN001, ANN202
    headers = {"content-type": kit.SOAP12, "x-correlation-id": corr}
    if workspace is not None:
        headers["x-sandbox-workspace"] = workspace
    return kit.parse_answer(c.post("/ins/insi", content=kit.a1_request().encode(), headers=headers))


def _fhir(c: httpx.Client, corr: str, workspace: str | None = None) -> httpx.Response:
    headers = {"x-correlation-id": corr}
    if workspace is not None:
        headers["x-sandbox-workspace"] = workspace
    return c.get("/ins/fhir/Patient", params={"identifier": ADRTROIS["matricule"]}, headers=headers)


def _verify(c: httpx.Client, corr: str, workspace: str | None = None) -> httpx.Response:
    headers = {"x-correlation-id": corr}
    if workspace is not None:
        headers["x-sandbox-workspace"] = workspace
    return c.post("/ins/api/verify", json=ADRTROIS, headers=headers)


def _workspaces_of(sandbox: RunningSandbox, corr: str) -> list[str]:
    sandbox.call(sandbox.ctx.recorder.flush)
    return [e["workspace"] for e in sandbox.exchanges(correlation_id=corr)]


def _script_not_found(sandbox: RunningSandbox, ws: str) -> None:
    with sandbox.client() as c:
        r = c.post(f"/sandbox/api/workspaces/{ws}/faults", json={"service": "ins", "kind": "not_found"})
        assert r.status_code == 201, r.text


def _pending_faults(sandbox: RunningSandbox, ws: str) -> int:
    with sandbox.client() as c:
        faults = c.get(f"/sandbox/api/workspaces/{ws}/faults").json()["faults"]
    return sum(1 for f in faults if f["fired"] < f["times"])


@pytest.mark.parametrize("key", [None, "forged", "wrong-scheme"])
def test_insi_without_a_valid_key_is_insi_431_recorded_as_anonymous(sandbox, kit, two_tenants, key):
    a, _ = two_tenants
    _script_not_found(sandbox, a.name)
    corr = _corr()
    headers = {"forged": {"authorization": "Bearer " + FORGED.format(ws=a.name)},
               "wrong-scheme": {"authorization": f"Basic {a.key}"}}.get(key or "", {})
    with sandbox.client(key=None, headers=headers) as anon:
        ans = _insi(anon, kit, corr, a.name)
    assert (ans.status, ans.fault_code, ans.fault_subcode) == (500, "soap:Sender", "soap:siram_50")
    assert ans.erreur["code"] == "insi_431" and ans.cr is None
    text = ans.erreur["text"]
    assert "Authorization: Bearer" in text and "mes-sandbox operator-key show" in text
    assert " / " in text and ("clé" in text and "key" in text)  # both languages
    assert _workspaces_of(sandbox, corr) == ["anonymous"]
    assert _pending_faults(sandbox, a.name) == 1  # A's scripted fault was not consumed


@pytest.mark.parametrize("key", [None, "forged"])
def test_fhir_without_a_valid_key_is_a_401_operation_outcome(sandbox, two_tenants, key):
    a, _ = two_tenants
    corr = _corr()
    headers = {"authorization": "Bearer " + FORGED.format(ws=a.name)} if key else {}
    with sandbox.client(key=None, headers=headers) as anon:
        r = _fhir(anon, corr, a.name)
        read = anon.get("/ins/fhir/Patient/whatever", headers={"x-sandbox-workspace": a.name,
                                                               "x-correlation-id": corr})
    for answer in (r, read):
        assert answer.status_code == 401, answer.text
        assert answer.headers["content-type"].startswith("application/fhir+json")
        assert answer.headers["www-authenticate"].startswith('Bearer realm="mes-sandbox"')
        body = answer.json()
        assert body["resourceType"] == "OperationOutcome"
        assert body["issue"][0]["code"] == "login" and "Authorization: Bearer" in body["issue"][0]["diagnostics"]
    if key:
        assert 'error="invalid_token"' in r.headers["www-authenticate"]
    assert _workspaces_of(sandbox, corr) == ["anonymous", "anonymous"]


def test_verify_without_a_key_is_a_401_problem(sandbox, two_tenants):
    a, _ = two_tenants
    corr = _corr()
    with sandbox.client(key=None) as anon:
        r = _verify(anon, corr, a.name)
        empty = anon.post("/ins/api/verify", json={}, headers={"x-correlation-id": corr})
    assert r.status_code == 401 and r.headers["content-type"].startswith("application/problem+json")
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert r.json()["type"].endswith("api-key-required")
    assert empty.status_code == 401  # the key is checked before the body
    assert _workspaces_of(sandbox, corr) == ["anonymous", "anonymous"]


def test_a_workspace_key_opens_its_own_workspace_only(sandbox, kit, two_tenants):
    a, b = two_tenants
    _script_not_found(sandbox, b.name)
    corr = _corr()
    with sandbox.client(key=a.key) as c:
        ans = _insi(c, kit, corr, b.name)
        fhir = _fhir(c, corr, b.name)
        verify = _verify(c, corr, b.name)
    assert ans.erreur["code"] == "insi_431" and a.name in ans.erreur["text"] and b.name in ans.erreur["text"]
    assert fhir.status_code == 403 and fhir.json()["issue"][0]["code"] == "security"
    assert verify.status_code == 403 and verify.json()["type"].endswith("other-workspace")
    assert _pending_faults(sandbox, b.name) == 1
    assert _workspaces_of(sandbox, corr) == [a.name] * 3  # the attempt is A's evidence, never B's

    _script_not_found(sandbox, a.name)
    corr = _corr()
    with sandbox.client(key=a.key) as c:
        named = _insi(c, kit, corr, a.name)
        unnamed = _insi(c, kit, corr)  # no header: the key's own workspace
        fhir = _fhir(c, corr)
        verify = _verify(c, corr)
    assert named.cr == "01"  # A's scripted not_found fired in A
    assert unnamed.cr == "00" and unnamed.number == "297022A020778"
    assert fhir.status_code == 200 and fhir.json()["total"] == 1
    assert verify.status_code == 200, verify.text
    assert _workspaces_of(sandbox, corr) == [a.name] * 4


def test_the_operator_key_may_name_any_workspace(sandbox, kit, two_tenants):
    a, b = two_tenants
    _script_not_found(sandbox, b.name)
    corr = _corr()
    with sandbox.client() as op:
        assert _insi(op, kit, corr, b.name).cr == "01"  # B's fault, in B
        assert _insi(op, kit, corr, a.name).cr == "00"
        assert _fhir(op, corr, b.name).status_code == 200
        unknown = _insi(op, kit, corr, "no-such-" + a.name)
    assert unknown.erreur["code"] == "insi_490"
    assert sorted(_workspaces_of(sandbox, corr)) == sorted([a.name, b.name, b.name, "anonymous"])
    corr = _corr()
    with sandbox.client() as op:
        assert _fhir(op, corr).status_code == 200
    assert _workspaces_of(sandbox, corr) == [sandbox.settings.default_workspace]


def test_a_rotated_workspace_key_is_refused(sandbox, kit, two_tenants):
    a, _ = two_tenants
    with sandbox.client(key=a.key) as c:
        assert c.post(f"/sandbox/api/workspaces/{a.name}/api-key").status_code == 200
    corr = _corr()
    with sandbox.client(key=a.key) as c:
        assert _insi(c, kit, corr).erreur["code"] == "insi_431"
        assert _fhir(c, corr).status_code == 401
    assert _workspaces_of(sandbox, corr) == ["anonymous", "anonymous"]


def test_https_without_a_client_certificate(sandbox, kit, two_tenants):
    """On the HTTPS port without a certificate INSi still wants mutual TLS (``insi_430``, as the
    real ``*-tlsm`` endpoint); FHIR and verify take the key as on plain HTTP."""
    a, _ = two_tenants
    corr = _corr()
    with sandbox.https_client(None, key=a.key) as c:
        assert _insi(c, kit, corr).erreur["code"] == "insi_430"
        assert _fhir(c, corr).status_code == 200
    with sandbox.https_client(None, key=None) as anon:
        assert _fhir(anon, corr).status_code == 401


def test_serve_open_keeps_the_header_alone(kit):
    """``serve --open`` (single-user laptop): no key, ``X-Sandbox-Workspace`` picks the workspace and
    the call is that workspace's evidence, as before keys existed."""
    with running_sandbox(open_api=True) as sb, sb.client(key=None) as c:
        assert c.post("/sandbox/api/workspaces", json={"name": "laptop"}).status_code == 201
        corr = _corr()
        assert _insi(c, kit, corr, "laptop").cr == "00"
        assert _fhir(c, corr, "laptop").status_code == 200
        assert _verify(c, corr, "laptop").status_code == 200
        assert _workspaces_of(sb, corr) == ["laptop"] * 3
