"""Two ``mes-sandbox serve`` nodes on one PostgreSQL behave as one sandbox (issue 19; docs/scale.md).

Each test first makes a node remember something (a session not revoked, no fault armed, the
current signing keys), changes it through the *other* node, and asserts that the very next
request to the first node honours the change: ordering, never a sleep (:mod:`sandbox.changes`).
One pair of nodes for the whole module (each node is a real process: seconds to start).
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import secrets
import ssl
import sys
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs, urlsplit

import asyncpg
import httpx
import pytest
from joserfc import jws
from joserfc.jwk import KeySet
from sqlalchemy.engine import make_url

from conformance import signing
from conformance.store import RunState
from conformance.verify import verify_report
from sandbox import samples
from sandbox.testing import TEST_DB_ENV, RunningNode, free_port, fresh_database, running_node


def _dmp_helpers() -> ModuleType:
    """tests/dmp/dmp_helpers.py, loaded by path: putting tests/dmp on sys.path would make its
    conftest shadow the others' ``from conftest import ...`` for the rest of the session."""
    path = Path(__file__).resolve().parents[1] / "dmp" / "dmp_helpers.py"
    spec = importlib.util.spec_from_file_location("scale_dmp_helpers", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


_helpers = _dmp_helpers()
PAT1, cr_bio_bundle, s256 = _helpers.PAT1, _helpers.cr_bio_bundle, _helpers.s256

pytestmark = pytest.mark.skipif(not os.environ.get(TEST_DB_ENV, "").startswith("postgresql"),
                                reason="nodes share a database server: PostgreSQL only "
                                       f"(set {TEST_DB_ENV}); SQLite is one machine's file")

CALLBACK = "http://127.0.0.1:8000/callback"
PERSONA = "899700218896"
#: connections each node may open (setting database_connections), checked against the server's count
BUDGET = 6


@dataclass
class Pair:
    a: RunningNode
    b: RunningNode
    workspace: str
    database_url: str

    @property
    def client_id(self) -> str:
        return f"sandbox-demo-{self.workspace}"

    def oidc(self, name: str) -> str:
        return f"/psc/w/{self.workspace}/realms/esante-wallet/protocol/openid-connect/{name}"

    def secret(self, node: RunningNode) -> str:
        with node.client() as c:
            r = c.get(f"/sandbox/api/workspaces/{self.workspace}/psc/clients/{self.client_id}")
            assert r.status_code == 200, r.text
            return str(r.json()["client_secret"])

    def tokens(self, node: RunningNode) -> dict[str, Any]:
        """Authorization code + PKCE through ``node`` (``login_hint`` skips the picker)."""
        verifier = secrets.token_urlsafe(48)
        with node.client(key=None) as c:
            r = c.get("/psc/wallet/auth", params={
                "response_type": "code", "client_id": self.client_id, "redirect_uri": CALLBACK,
                "scope": "openid scope_all", "state": "s", "nonce": "n", "code_challenge": s256(verifier),
                "code_challenge_method": "S256", "acr_values": "eidas1", "login_hint": PERSONA})
            assert r.status_code == 302, r.text
            code = parse_qs(urlsplit(r.headers["location"]).query)["code"][0]
            r = c.post(self.oidc("token"), data={"grant_type": "authorization_code", "code": code,
                                                 "redirect_uri": CALLBACK, "code_verifier": verifier},
                       auth=(self.client_id, self.secret(node)))
        assert r.status_code == 200, r.text
        return dict(r.json())

    def refresh(self, node: RunningNode, token: str) -> httpx.Response:
        with node.client(key=None) as c:
            return c.post(self.oidc("token"), data={"grant_type": "refresh_token", "refresh_token": token},
                          auth=(self.client_id, self.secret(node)))

    def userinfo(self, node: RunningNode, access_token: str) -> int:
        with node.client(key=None) as c:
            return c.get(self.oidc("userinfo"), headers={"Authorization": f"Bearer {access_token}"}).status_code

    def fault(self, node: RunningNode, **spec: Any) -> None:
        with node.client() as c:
            r = c.post(f"/sandbox/api/workspaces/{self.workspace}/faults", json=spec)
            assert r.status_code == 201, r.text


def _node_settings(tmp: str) -> dict[str, str]:
    """HTTPS on (the certificate case), and the deployment's one PKI secret file: the nodes share
    the database's test PKI, which that secret opens (docs/scale.md)."""
    return {"database_connections": str(BUDGET), "https_enabled": "true", "https_port": str(free_port()),
            "pki_secret_file": str(Path(tmp) / "pki-secret")}


@pytest.fixture(scope="module")
def pair() -> Iterator[Pair]:
    key = "msk_op_" + secrets.token_urlsafe(32)
    lb = f"http://127.0.0.1:{free_port()}"  # the address clients would use (a load balancer's)
    with tempfile.TemporaryDirectory(prefix="mes-sandbox-pair-") as tmp, fresh_database(Path(tmp)) as url, \
            running_node(url, public_base_url=lb, operator_key=key, **_node_settings(tmp)) as a, \
            running_node(url, public_base_url=lb, operator_key=key, **_node_settings(tmp)) as b:
        workspace = f"t-{uuid.uuid4().hex[:10]}"
        with a.client() as c:
            assert c.post("/sandbox/api/workspaces", json={"name": workspace}).status_code == 201
        yield Pair(a, b, workspace, url)


def test_a_workspace_created_on_a_is_served_by_b_at_once(pair: Pair) -> None:
    with pair.b.client() as c:
        assert c.get(f"/sandbox/api/workspaces/{pair.workspace}").status_code == 200


def test_token_from_a_is_used_and_refreshed_on_b_and_a_replay_on_a_revokes_on_b(pair: Pair) -> None:
    first = pair.tokens(pair.a)
    assert pair.userinfo(pair.b, first["access_token"]) == 200
    r = pair.refresh(pair.b, first["refresh_token"])
    assert r.status_code == 200, r.text
    second = r.json()
    assert pair.userinfo(pair.a, second["access_token"]) == 200
    assert pair.userinfo(pair.b, second["access_token"]) == 200  # B now holds the session as live
    replay = pair.refresh(pair.a, first["refresh_token"])  # used already: RFC 9700 §4.14.2 revokes
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    assert pair.userinfo(pair.b, second["access_token"]) == 401


def test_logout_on_b_revokes_on_a(pair: Pair) -> None:
    tokens = pair.tokens(pair.a)
    assert pair.userinfo(pair.a, tokens["access_token"]) == 200  # A holds the session as live
    with pair.b.client(key=None) as c:
        r = c.get(pair.oidc("logout"), params={"id_token_hint": tokens["id_token"]})
    assert r.status_code in (200, 302), r.text
    assert pair.userinfo(pair.a, tokens["access_token"]) == 401


def test_document_in_through_a_and_out_through_b_byte_exact(pair: Pair) -> None:
    data = b'<?xml version="1.0" encoding="UTF-8"?><ClinicalDocument xmlns="urn:hl7-org:v3">' \
           + secrets.token_hex(16).encode() + b"\xc3\xa9</ClinicalDocument>"
    token = pair.tokens(pair.a)["access_token"]
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/fhir+json"}
    with pair.a.client(key=None) as c:
        r = c.post("/dmp/fhir", json=cr_bio_bundle(PAT1, data=data), headers=headers)
    assert r.status_code == 200, r.text
    binary = next(e["response"]["location"] for e in r.json()["entry"]
                  if e["response"].get("location", "").startswith("Binary/"))
    with pair.b.client(key=None) as c:
        got = c.get(f"/dmp/fhir/{binary}", headers={"Authorization": f"Bearer {token}"})
    assert got.status_code == 200 and got.content == data


def test_a_fault_scripted_through_b_fires_on_a_at_once_and_exactly_once(pair: Pair) -> None:
    token = pair.tokens(pair.a)["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    with pair.a.client(key=None) as c:
        def find() -> int:
            return c.get("/dmp/fhir/DocumentReference", params={"patient": PAT1, "status": "current"},
                         headers=headers).status_code
        assert find() == 200  # A remembers: no DMP fault armed in this workspace
        pair.fault(pair.b, service="dmp", kind="unavailable", times=1)
        assert find() == 503
        assert find() == 200
    with pair.b.client() as c:
        faults = c.get(f"/sandbox/api/workspaces/{pair.workspace}/faults").json()["faults"]
    assert [(f["fired"], f["exhausted"]) for f in faults if f["kind"] == "unavailable"] == [(1, True)]


def test_keys_rotated_on_b_are_in_a_s_jwks_before_any_token_signed_with_them(pair: Pair) -> None:
    with pair.a.client(key=None) as c:
        before = {k["kid"] for k in c.get(pair.oidc("certs")).json()["keys"]}  # A has its keys loaded
    pair.fault(pair.b, service="psc", kind="jwks_rotated", times=1)
    tokens = pair.tokens(pair.b)  # B rotates, then signs with the new key
    kid = jws.extract_compact(tokens["id_token"].encode()).protected["kid"]
    assert kid not in before
    with pair.a.client(key=None) as c:
        jwks = c.get(pair.oidc("certs")).json()
    assert kid in {k["kid"] for k in jwks["keys"]}
    jws.deserialize_compact(tokens["id_token"], KeySet.import_key_set(jwks))  # verifies, or raises
    assert pair.userinfo(pair.a, tokens["access_token"]) == 200


def test_a_report_signed_on_a_verifies_with_b_s_signing_key(pair: Pair) -> None:
    """One report-signing key for the deployment (conformance/signing.py): whichever node signed a
    report, the key any node serves verifies it."""
    with pair.a.client() as c:
        r = c.post("/conformance/api/runs", json={"suite": "dpi-ldl", "workspace": pair.workspace})
        assert r.status_code == 201, r.text
        run = r.json()["id"]
        r = c.post(f"/conformance/api/runs/{run}/cancel")  # A's process runs it: A signs its report
        assert r.status_code == 200, r.text
        status = r.json()
        for _ in range(5):  # the long poll answers when the cancelled run has sealed its report
            if status["state"] in RunState.FINISHED:
                break
            status = c.get(f"/conformance/api/runs/{run}/wait",
                           params={"after": status["version"], "timeout": 30}).json()
        assert status["state"] == RunState.CANCELLED, status
        signed = c.get(f"/conformance/api/runs/{run}/report.json")
        assert signed.status_code == 200, signed.text
        a_key = c.get("/conformance/api/signing-key").json()
    with pair.b.client() as c:
        b_key = c.get("/conformance/api/signing-key").json()
    assert b_key == a_key
    result = verify_report(signed.content, signing.import_public(b_key))
    assert result.ok, result.problems


def test_each_node_stays_within_its_connection_budget_with_one_listener(pair: Pair) -> None:
    url = make_url(pair.database_url)

    async def count() -> tuple[int, int]:
        conn = await asyncpg.connect(host=url.host, port=url.port or 5432, user=url.username,
                                     database=url.database)
        try:
            total = await conn.fetchval("SELECT count(*) FROM pg_stat_activity WHERE datname = $1 "
                                        "AND pid <> pg_backend_pid()", url.database)
            # the LISTEN connection also serves the reads of the change record (sandbox/db_changes.py)
            listening = await conn.fetchval("SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND "
                                            "(query LIKE 'LISTEN %' OR query LIKE '%FROM sandbox_changes')",
                                            url.database)
            return total, listening
        finally:
            await conn.close()

    total, listening = asyncio.run(count())
    assert total <= 2 * BUDGET
    assert listening == 2


def test_b_carries_on_while_a_is_killed_and_a_rejoins(pair: Pair) -> None:
    pair.a.kill()
    tokens = pair.tokens(pair.b)
    assert pair.userinfo(pair.b, tokens["access_token"]) == 200
    pair.a.restart()
    assert pair.userinfo(pair.a, tokens["access_token"]) == 200
    again = pair.tokens(pair.a)
    assert pair.userinfo(pair.b, again["access_token"]) == 200


def test_a_certificate_issued_through_a_is_accepted_by_b_which_presents_the_same_ca(pair: Pair,
                                                                                   tmp_path: Path) -> None:
    with pair.a.client() as c:
        r = c.post(f"/sandbox/api/workspaces/{pair.workspace}/ins/certificates",
                   json={"subject": "INSI-AUTO", "identifier": "0B0193488"})
    assert r.status_code == 201, r.text
    (tmp_path / "cert.pem").write_text(r.json()["certificate_pem"])
    (tmp_path / "key.pem").write_text(r.json()["private_key_pem"])
    # B's server certificate verifies against the trust anchor A exported: one CA for the deployment
    ca_bundle = pair.a.data_dir / "pki" / "ca-bundle.pem"
    b_https = f"https://127.0.0.1:{pair.b.env['MES_SANDBOX_HTTPS_PORT']}"
    with httpx.Client(base_url=b_https, verify=ssl_context(ca_bundle, tmp_path), timeout=30) as c:
        answer = c.post("/ins/insi", content=samples.read("insi-rechercher-traits.xml"),
                        headers={"content-type": "application/soap+xml; charset=utf-8"})
    assert answer.status_code == 200, answer.text
    assert b"<CodeCR>00</CodeCR>" in answer.content, answer.text  # found, in the workspace A bound it to


def ssl_context(ca_bundle: Path, folder: Path) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(ca_bundle))
    ctx.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    return ctx
