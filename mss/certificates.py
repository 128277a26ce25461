"""Client certificates issued for one workspace (FACTS §2.2: a CPS/CPx or a software certificate
opens its holder's mailboxes; DESIGN "Shared sandbox": the credentials pick the workspace).

A test-PKI certificate names a professional (RPPS/IDNPS in ``CN``) or an organisation (FINESS in
``OU``), not a workspace. ``POST /mss/api/certificates`` issues one for a persona of the caller's
workspace and records its SHA-256 fingerprint with that workspace: over SMTP and IMAP the
certificate then logs in to that workspace only, and only as that persona. A certificate no
workspace was recorded for (``mes-sandbox pki issue``) logs in to the default workspace, as
before. A certificate whose workspace was deleted is refused; a workspace reset keeps the binding.
The bindings live in the sandbox's one registry (:mod:`sandbox.workspace_certificates`, usage
``mss``); an INSi certificate bound there opens the organisation its ``OU`` names.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography import x509

from sandbox.workspace_certificates import Usage

if TYPE_CHECKING:
    from sandbox.context import SandboxContext

KINDS = ("professional", "organisation")


@dataclass(frozen=True)
class Binding:
    workspace: str
    kind: str
    persona_id: str
    #: revoked (or its workspace deleted): refused, never the default workspace
    revoked: bool = False


class UnknownPersona(LookupError):
    pass


async def binding_of(ctx: SandboxContext, der: bytes) -> Binding | None:
    """The workspace and persona a certificate was issued for, or None (not issued for one).

    An organisation certificate the sandbox bound to a workspace for INSi is bound here too, to the
    organisation its ``OU`` names: it must not fall back to the default workspace."""
    bound = await ctx.certificates.binding_of(der)
    if bound is None:
        return None
    return Binding(bound.workspace, bound.kind, bound.persona_id, bound.revoked)


async def issue(ctx: SandboxContext, workspace: str, kind: str, persona_id: str) -> dict[str, Any]:
    """Issue a client certificate for a persona of ``workspace`` and bind it to the workspace;
    the PEM texts (certificate, private key, chain) are returned once and kept nowhere."""
    persona = await ctx.personas.get(workspace, kind, persona_id)
    if persona is None:
        raise UnknownPersona(f"{kind}/{persona_id}")
    from sandbox.pki import CertKind  # cryptography's builders only when a certificate is issued

    ctx.pki.ensure()
    with tempfile.TemporaryDirectory(prefix="mss-cert-") as tmp:
        if kind == "professional":
            issued = ctx.pki.issue(CertKind.PROFESSIONAL, persona["id"], Path(tmp),
                                   given=str(persona.get("given_name") or ""),
                                   surname=str(persona.get("family_name") or ""))
        else:
            issued = ctx.pki.issue(CertKind.ORGANISATION, str(persona.get("name") or persona["id"])[:60],
                                   Path(tmp), identifier=persona["id"])
        cert_pem, key_pem, chain_pem = (p.read_text() for p in (issued.cert_pem, issued.key_pem, issued.chain_pem))
    cert = x509.load_pem_x509_certificate(cert_pem.encode())
    bound = await ctx.certificates.bind(cert, workspace, Usage.MSS, kind, persona["id"])
    return {"workspace": workspace, "kind": kind, "persona_id": bound.persona_id, "subject": bound.subject,
            "fingerprint": f"sha256:{bound.fingerprint}", "not_after": bound.not_after.isoformat(),
            "certificate": cert_pem, "private_key": key_pem, "chain": chain_pem}


async def listed(ctx: SandboxContext, workspace: str) -> list[dict[str, Any]]:
    return [{"kind": b.kind, "persona_id": b.persona_id, "subject": b.subject, "fingerprint": f"sha256:{b.fingerprint}",
             "issued_at": b.issued_at.isoformat(), "not_after": b.not_after.isoformat()}
            for b in await ctx.certificates.list(workspace, Usage.MSS)]
