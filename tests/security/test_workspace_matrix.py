"""A workspace is a security boundary: two vendors (A and B, each with its own key) and an anonymous
caller try every read and write path of A — the sandbox API, the evidence and its bodies, FHIR
(DMP), OIDC (PSC), the patient's view — and only A's own credentials open it (docs/security.md)."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from urllib.parse import parse_qs, urlsplit

from dmp_helpers import PAT1, cr_bio_bundle

from sandbox.api_auth import PROTECTED_PREFIXES

WALLET_AUTH = "/psc/wallet/auth"  # PSC authorizes on its wallet host, not under the issuer (psc/README.md)
CALLBACK = "http://127.0.0.1:8000/callback"


def _oidc(ws: str) -> str:
    """The workspace's own PSC realm: each workspace is a realm with its own issuer."""
    return f"/psc/w/{ws}/realms/esante-wallet/protocol/openid-connect"


def _code_flow(c, ws: str, secret: str) -> dict:  # noqa: ANN001
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    r = c.get(WALLET_AUTH, params={
        "response_type": "code", "client_id": f"sandbox-demo-{ws}", "redirect_uri": CALLBACK,
        "scope": "openid scope_all", "state": "s", "nonce": "n", "code_challenge": challenge,
        "code_challenge_method": "S256", "acr_values": "eidas1", "login_hint": "899700218896"})
    assert r.status_code == 302, r.text
    code = parse_qs(urlsplit(r.headers["location"]).query)["code"][0]
    return {"code": code, "verifier": verifier}


def _token(c, ws: str, secret: str, flow: dict):  # noqa: ANN001, ANN202
    return c.post(_oidc(ws) + "/token", data={"grant_type": "authorization_code", "code": flow["code"],
                                              "redirect_uri": CALLBACK, "code_verifier": flow["verifier"]},
                  auth=(f"sandbox-demo-{ws}", secret))


