"""Client certificates issued for one workspace (FACTS §2.2: a CPS/CPx or a software certificate
opens its holder's mailboxes; DESIGN "Shared sandbox": the credentials pick the workspace).

A test-PKI certificate names a professional (RPPS/IDNPS in ``CN``) or an organisation (FINESS in
``OU``), not a workspace. ``POST /mss/api/certificates`` issues one for a persona of the caller's
workspace and records its SHA-256 fingerprint with that workspace: over SMTP and IMAP the
certificate then logs in to that workspace only, and only as that persona. A certificate no
workspace was recorded for (``mes-sandbox pki issue``) logs in to the default workspace, as
before. A certificate whose workspace was deleted is refused; a workspace reset keeps the binding.
"""

from __future__ import annotations

import hashlib
import importlib
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from sqlalchemy import select

from mss.models import CertificateRow
from sandbox.db import as_utc

if TYPE_CHECKING:
    from sandbox.context import SandboxContext

KINDS = ("professional", "organisation")


@dataclass(frozen=True)
class Binding:
    workspace: str
    kind: str
    persona_id: str


class UnknownPersona(LookupError):
    pass


def fingerprint(der: bytes) -> str:
    return hashlib.sha256(der).hexdigest()


async def binding_of(ctx: SandboxContext, der: bytes) -> Binding | None:
    """The workspace and persona a certificate was issued for, or None (not issued for one).

    An organisation certificate the sandbox bound to a workspace for INSi (``ins``'s registry, when
    that package has one) is bound here too, to the organisation its ``OU`` names: it must not
    fall back to the default workspace."""
    async with ctx.db.session() as s:
        row = await s.get(CertificateRow, fingerprint(der))
    if row is not None:
        return Binding(row.bound_workspace, row.kind, row.persona_id)
    ins_registry = _ins_registry()
    if ins_registry is not None:
        workspace = await ins_registry(ctx.db).workspace_of(der)
        if workspace is not None:
            ou = x509.load_der_x509_certificate(der).subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)
            return Binding(workspace, "organisation", str(ou[0].value) if ou else "")
    return None


def _ins_registry() -> Any:
    """``ins.CertificateRegistry`` where the ins package exports one, else None."""
    return getattr(importlib.import_module("ins"), "CertificateRegistry", None)


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
    der = cert.public_bytes(Encoding.DER)
    row = CertificateRow(fingerprint=fingerprint(der), bound_workspace=workspace, kind=kind, persona_id=persona["id"],
                         subject=cert.subject.rfc4514_string()[:400], issued_at=datetime.now(UTC),
                         not_after=cert.not_valid_after_utc)
    async with ctx.db.session() as s:
        s.add(row)
    return {"workspace": workspace, "kind": kind, "persona_id": persona["id"], "subject": row.subject,
            "fingerprint": f"sha256:{row.fingerprint}", "not_after": as_utc(row.not_after).isoformat(),
            "certificate": cert_pem, "private_key": key_pem, "chain": chain_pem}


async def listed(ctx: SandboxContext, workspace: str) -> list[dict[str, Any]]:
    async with ctx.db.session() as s:
        rows = (await s.scalars(select(CertificateRow).where(CertificateRow.bound_workspace == workspace)
                                .order_by(CertificateRow.issued_at))).all()
    return [{"kind": r.kind, "persona_id": r.persona_id, "subject": r.subject, "fingerprint": f"sha256:{r.fingerprint}",
             "issued_at": as_utc(r.issued_at).isoformat(), "not_after": as_utc(r.not_after).isoformat()}
            for r in rows]

