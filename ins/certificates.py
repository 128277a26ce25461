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
workspace revokes them. The bindings live in the sandbox's one registry of workspace certificates
(:mod:`sandbox.workspace_certificates`, usage ``insi``); this module is INSi's view of it: only
certificates issued for INSi select a workspace here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sandbox.workspace_certificates import CertificateBinding, Usage, WorkspaceCertificates, fingerprint

__all__ = ["BoundCertificate", "CertificateRegistry", "IssuedCertificate", "fingerprint"]


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


def _bound(b: CertificateBinding) -> BoundCertificate:
    return BoundCertificate(b.fingerprint, b.workspace, b.subject, b.serial, b.not_after.isoformat(),
                            b.issued_at.isoformat(timespec="microseconds"))


@dataclass(frozen=True)
class IssuedCertificate:
    """PEM material of a freshly issued certificate (the private key is shown once, not stored)."""

    bound: BoundCertificate
    certificate_pem: str
    private_key_pem: str
    chain_pem: str


class CertificateRegistry:
    """INSi's certificates in the sandbox's registry (usage ``insi``)."""

    def __init__(self, certificates: WorkspaceCertificates) -> None:
        self.certificates = certificates

    async def workspace_of(self, der: bytes) -> str | None:
        """The workspace a certificate issued for INSi selects; None for any other (unknown,
        revoked, its workspace deleted, or issued for another service)."""
        b = await self.certificates.binding_of(der)
        return b.workspace if b is not None and b.usage is Usage.INSI and not b.revoked else None

    async def list(self, workspace: str) -> list[BoundCertificate]:
        return [_bound(b) for b in await self.certificates.list(workspace, Usage.INSI)]

    async def unbind(self, workspace: str, fp: str) -> bool:
        return await self.certificates.revoke(workspace, fp, Usage.INSI)

    async def issue(self, pki: Any, workspace: str, subject: str, identifier: str,
                    organisation: str) -> IssuedCertificate:
        """Issue an organisation certificate from the test PKI (``sandbox.pki.TestPKI``) and bind it."""
        from sandbox.pki import CertKind

        bound, pem = await self.certificates.issue(pki, CertKind.ORGANISATION, subject, workspace, Usage.INSI,
                                                   "organisation", identifier, identifier=identifier,
                                                   organisation=organisation)
        return IssuedCertificate(_bound(bound), pem.certificate, pem.private_key, pem.chain)