def test_only_a_workspace_own_credentials_open_it(sandbox, two_tenants) -> None:
    a, b = two_tenants
    own = sandbox.client(key=a.key, follow_redirects=False)
    other = sandbox.client(key=b.key, follow_redirects=False)
    anon = sandbox.client(key=None, follow_redirects=False)
    try:
        # --- state of A that the others will try to reach
        demo = "/sandbox/api/workspaces/{0}/psc/clients/sandbox-demo-{0}"
        secret_a = own.get(demo.format(a.name)).json()["client_secret"]
        secret_b = other.get(demo.format(b.name)).json()["client_secret"]
        tok_a = _token(own, a.name, secret_a, _code_flow(own, a.name, secret_a)).json()["access_token"]
        tok_b = _token(other, b.name, secret_b, _code_flow(other, b.name, secret_b)).json()["access_token"]
        fhir_a = {"Authorization": f"Bearer {tok_a}", "Content-Type": "application/fhir+json"}
        assert own.post("/dmp/fhir", json=cr_bio_bundle(PAT1), headers=fhir_a).status_code == 200
        assert own.post(f"/sandbox/api/workspaces/{a.name}/faults",
                        json={"service": "dmp", "kind": "unavailable", "times": 5}).status_code == 201
        corr = secrets.token_hex(8)
        assert own.get("/sandbox/api/personas", params={"kind": "organisation"},
                       headers={"X-Correlation-ID": corr}).status_code == 200
        mine = own.get("/sandbox/api/exchanges", params={"correlation_id": corr}).json()["exchanges"]
        assert len(mine) == 1 and mine[0]["workspace"] == a.name
        exchange = mine[0]["id"]
        own.delete(f"/sandbox/api/workspaces/{a.name}/faults")

        # --- /sandbox/api: B's key gets 403 (or 404 for an exchange), no key gets 401
        ws_a = f"/sandbox/api/workspaces/{a.name}"
        reads = [ws_a, f"{ws_a}/faults", f"{ws_a}/psc/clients", f"{ws_a}/psc/clients/sandbox-demo-{a.name}",
                 f"{ws_a}/dmp/patients", f"/sandbox/api/exchanges?workspace={a.name}"]
        writes = [("POST", f"{ws_a}/faults", {"service": "dmp", "kind": "unavailable"}),
                  ("POST", f"{ws_a}/psc/clients", {"client_id": "intruder", "grant_types": ["client_credentials"]}),
                  ("POST", f"{ws_a}/dmp/patient-token", {"patient": PAT1}),
                  ("POST", f"{ws_a}/api-key", None), ("POST", f"{ws_a}/reset", None), ("DELETE", ws_a, None),
                  ("POST", "/sandbox/api/workspaces", {"name": "intruder"})]
        for path in reads:
            assert other.get(path).status_code == 403, path
            assert anon.get(path).status_code == 401, path
            assert anon.get(path).headers["www-authenticate"].startswith("Bearer")
            assert own.get(path).status_code == 200, path
        for method, path, body in writes:
            assert other.request(method, path, json=body).status_code == 403, path
            assert anon.request(method, path, json=body).status_code == 401, path
        assert other.get("/sandbox/api/personas", headers={"X-Sandbox-Workspace": a.name}).status_code == 403
        assert [w["name"] for w in other.get("/sandbox/api/workspaces").json()["workspaces"]] == [b.name]
        # a workspace key reads its own evidence only, whatever it asks
        listed = other.get("/sandbox/api/exchanges").json()["exchanges"]
        assert listed and {e["workspace"] for e in listed} == {b.name}
        for path in (f"/sandbox/api/exchanges/{exchange}", f"/sandbox/api/exchanges/{exchange}/response-body"):
            assert other.get(path).status_code == 404, path
            assert anon.get(path).status_code == 401, path
            assert own.get(path).status_code == 200, path
        assert sandbox.client(key="msbw." + a.name + ".forged-key-value").get(ws_a).status_code == 401

        # --- FHIR: B's token never reads or writes A's DMP, nor does a bare header
        fhir_b = {"Authorization": f"Bearer {tok_b}", "Content-Type": "application/fhir+json"}
        query = {"patient": f"Patient/{PAT1}", "status": "current"}
        assert own.get("/dmp/fhir/DocumentReference", params=query, headers=fhir_a).json()["total"] == 1
        assert other.get("/dmp/fhir/DocumentReference", params=query, headers=fhir_b).json()["total"] == 0
        assert other.get("/dmp/fhir/DocumentReference", params=query,
                         headers={**fhir_b, "X-Sandbox-Workspace": a.name}).status_code == 403
        assert anon.get("/dmp/fhir/DocumentReference", params=query,
                        headers={"X-Sandbox-Workspace": a.name}).status_code == 401

        # --- OIDC: A's code cannot be redeemed by B's client; B's client cannot introspect A's token
        flow = _code_flow(own, a.name, secret_a)
        assert _token(other, b.name, secret_b, flow).status_code == 400
        assert other.post(_oidc(b.name) + "/token/introspect", data={"token": tok_a},
                          auth=(f"sandbox-demo-{b.name}", secret_b)).json()["active"] is False
        assert other.post(_oidc(a.name) + "/token", data={"grant_type": "client_credentials"},
                          auth=(f"sandbox-demo-{a.name}", secret_b)).status_code == 401

        # --- the patient's view: a patient token of B does not show A's documents
        pat_b = other.post(f"/sandbox/api/workspaces/{b.name}/dmp/patient-token", json={"patient": PAT1}).json()
        pat_a = own.post(f"/sandbox/api/workspaces/{a.name}/dmp/patient-token", json={"patient": PAT1}).json()
        docs = own.get("/dmp/mes/api/documents", headers={"Authorization": f"Bearer {pat_a['access_token']}"})
        docs_b = other.get("/dmp/mes/api/documents", headers={"Authorization": f"Bearer {pat_b['access_token']}"})
        assert docs.status_code == 200 and docs_b.status_code == 200
        assert len(docs.json()["documents"]) == 1 and docs_b.json()["documents"] == []

        # --- evidence: anonymous attempts are recorded as anonymous, never in A
        anon.get("/dmp/fhir/DocumentReference", params=query,
                 headers={"X-Sandbox-Workspace": a.name, "X-Correlation-ID": "anon-" + corr})
        assert own.get("/sandbox/api/exchanges", params={"correlation_id": "anon-" + corr}).json()["exchanges"] == []
        found = sandbox.exchanges(correlation_id="anon-" + corr)
        assert [e["workspace"] for e in found] == ["anonymous"]
        # A still holds what it had
        assert own.get(ws_a).status_code == 200
    finally:
        for c in (own, other, anon):
            c.close()


