"""Fixtures of the PSC tests: a helper bound to the shared sandbox and a fresh workspace."""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from sandbox.testing import RunningSandbox

REALM_PATH = "/psc/realms/esante-wallet"
OIDC = REALM_PATH + "/protocol/openid-connect"
WALLET_AUTH = "/psc/wallet/auth"
CALLBACK = "http://127.0.0.1:8000/callback"
PERSONA = "899700218896"


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


@dataclass
class Psc:
    sb: RunningSandbox
    workspace: str
    http: httpx.Client

    @property
    def issuer(self) -> str:
        """The workspace's own issuer (each workspace is a realm: psc/README.md)."""
        return self.sb.url(f"/psc/w/{self.workspace}/realms/esante-wallet")

    @property
    def client_id(self) -> str:
        return f"sandbox-demo-{self.workspace}"

    @cached_property
    def secret(self) -> str:
        """The demo client's secret: random per workspace, read with the workspace's API access."""
        return self.secret_of(self.workspace, self.client_id)

    def secret_of(self, workspace: str, client_id: str) -> str:
        r = self.http.get(f"/sandbox/api/workspaces/{workspace}/psc/clients/{client_id}")
        r.raise_for_status()
        return r.json()["client_secret"]

    def url(self, name: str) -> str:
        if name == "auth":  # PSC authorizes on its wallet host, not under the issuer (FACTS §4)
            return self.sb.url(WALLET_AUTH)
        return f"{self.issuer}/protocol/openid-connect/{name}"

    def auth_params(self, **over: Any) -> dict[str, Any]:
        verifier = secrets.token_urlsafe(48)
        params = {"response_type": "code", "client_id": self.client_id, "redirect_uri": CALLBACK,
                  "scope": "openid scope_all profile email identity", "state": secrets.token_urlsafe(8),
                  "nonce": secrets.token_urlsafe(8), "code_challenge": s256(verifier),
                  "code_challenge_method": "S256", "acr_values": "eidas1", "login_hint": PERSONA,
                  "_verifier": verifier}
        params.update(over)
        return params

    def authorize(self, **over: Any) -> httpx.Response:
        params = {k: v for k, v in self.auth_params(**over).items() if v is not None and k != "_verifier"}
        return self.http.get(self.url("auth"), params=params)

    def code(self, **over: Any) -> tuple[str, str]:
        """(code, verifier) for the demo client and the test persona."""
        params = self.auth_params(**over)
        r = self.http.get(self.url("auth"), params={k: v for k, v in params.items()
                                                    if v is not None and k != "_verifier"})
        assert r.status_code == 302, r.text
        q = parse_qs(urlsplit(r.headers["location"]).query)
        assert "code" in q, q
        return q["code"][0], params["_verifier"]

    def exchange(self, code: str, verifier: str | None, *, auth: tuple[str, str] | None = None,
                 **extra: str) -> httpx.Response:
        data = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK, **extra}
        if verifier is not None:
            data["code_verifier"] = verifier
        return self.http.post(self.url("token"), data=data, auth=auth or (self.client_id, self.secret))

    def tokens(self, **over: Any) -> dict[str, Any]:
        code, verifier = self.code(**over)
        r = self.exchange(code, verifier)
        assert r.status_code == 200, r.text
        return r.json()

    def userinfo(self, token: str) -> httpx.Response:
        return self.http.get(self.url("userinfo"), headers={"Authorization": f"Bearer {token}"})

    def introspect(self, token: str) -> httpx.Response:
        return self.http.post(self.url("token/introspect"), data={"token": token},
                              auth=(self.client_id, self.secret))

    def add_client(self, **meta: Any) -> dict[str, Any]:
        r = self.http.post(f"/sandbox/api/workspaces/{self.workspace}/psc/clients", json=meta)
        assert r.status_code == 201, r.text
        return r.json()

    def fault(self, kind: str, **spec: Any) -> None:
        r = self.http.post(f"/sandbox/api/workspaces/{self.workspace}/faults",
                           json={"service": "psc", "kind": kind, **spec})
        assert r.status_code == 201, r.text


@pytest.fixture()
def psc(sandbox: RunningSandbox, workspace: str) -> Iterator[Psc]:
    with sandbox.client(follow_redirects=False) as http:
        yield Psc(sandbox, workspace, http)
