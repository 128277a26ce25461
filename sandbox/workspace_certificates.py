"""The client certificates the sandbox issued for a workspace (DESIGN "Shared sandbox: who may do
what"; FACTS §1.2 mutual-TLS mode for INSi, §2.2 for MSSanté).

A test-PKI certificate names a professional (RPPS/IDNPS in ``CN``) or an organisation (FINESS in
``OU``), never a workspace. When the sandbox issues one *for* a workspace — INSi's
``POST /sandbox/api/workspaces/{ws}/ins/certificates``, MSSanté's ``POST /mss/api/certificates`` — it
records the certificate's SHA-256 fingerprint here with that workspace, the service it was issued
for (``usage``) and the persona it stands for. Each service then decides what a binding lets in
(``ins.certificates``, ``mss.certificates``); this module only answers "whose is this certificate".

A reset keeps a workspace's certificates (credentials, like its API key). Deleting the workspace
or revoking one certificate marks it revoked rather than forgetting it: a revoked certificate
stays refused everywhere, where a forgotten one would look like a certificate no workspace was
bound to (which MSSanté lets into the default workspace). One row per certificate, one table
(revision ``0005_workspace_certificates``; the services' old tables were folded into it).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select, update

from sandbox.db import Database, as_utc
from sandbox.models import WorkspaceCertificateRow


class Usage(StrEnum):
    """The service a certificate was issued for."""

    INSI = "insi"
    MSS = "mss"


def fingerprint(der: bytes) -> str:
    """SHA-256 of the certificate's DER encoding, lower-case hex (what ``openssl x509 -fingerprint
    -sha256`` prints, without colons)."""
    return hashlib.sha256(der).hexdigest()


@dataclass(frozen=True)
class CertificateBinding:
    """One certificate the sandbox issued for a workspace."""

    fingerprint: str
    workspace: str
    usage: Usage
    kind: str  # "organisation" | "professional"
    persona_id: str
    subject: str
    serial: str
    issued_at: datetime
    not_after: datetime
    revoked: bool = False


@dataclass(frozen=True)
class IssuedPem:
    """A freshly issued certificate's PEM texts (the private key is shown once, not stored)."""

    certificate: str
    private_key: str
    chain: str


def _domain(row: WorkspaceCertificateRow) -> CertificateBinding:
    return CertificateBinding(row.fingerprint, row.bound_workspace, Usage(row.usage), row.kind, row.persona_id,
                              row.subject, row.serial, as_utc(row.issued_at), as_utc(row.not_after),
                              row.revoked_at is not None)


class WorkspaceCertificates:
    """The registry (one per app, on the database)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def bind(self, cert: Any, workspace: str, usage: Usage, kind: str, persona_id: str) -> CertificateBinding:
        """Record ``cert`` (a ``cryptography`` x509 certificate) as issued for ``workspace``."""
        from cryptography.hazmat.primitives.serialization import Encoding

        row = WorkspaceCertificateRow(
            fingerprint=fingerprint(cert.public_bytes(Encoding.DER)), bound_workspace=workspace,
            usage=usage.value, kind=kind, persona_id=persona_id[:64],
            subject=cert.subject.rfc4514_string()[:400], serial=format(cert.serial_number, "x")[:64],
            issued_at=datetime.now(UTC), not_after=cert.not_valid_after_utc, revoked_at=None)
        bound = _domain(row)  # read before the commit expires the row's attributes
        async with self.db.session() as s:
            s.add(row)
        return bound

    async def issue(self, pki: Any, cert_kind: Any, subject: str, workspace: str, usage: Usage, kind: str,
                    persona_id: str, **names: str) -> tuple[CertificateBinding, IssuedPem]:
        """Issue a certificate from the test PKI (``sandbox.pki.TestPKI.issue(cert_kind, subject,
        …, **names)``) and bind it to ``workspace``; its PEM texts are returned once, kept nowhere
        (the files go with a temporary folder)."""
        import tempfile
        from pathlib import Path

        from cryptography import x509

        with tempfile.TemporaryDirectory(prefix="mes-sandbox-cert-") as tmp:
            issued = pki.issue(cert_kind, subject, Path(tmp), **names)
            pem = IssuedPem(issued.cert_pem.read_text(), issued.key_pem.read_text(), issued.chain_pem.read_text())
        bound = await self.bind(x509.load_pem_x509_certificate(pem.certificate.encode()), workspace, usage, kind,
                                persona_id)
        return bound, pem

    async def binding_of(self, der: bytes) -> CertificateBinding | None:
        """Whose certificate this is (revoked ones included, marked), or None: not issued for a workspace."""
        async with self.db.session() as s:
            row = await s.get(WorkspaceCertificateRow, fingerprint(der))
            return _domain(row) if row is not None else None

    async def list(self, workspace: str, usage: Usage) -> list[CertificateBinding]:
        """The workspace's certificates for one service, oldest first, revoked ones left out."""
        async with self.db.session() as s:
            rows = (await s.scalars(
                select(WorkspaceCertificateRow)
                .where(WorkspaceCertificateRow.bound_workspace == workspace,
                       WorkspaceCertificateRow.usage == usage.value,
                       WorkspaceCertificateRow.revoked_at.is_(None))
                .order_by(WorkspaceCertificateRow.issued_at))).all()
            return [_domain(r) for r in rows]

    async def revoke(self, workspace: str, fp: str, usage: Usage) -> bool:
        """Revoke one certificate of the workspace; False when it has no such live certificate."""
        async with self.db.session() as s:
            result = await s.execute(update(WorkspaceCertificateRow).where(
                WorkspaceCertificateRow.bound_workspace == workspace, WorkspaceCertificateRow.fingerprint == fp,
                WorkspaceCertificateRow.usage == usage.value, WorkspaceCertificateRow.revoked_at.is_(None),
            ).values(revoked_at=datetime.now(UTC)))
            return bool(result.rowcount)  # type: ignore[attr-defined]


async def revoke_workspace(session: Any, workspace: str) -> None:
    """Revoke every certificate of ``workspace`` (inside the session deleting it)."""
    await session.execute(update(WorkspaceCertificateRow).where(
        WorkspaceCertificateRow.bound_workspace == workspace, WorkspaceCertificateRow.revoked_at.is_(None),
    ).values(revoked_at=datetime.now(UTC)))