def test_conformance_runs_stay_in_their_workspace(sandbox, two_tenants) -> None:
    """A workspace key neither starts, lists, reads, cancels nor downloads another workspace's runs."""
    a, b = two_tenants
    with sandbox.client(key=a.key) as own, sandbox.client(key=b.key) as other:
        assert other.post("/conformance/api/runs", json={"suite": "dpi-ldl", "workspace": a.name}).status_code == 403
        r = own.post("/conformance/api/runs", json={"suite": "dpi-ldl", "workspace": a.name, "step_timeout": 5})
        assert r.status_code == 201, r.text
        run = f"/conformance/api/runs/{r.json()['id']}"
        try:
            for path in (run, run + "/results", run + "/report.json", run + "/report.html"):
                assert other.get(path).status_code == 404, path
            assert other.post(run + "/cancel").status_code == 404
            assert other.post(run + "/rerun", json={"only": ["dpi-ldl.psc"]}).status_code == 404
            assert other.get("/conformance/api/runs", params={"workspace": a.name}).status_code == 403
            assert all(x["workspace"] == b.name for x in other.get("/conformance/api/runs").json()["runs"])
            assert own.get(run).status_code == 200
        finally:
            own.post(run + "/cancel")


# Paths where an anonymous call naming workspace A is still recorded in A, on purpose: the public
# discovery documents and JWKS of A's own PSC realm (the path names A): the runner judges which
# discovery name and host the vendor's software fetched (psc/README.md), which needs them in A.
RECORDED_IN_NAMED_WORKSPACE = ("/psc/w/{ws}/realms/esante-wallet/.well-known/",
                               "/psc/w/{ws}/realms/esante-wallet/protocol/openid-connect/certs")
# INS without a client certificate takes the same keys (ins/http.py): no key is INSi's insi_431 fault
# (HTTP 500, as INSi answers every fault) or a 401, another workspace's key insi_431 or a 403.
INS_KEYED = re.compile(r"^/ins/(insi|fhir/Patient(/\{pid\})?|api/verify)$")
PARAMS = {"rtype": "Practitioner", "resource_type": "Patient", "kind": "patient", "fmt": "html",
          "which": "request-body", "ins": PAT1}


def _operations(sandbox) -> list[tuple[str, str, str]]:  # noqa: ANN001
    """(method, template, path with workspace A's name) of every operation the OpenAPI declares."""
    with sandbox.client() as c:
        spec = c.get("/openapi.json").json()
    out = []
    for template, ops in spec["paths"].items():
        for method in ops:
            if method in ("get", "post", "put", "patch", "delete"):
                out.append((method.upper(), template, template))
    return out


def _fill(template: str, ws: str) -> str:
    path = template.replace("{ws}", ws).replace("{name}", ws)
    for key, value in PARAMS.items():
        path = path.replace("{" + key + "}", value)
    return re.sub(r"\{[^}]+\}", "x1", path)


