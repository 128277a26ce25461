"""``/sandbox/api/workspaces/{ws}/ins/certificates``: issue, list and revoke the INSi client
certificates bound to a workspace (:mod:`ins.certificates`; problem JSON errors, RFC 9457).

Behind the sandbox API's key check (:mod:`sandbox.api_auth`): the workspace's key or the
operator's. The answer to ``POST`` is the only time the private key is shown; the sandbox keeps
the certificate's fingerprint, not the key (the evidence redacts the PEM key as well).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from ins.insi_transport import INSI_CNS
from sandbox.errors import ProblemError
from sandbox.http_evidence import annotate
from sandbox.user_language import Text


class CertificateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subject: str = Field("INSI-AUTO", description="CN: INSI-AUTO (automated calls) or INSI-MANU",
                         examples=["INSI-AUTO"])
    identifier: str = Field("", max_length=20, pattern=r"^[0-9A-Za-z]*$",
                            description="FINESS of the structure (OU=)", examples=["0B0193488"])
    organisation: str = Field("", max_length=120, description="Organisation name (O=); a TEST "
                              "marking by default")


class IssuedOut(BaseModel):
    fingerprint_sha256: str
    workspace: str
    subject: str
    serial: str
    not_after: str
    created_at: str
    certificate_pem: str
    private_key_pem: str = Field(description="Shown once; not kept by the sandbox")
    chain_pem: str = Field(description="Certificate, organisations CA, root CA")


def build(ctx: Any) -> APIRouter:
    router = APIRouter(prefix="/sandbox/api/workspaces/{ws}/ins/certificates",
                       tags=["ins: client certificates"])

    def registry() -> Any:
        return ctx.state["ins"].certificates

    @router.post("", status_code=201, response_model=IssuedOut,
                 summary="Issue an INSi client certificate (mutual TLS) bound to this workspace")
    async def issue(ws: str, body: CertificateIn, request: Request, response: Response) -> dict[str, Any]:
        annotate(request, workspace=ws, service="ins", operation="ins.certificate.issue")
        await ctx.workspaces.require(ws)
        if body.subject not in INSI_CNS:
            raise ProblemError(422, "invalid-subject", Text(
                "sujet {subject!r} : INSI-AUTO ou INSI-MANU attendu (le CN que l'INSi accepte)",
                "subject {subject!r}: INSI-AUTO or INSI-MANU expected (the CN INSi accepts)",
                subject=body.subject[:40]))
        ctx.pki.ensure()
        issued = await registry().issue(ctx.pki, ws, body.subject, body.identifier, body.organisation)
        response.headers["Location"] = (f"/sandbox/api/workspaces/{ws}/ins/certificates/"
                                        f"{issued.bound.fingerprint}")
        return {**issued.bound.to_dict(), "certificate_pem": issued.certificate_pem,
                "private_key_pem": issued.private_key_pem, "chain_pem": issued.chain_pem}

    @router.get("", summary="INSi client certificates bound to this workspace")
    async def list_certificates(ws: str, request: Request) -> dict[str, Any]:
        annotate(request, workspace=ws, service="ins")
        await ctx.workspaces.require(ws)
        return {"certificates": [c.to_dict() for c in await registry().list(ws)]}

    @router.delete("/{fingerprint}", status_code=204, summary="Unbind (revoke) a certificate")
    async def revoke(ws: str, fingerprint: str, request: Request) -> Response:
        annotate(request, workspace=ws, service="ins", operation="ins.certificate.revoke")
        if not await registry().unbind(ws, fingerprint.lower()[:64]):
            raise ProblemError(404, "unknown-certificate", Text(
                "aucun certificat de cet espace de travail n'a cette empreinte SHA-256",
                "no certificate of this workspace has that SHA-256 fingerprint"))
        return Response(status_code=204)

    return router
