"""A DPI's Pro Santé Connect login, the way a browser and a confidential RP do it (FACTS §4, §8
item 7–8): discovery from ``/.well-known/wallet-openid-configuration`` (then *only* the endpoints
it names), authorization code flow with PKCE S256, ``state``, ``nonce``, ``acr_values=eidas1``;
the persona picker is an HTML form the "browser" posts back; the ID token is verified against the
JWKS (signature, ``iss``, ``aud``, ``nonce``, ``acr``); refresh with the latest refresh token;
RP-initiated logout with ``id_token_hint``.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import httpx
from joserfc import jwt
from joserfc.jwk import KeySet

WALLET_DISCOVERY = "/.well-known/wallet-openid-configuration"
STANDARD_DISCOVERY = "/.well-known/openid-configuration"


class LoginError(RuntimeError):
    """The login could not complete (refused, malformed answer)."""


class _FormParser(HTMLParser):
    """Collects the picker form's action and fields, as a browser would submit them."""

    def __init__(self) -> None:
        super().__init__()
        self.action = ""
        self.hidden: dict[str, str] = {}
        self.radios: dict[str, list[str]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and not self.action:
            self.action = a.get("action", "")
        elif tag == "input" and a.get("type") == "hidden":
            self.hidden[a.get("name", "")] = a.get("value", "")
        elif tag == "input" and a.get("type") == "radio":
            self.radios.setdefault(a.get("name", ""), []).append(a.get("value", ""))


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


@dataclass
class Session:
    """Tokens of one login."""

    access_token: str
    refresh_token: str
    id_token: str
    claims: dict[str, Any] = field(default_factory=dict)


@dataclass
class PscClient:
    http: httpx.Client
    issuer: str
    client_id: str
    client_secret: str
    redirect_uri: str
    post_logout_redirect_uri: str
    meta: dict[str, Any] = field(default_factory=dict)

    def discover(self, *, standard_name: bool = False) -> dict[str, Any]:
        """Read the discovery document (PSC's wallet name; the standard name is a vendor mistake
        the fault catalogue copies: tried first, the wallet name only after a refusal). ``issuer``
        may list candidates separated by spaces (a workspace's own realm, then the shared one):
        the first that answers is the provider's issuer."""
        status = 0
        for issuer in self.issuer.split():
            if standard_name:
                r = self.http.get(issuer + STANDARD_DISCOVERY)
                if r.status_code == 200:
                    self.meta = r.json()
                    return self.meta
            r = self.http.get(issuer + WALLET_DISCOVERY)
            if r.status_code == 200:
                self.meta = r.json()
                return self.meta
            status = r.status_code
        raise LoginError(f"discovery: HTTP {status}")

    def login(self, professional: str, *, pkce: bool = True, acr: bool = True, verify: bool = True,
              scope: str = "openid scope_all") -> Session:
        """Authorization code flow through the picker page; returns verified tokens."""
        if not self.meta:
            self.discover()
        verifier = secrets.token_urlsafe(48)
        state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
        params = {"response_type": "code", "client_id": self.client_id, "redirect_uri": self.redirect_uri,
                  "scope": scope, "state": state, "nonce": nonce}
        if pkce:
            params.update(code_challenge=s256(verifier), code_challenge_method="S256")
        if acr:
            params["acr_values"] = "eidas1"
        authorize = self.meta["authorization_endpoint"]
        r = self.http.get(authorize + ("&" if "?" in authorize else "?") + urlencode(params))
        if r.status_code in (302, 303):
            location = r.headers["location"]
        elif r.status_code == 200 and "<form" in r.text:
            form = _FormParser()
            form.feed(r.text)
            fields = dict(form.hidden)
            personas = form.radios.get("persona", [])
            if professional not in personas:
                raise LoginError(f"professional {professional} is not offered by the login page")
            fields.update(persona=professional, auth_mode=(form.radios.get("auth_mode") or ["CARD"])[0],
                          decision="accept")
            r = self.http.post(urljoin(str(r.url), form.action), data=fields)
            if r.status_code not in (302, 303):
                raise LoginError(f"login page answered HTTP {r.status_code}")
            location = r.headers["location"]
        else:
            raise LoginError(f"authorization endpoint answered HTTP {r.status_code}")
        answer = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
        if "error" in answer:
            raise LoginError(f"authorization refused: {answer['error']}")
        if answer.get("state") != state:
            raise LoginError("state mismatch")
        form_data = {"grant_type": "authorization_code", "code": answer["code"], "redirect_uri": self.redirect_uri}
        if pkce:
            form_data["code_verifier"] = verifier
        tokens = self._token(form_data)
        claims = self.verify_id_token(tokens["id_token"], nonce) if verify else {}
        return Session(tokens["access_token"], tokens.get("refresh_token", ""), tokens["id_token"], claims)

    def _token(self, form: dict[str, str]) -> dict[str, Any]:
        r = self.http.post(self.meta["token_endpoint"], data=form, auth=(self.client_id, self.client_secret))
        if r.status_code != 200:
            raise LoginError(f"token endpoint answered HTTP {r.status_code}: {r.text[:200]}")
        return r.json()

    def verify_id_token(self, id_token: str, nonce: str) -> dict[str, Any]:
        keys = KeySet.import_key_set(self.http.get(self.meta["jwks_uri"]).json())
        tok = jwt.decode(id_token, keys, algorithms=["RS256", "ES256"])
        jwt.JWTClaimsRegistry(iss={"essential": True, "value": self.meta["issuer"]},
                              aud={"essential": True, "value": self.client_id},
                              nonce={"essential": True, "value": nonce},
                              acr={"essential": True, "value": "eidas1"}).validate(tok.claims)
        return dict(tok.claims)

    def refresh(self, session: Session) -> Session:
        tokens = self._token({"grant_type": "refresh_token", "refresh_token": session.refresh_token})
        return Session(tokens["access_token"], tokens.get("refresh_token", session.refresh_token),
                       tokens.get("id_token", session.id_token), session.claims)

    def logout(self, session: Session) -> None:
        r = self.http.get(self.meta["end_session_endpoint"], params={
            "id_token_hint": session.id_token, "post_logout_redirect_uri": self.post_logout_redirect_uri,
            "state": secrets.token_urlsafe(8)})
        if r.status_code not in (200, 302, 303):
            raise LoginError(f"logout answered HTTP {r.status_code}")