def test_every_operation_refuses_another_workspace_and_anonymous(sandbox, two_tenants) -> None:
    """Walks the whole OpenAPI (so a new route is covered without editing this test): on the sandbox's
    own APIs (/sandbox/api, /mss/api, /conformance/api) B's key naming A — by path or by
    X-Sandbox-Workspace — gets 403 and no key gets 401, and INS without a certificate refuses both
    (insi_431 fault, 401/403); on every path, an anonymous call naming A is
    recorded in `anonymous`, never in A, and leaves A's state as it was."""
    a, b = two_tenants
    before = _state(sandbox, a.name)
    sent: dict[str, str] = {}
    ins_keyed = 0
    with sandbox.client(key=b.key, follow_redirects=False) as other, \
            sandbox.client(key=None, follow_redirects=False) as anon:
        for n, (method, template, _) in enumerate(_operations(sandbox)):
            path = _fill(template, a.name)
            body = {} if method in ("POST", "PUT", "PATCH") else None
            corr = f"matrix-{secrets.token_hex(4)}-{n}"
            sent[corr] = f"{method} {template}"
            headers = {"X-Sandbox-Workspace": a.name, "X-Correlation-ID": corr}
            r = anon.request(method, path, headers=headers, json=body)
            soap_fault = path == "/ins/insi" and "Fault" in r.text  # INSi answers faults with 500 (ins/README.md)
            assert r.status_code < 500 or soap_fault, (method, path, r.status_code, r.text[:300])
            if template.startswith(PROTECTED_PREFIXES):
                assert r.status_code == 401, (method, path, r.status_code)
                assert other.request(method, path, headers={**headers, "X-Correlation-ID": corr + "-b"},
                                     json=body).status_code == 403, (method, path)
            elif INS_KEYED.match(template) and not (method == "GET" and template == "/ins/insi"):
                ins_keyed += 1
                theirs = other.request(method, path, headers={**headers, "X-Correlation-ID": corr + "-b"},
                                       json=body)
                for answer, status in ((r, 401), (theirs, 403)):
                    if path == "/ins/insi":
                        assert answer.status_code == 500 and 'code="insi_431"' in answer.text, (path, answer.text)
                    else:
                        assert answer.status_code == status, (method, path, answer.status_code, answer.text)
    sandbox.call(sandbox.ctx.recorder.flush)
    allowed = tuple(p.replace("{ws}", a.name) for p in RECORDED_IN_NAMED_WORKSPACE)
    leaked = [(e["correlation_id"], e["operation"], e["summary"].get("path"))
              for e in sandbox.exchanges(workspace=a.name)
              if e["correlation_id"].startswith("matrix-")
              and not e["summary"].get("path", "").startswith(allowed)]
    assert leaked == []
    assert _state(sandbox, a.name) == before
    assert len(sent) > 100  # the walk saw the whole API, not an empty document
    assert ins_keyed == 4  # INSi, Patient search and read, verify


def test_anonymous_annuaire_call_is_not_recorded_in_the_named_workspace(sandbox, two_tenants) -> None:
    a, _ = two_tenants
    corr = "annuaire-" + secrets.token_hex(6)
    with sandbox.client(key=None) as anon:
        anon.get("/annuaire/fhir/Practitioner", headers={"X-Sandbox-Workspace": a.name, "X-Correlation-ID": corr})
    sandbox.call(sandbox.ctx.recorder.flush)
    assert [e["workspace"] for e in sandbox.exchanges(correlation_id=corr)] == ["anonymous"]


def _state(sandbox, ws: str) -> dict:  # noqa: ANN001
    """What A holds that a write could change: workspace record, faults, clients, certificates,
    DMP patients, mailboxes and messages."""
    with sandbox.client() as c:
        base = f"/sandbox/api/workspaces/{ws}"
        got = {path: c.get(path, headers={"X-Sandbox-Workspace": ws}).json()
               for path in (base, f"{base}/faults", f"{base}/psc/clients", f"{base}/ins/certificates",
                            f"{base}/dmp/patients", "/mss/api/mailboxes", "/mss/api/messages")}
    got[base].pop("key_rotated_at", None)
    return got
