"""Who is sending or reading: credentials verified on the SMTP and IMAP listeners, mapped to a
persona, its mailboxes and its workspace (FACTS §2.2: CPS/CPx or software certificate over mutual
TLS, or a Pro Santé Connect access token).

- A client certificate from the test PKI: a professional certificate names the RPPS/IDNPS in its
  ``CN`` (the professional's PER mailbox), an organisation certificate the FINESS in its ``OU``
  (the organisation's ORG and APP mailboxes). A certificate issued for a workspace
  (:mod:`mss.certificates`, ``POST /mss/api/certificates``) logs in to that workspace only, as the
  persona it was issued for; any other test-PKI certificate to the default workspace (a token
  logs in to the workspace it was issued in).
- A PSC access token over SASL ``XOAUTH2`` or ``OAUTHBEARER`` (RFC 7628; which one MSSanté
  operators take is not settled, FACTS §2.2), verified by PSC's own verifier: the professional it
  names, in the token's workspace.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mss import certificates
from sandbox.tls import ClientCertificate, describe

if TYPE_CHECKING:
    from sandbox.context import SandboxContext


@dataclass(frozen=True)
class Principal:
    """An authenticated mail user."""

    workspace: str
    method: str  # certificate | token
    persona_kind: str  # professional | organisation
    persona_id: str
    label: str
    mailboxes: tuple[str, ...]
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def actor(self) -> str:
        return f"{self.persona_kind}:{self.persona_id}"


class AuthRefused(Exception):
    """Credentials were presented but do not open a mailbox; ``text`` is the reply text."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


def peer_certificate(ssl_object: Any) -> ClientCertificate | None:
    der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
    return describe(der) if der else None


async def from_certificate(ctx: SandboxContext, cert: ClientCertificate) -> Principal:
    """The persona a certificate opens: the one it was issued for in its workspace
    (:mod:`mss.certificates`), else the one its subject names in the default workspace."""
    bound = await certificates.binding_of(ctx, cert.der)
    cn, ou = cert.subject.get("CN", ""), cert.subject.get("OU", "")
    pro = None
    if bound is not None:
        if bound.revoked or await ctx.workspaces.get(bound.workspace) is None:
            raise AuthRefused(f"certificat révoqué, ou émis pour l'espace de travail {bound.workspace[:64]!r}, "
                              "supprimé / client certificate revoked, or of a deleted workspace")
        workspace = bound.workspace
        if bound.kind == "professional":  # the persona it was issued for, whatever its subject says
            pro = await ctx.personas.get(workspace, "professional", bound.persona_id)
            ou = ""
        else:
            ou = bound.persona_id
    else:
        workspace = ctx.settings.default_workspace
        for candidate in (cn, "8" + cn):
            pro = await ctx.personas.get(workspace, "professional", candidate) if candidate else None
            if pro is not None:
                break
    if pro is not None:
        return Principal(workspace, "certificate", "professional", pro["id"],
                         f"{pro.get('given_name', '')} {pro.get('family_name', '')}".strip(),
                         (pro["mailbox"],), {"subject": cert.display, "issuer": cert.issuer_cn})
    org = await ctx.personas.get(workspace, "organisation", ou) if ou else None
    if org is not None:
        return Principal(workspace, "certificate", "organisation", org["id"], org.get("name", ""),
                         tuple(org.get("mailboxes", ())), {"subject": cert.display, "issuer": cert.issuer_cn})
    raise AuthRefused("certificat client valide mais sans titulaire de BAL connu "
                      f"(CN={cn[:64]}, OU={ou[:64]}) / client certificate maps to no mailbox holder")


async def from_token(ctx: SandboxContext, token: str) -> Principal:
    from psc.verify import TokenError, verify_access_token  # PSC's verifier for other services

    try:
        tok = await verify_access_token(ctx, token)
    except TokenError as exc:
        raise AuthRefused(f"jeton Pro Santé Connect refusé ({exc.reason}) / PSC token refused: "
                          f"{exc.description[:120]}") from None
    pro = tok.professional
    if pro is None or not pro.get("mailbox"):
        raise AuthRefused("jeton sans professionnel (client_credentials) / token names no professional")
    return Principal(tok.workspace, "token", "professional", pro["id"],
                     f"{pro.get('given_name', '')} {pro.get('family_name', '')}".strip(), (pro["mailbox"],),
                     {"client_id": tok.client_id, "sub": tok.subject})


def token_from_xoauth2(blob: bytes) -> tuple[str, str]:
    """``user=<addr>^Aauth=Bearer <token>^A^A`` → (user, token); ValueError if malformed."""
    return _kv_token(blob, b"\x01")


def token_from_oauthbearer(blob: bytes) -> tuple[str, str]:
    """RFC 7628 §3.1: ``n,a=<user>,^Aauth=Bearer <token>^A^A`` → (user, token)."""
    head, sep, rest = blob.partition(b"\x01")
    if not sep or not head.startswith((b"n,", b"y,", b"p=")):
        raise ValueError("not an OAUTHBEARER initial response (GS2 header missing)")
    user = ""
    for part in head.split(b","):
        if part.startswith(b"a="):
            user = part[2:].decode("utf-8", "replace")
    _, token = _kv_token(rest, b"\x01")
    return user, token


def _kv_token(blob: bytes, sep: bytes) -> tuple[str, str]:
    user, token = "", ""
    for part in blob.split(sep):
        if part.startswith(b"user="):
            user = part[5:].decode("utf-8", "replace")
        elif part.lower().startswith(b"auth="):
            scheme, _, value = part[5:].decode("ascii", "replace").partition(" ")
            if scheme.lower() != "bearer" or not value.strip():
                raise ValueError("auth= must be 'Bearer <token>'")
            token = value.strip()
    if not token:
        raise ValueError("no auth=Bearer token in the SASL response")
    return user, token


def b64decode(text: str) -> bytes:
    try:
        return base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("not base64") from None


def redact(secret: str, salt: str) -> str:
    """What evidence keeps of a credential: a salted hash, to tell tokens apart without keeping any."""
    return "sha256:" + hashlib.sha256((salt + secret).encode()).hexdigest()[:16]
