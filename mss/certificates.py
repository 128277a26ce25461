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

from typing import TYPE_CHECKING, Any

from sandbox.workspace_certificates import CertificateBinding, Usage

if TYPE_CHECKING:
    from sandbox.context import SandboxContext

KINDS = ("professional", "organisation")


class UnknownPersona(LookupError):
    pass


async def binding_of(ctx: SandboxContext, der: bytes) -> CertificateBinding | None:
    """The workspace and persona a certificate was issued for (revoked ones marked), or None (not
    issued for one). Whatever its usage: an organisation certificate the sandbox bound to a
    workspace for INSi opens the organisation its ``OU`` names there, never the default workspace."""
    return await ctx.certificates.binding_of(der)


async def issue(ctx: SandboxContext, workspace: str, kind: str, persona_id: str) -> dict[str, Any]:
    """Issue a client certificate for a persona of ``workspace`` and bind it to the workspace;
    the PEM texts (certificate, private key, chain) are returned once and kept nowhere."""
    persona = await ctx.personas.get(workspace, kind, persona_id)
    if persona is None:
        raise UnknownPersona(f"{kind}/{persona_id}")
    from sandbox.pki import CertKind  # cryptography's builders only when a certificate is issued

    ctx.pki.ensure()
    if kind == "professional":
        bound, pem = await ctx.certificates.issue(
            ctx.pki, CertKind.PROFESSIONAL, persona["id"], workspace, Usage.MSS, kind, persona["id"],
            given=str(persona.get("given_name") or ""), surname=str(persona.get("family_name") or ""))
    else:
        bound, pem = await ctx.certificates.issue(
            ctx.pki, CertKind.ORGANISATION, str(persona.get("name") or persona["id"])[:60], workspace, Usage.MSS,
            kind, persona["id"], identifier=persona["id"])
    return {"workspace": workspace, "kind": kind, "persona_id": bound.persona_id, "subject": bound.subject,
            "fingerprint": f"sha256:{bound.fingerprint}", "not_after": bound.not_after.isoformat(),
            "certificate": pem.certificate, "private_key": pem.private_key, "chain": pem.chain}


async def listed(ctx: SandboxContext, workspace: str) -> list[dict[str, Any]]:
    return [{"kind": b.kind, "persona_id": b.persona_id, "subject": b.subject, "fingerprint": f"sha256:{b.fingerprint}",
             "issued_at": b.issued_at.isoformat(), "not_after": b.not_after.isoformat()}
            for b in await ctx.certificates.list(workspace, Usage.MSS)]
