"""INSi client certificates bound to a workspace (FACTS §1.2 "mutual-TLS mode"; DESIGN "Shared
sandbox: who may do what").

The real INSi knows its callers by their IGC-Santé organisation certificate. On a shared sandbox
the certificate also says *whose* world the call runs in: the sandbox issues each certificate for
one workspace (``POST /sandbox/api/workspaces/{ws}/ins/certificates``, workspace or operator key)
and remembers its SHA-256 fingerprint here. On the HTTPS listener a bound certificate selects its
workspace (identities, scripted faults, evidence); a certificate the sandbox did not bind — issued
by ``mes-sandbox pki issue`` without ``--workspace``, or bound to a deleted workspace — gets
INSi's ``insi_431`` fault, and so does a bound certificate whose call names another workspace.

A reset keeps the workspace's certificates (they are credentials, like its API key); deleting the
workspace drops them.
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select

from ins.models import ClientCertificateRow
from sandbox.db import Database


def fingerprint(der: bytes) -> str:
    """SHA-256 of the certificate's DER encoding, lower-case hex (what ``openssl x509 -fingerprint
    -sha256`` prints, without colons)."""
    return hashlib.sha256(der).hexdigest()


@dataclass(frozen=True)
class BoundCertificate:
    fingerprint: str
    workspace: str
    subject: str
    serial: str
    not_after: str
    created_at: str

    def to_dict(self) -> dict[str, Any]:
        return {"fingerprint_sha256": self.fingerprint, "workspace": self.workspace,
                "subject": self.subject, "serial": self.serial, "not_after": self.not_after,
                "created_at": self.created_at}


def _domain(row: ClientCertificateRow) -> BoundCertificate:
    return BoundCertificate(row.fingerprint, row.bound_workspace, row.subject, row.serial,
                            row.not_after, row.created_at)


@dataclass(frozen=True)
class IssuedCertificate:
    """PEM material of a freshly issued certificate (the private key is shown once, not stored)."""

    bound: BoundCertificate
    certificate_pem: str
    private_key_pem: str
    chain_pem: str


class CertificateRegistry:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def workspace_of(self, der: bytes) -> str | None:
        async with self.db.session() as s:
            row = await s.get(ClientCertificateRow, fingerprint(der))
            return row.bound_workspace if row is not None else None

    async def list(self, workspace: str) -> list[BoundCertificate]:
        async with self.db.session() as s:
            rows = (await s.scalars(select(ClientCertificateRow)
                                    .where(ClientCertificateRow.bound_workspace == workspace)
                                    .order_by(ClientCertificateRow.created_at))).all()
            return [_domain(r) for r in rows]

    async def unbind(self, workspace: str, fp: str) -> bool:
        async with self.db.session() as s:
            result = await s.execute(delete(ClientCertificateRow).where(
                ClientCertificateRow.bound_workspace == workspace, ClientCertificateRow.fingerprint == fp))
            return bool(result.rowcount)  # type: ignore[attr-defined]

    async def issue(self, pki: Any, workspace: str, subject: str, identifier: str,
                    organisation: str) -> IssuedCertificate:
        """Issue an organisation certificate from the test PKI (``sandbox.pki.TestPKI``) and bind it."""
        from cryptography import x509
        from cryptography.hazmat.primitives.serialization import Encoding

        from sandbox.pki import CertKind

        with tempfile.TemporaryDirectory(prefix="mes-sandbox-cert-") as tmp:
            issued = pki.issue(CertKind.ORGANISATION, subject, Path(tmp), identifier=identifier,
                               organisation=organisation)
            cert_pem = issued.cert_pem.read_text()
            key_pem = issued.key_pem.read_text()
            chain_pem = issued.chain_pem.read_text()
        cert = x509.load_pem_x509_certificate(cert_pem.encode())
        row = ClientCertificateRow(
            fingerprint=fingerprint(cert.public_bytes(Encoding.DER)), bound_workspace=workspace,
            subject=cert.subject.rfc4514_string()[:300], serial=format(cert.serial_number, "x"),
            not_after=cert.not_valid_after_utc.isoformat(),
            created_at=datetime.now(UTC).isoformat(timespec="microseconds"))
        bound = _domain(row)  # read before the commit expires the row's attributes
        async with self.db.session() as s:
            s.add(row)
        return IssuedCertificate(bound, cert_pem, key_pem, chain_pem)
