"""Get a Pro Santé Connect access token the way a vendor's software does, for the command line
(``mes-sandbox psc token``, ``mes-sandbox dmp provide``): read the issuer's discovery document
(``.well-known/wallet-openid-configuration``, the name PSC publishes), authorize with PKCE S256 and
``login_hint=<RPPS/IDNPS>`` (the persona picker is skipped), exchange the code at the token
endpoint with the workspace's seeded demo client. Every endpoint comes from the discovery
document, none is built here, so a provider that moves its authorize endpoint to another host
keeps working."""

from __future__ import annotations

import base64
import hashlib
import secrets
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sandbox import cli_http
from sandbox.cli_messages import CliMsg, say

DISCOVERY = "/.well-known/wallet-openid-configuration"
CALLBACK = "http://127.0.0.1:8000/callback"  # registered on every seeded demo client


def issuer_path(workspace: str) -> str:
    """The PSC realm of ``workspace`` (each workspace is its own realm; ``default`` keeps PSC's path)."""
    return "/psc/realms/esante-wallet" if workspace == "default" else f"/psc/w/{workspace}/realms/esante-wallet"


def demo_client_id(workspace: str) -> str:
    """The seeded demo client of ``workspace`` (``sandbox-demo`` in the default workspace)."""
    return "sandbox-demo" if workspace == "default" else f"sandbox-demo-{workspace}"


def token(c: cli_http.Client, persona: str, *, workspace: str = "default", client_id: str = "",
          client_secret: str = "", scope: str = "openid scope_all", acr: str = "eidas1") -> dict[str, Any]:
    """The token response (``access_token``, ``id_token``...) for professional ``persona``. Without
    ``client_secret``, the client's secret is read from the sandbox API (operator key): the seeded
    demo clients have a random secret per workspace."""
    client_id = client_id or demo_client_id(workspace)
    if not client_secret:
        client_secret = cli_http.check(
            c.get(f"/sandbox/api/workspaces/{workspace}/psc/clients/{client_id}")).json()["client_secret"]
    meta = cli_http.check(c.get(issuer_path(workspace) + DISCOVERY)).json()
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    r = c.get(meta["authorization_endpoint"], params={
        "response_type": "code", "client_id": client_id, "redirect_uri": CALLBACK, "scope": scope,
        "state": secrets.token_urlsafe(12), "nonce": secrets.token_urlsafe(12), "code_challenge": challenge,
        "code_challenge_method": "S256", "acr_values": acr, "login_hint": persona})
    code = parse_qs(urlsplit(r.headers.get("location", "")).query).get("code", [""])[0] if r.is_redirect else ""
    if not code:
        where = r.headers.get("location") or cli_http.explain(r)
        cli_http.fail(say(CliMsg.NO_TOKEN, detail=f"{r.status_code} {where}"))
    r = cli_http.check(c.post(meta["token_endpoint"], auth=(client_id, client_secret), data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK, "code_verifier": verifier}))
    body: dict[str, Any] = r.json()
    if not body.get("access_token"):
        cli_http.fail(say(CliMsg.NO_TOKEN, detail=r.text[:300]))
    return body
