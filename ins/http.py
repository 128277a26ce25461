"""HTTP adapters of the ``ins`` service: thin translations over the framework-free core.

- ``POST /ins/insi`` — INSi SOAP 1.2 (:mod:`ins.insi_soap`), ``GET /ins/insi?wsdl`` (sandbox WSDL)
- ``GET /ins/fhir/Patient`` and ``GET /ins/fhir/Patient/{id}`` — fr-core Patient INS
  (:mod:`ins.fhir_patient`)
- ``POST /ins/api/verify`` — verification use case (:mod:`ins.verify`; real operation [U])

Workspace (docs/security.md "Credentials"): with a client certificate on the HTTPS listener, the
one the certificate is bound to (:mod:`ins.certificates`). Without one, the call carries
``Authorization: Bearer <key>`` and the key decides (:func:`sandbox.credentials.workspace_opened_by`):
a workspace key opens its own workspace only, the operator key the one ``X-Sandbox-Workspace`` names
(default workspace otherwise). No valid key: INSi answers ``insi_431``, FHIR and the API a 401 with
``WWW-Authenticate: Bearer``, and the call is recorded in ``anonymous`` only. ``serve --open``
(single-user laptop) keeps the header alone.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

import orjson
from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from ins import fhir_patient, insi_soap
from ins.certificates import CertificateRegistry
from ins.faults import kinds_for, plan
from ins.identities import IdentityRepository
from ins.insi_errors import SOAP12_TYPE, InsiError, InsiFault
from ins.insi_service import InsiService
from ins.insi_transport import Caller, check_caller, is_loopback
from ins.insi_wsdl import wsdl
from ins.nir import check_matricule
from ins.settings import InsSettings
from ins.traits import Traits, check_query
from ins.verify import verify
from sandbox.api.deps import WORKSPACE_HEADER
from sandbox.credentials import KeyRefusal, KeyRefused, bearer_token, workspace_opened_by
from sandbox.errors import FHIR_JSON, FhirError, ProblemError
from sandbox.http_evidence import annotate
from sandbox.tls import client_certificate
from sandbox.user_language import Text

log = logging.getLogger(__name__)
SERVICE = "ins"


@dataclass
class InsRuntime:
    settings: InsSettings
    repository: IdentityRepository
    insi: InsiService
    certificates: CertificateRegistry


def runtime(request: Request) -> InsRuntime:
    return request.app.state.ctx.state[SERVICE]


@dataclass(frozen=True)
class Selected:
    """The workspace a call runs in, or why none: ``refused`` (a certificate or key problem);
    ``problem`` and ``challenge`` (the ``WWW-Authenticate`` value) when the call lacks a valid key."""

    workspace: str | None
    refused: Text | str = ""
    problem: str = ""
    challenge: str = ""


_HOW_TO_AUTHENTICATE = Text(
    "envoyez 'Authorization: Bearer <clé>' avec la clé de votre espace de travail (donnée à sa création ; "
    "POST /sandbox/api/workspaces/<espace>/api-key la remplace) ou la clé d'opérateur (mes-sandbox "
    "operator-key show), ou appelez le port HTTPS avec un certificat lié à votre espace de travail "
    "(mes-sandbox pki issue --workspace <espace>)",
    "send 'Authorization: Bearer <key>' with your workspace's key (given when it was created; "
    "POST /sandbox/api/workspaces/<ws>/api-key replaces it) or the operator key (mes-sandbox "
    "operator-key show), or call the HTTPS port with a certificate bound to your workspace "
    "(mes-sandbox pki issue --workspace <ws>)")
_CHALLENGE = 'Bearer realm="mes-sandbox"'


def _key_refused(request: Request, exc: KeyRefused) -> Selected:
    how = _HOW_TO_AUTHENTICATE
    if exc.reason is KeyRefusal.MISSING:
        return Selected(None, Text("Appel INS sans certificat client ni clé : {how_fr}.",
                                   "INS call without a client certificate or a key: {how_en}.",
                                   how_fr=how, how_en=how.en),
                        exc.reason.value, _CHALLENGE)
    if exc.reason is KeyRefusal.INVALID:
        return Selected(None, Text("Clé non valide (inconnue, remplacée, ou son espace de travail supprimé) : "
                                   "{how_fr}.",
                                   "The key is not valid (unknown, rotated or its workspace deleted): {how_en}.",
                                   how_fr=how, how_en=how.en),
                        exc.reason.value, _CHALLENGE + ', error="invalid_token"')
    assert exc.holder is not None and exc.holder.workspace is not None
    own = exc.holder.workspace
    annotate(request, workspace=own)  # a verified key: the attempt is its own workspace's evidence
    return Selected(None, Text(
        "Cette clé n'ouvre que l'espace de travail « {own} » ; X-Sandbox-Workspace nomme « {named} ».",
        "This key opens workspace '{own}' only; X-Sandbox-Workspace names '{named}'.",
        own=own, named=exc.named[:64]), exc.reason.value)


def _trusted_plain(request: Request, rt: InsRuntime) -> bool:
    """Plain HTTP from this machine (or from anywhere behind the documented leniency switch)."""
    if request.url.scheme == "https":
        return False
    host = request.client.host if request.client else ""
    return is_loopback(host) or not rt.settings.plain_http_loopback_only


async def _select(request: Request, rt: InsRuntime) -> Selected:
    """The call's workspace: a client certificate decides by its binding (:mod:`ins.certificates`);
    without one, the ``Authorization: Bearer`` key (module docstring); under ``serve --open``,
    ``X-Sandbox-Workspace`` alone (else the default workspace), recorded in that workspace's
    evidence only for plain HTTP from this machine."""
    ctx = request.app.state.ctx
    named = request.headers.get(WORKSPACE_HEADER)
    cert = client_certificate(request) if request.url.scheme == "https" else None
    if cert is not None:
        bound = await rt.certificates.workspace_of(cert.der)
        if bound is None:
            return Selected(None, Text(
                "Certificat client inconnu du bac à sable : émettez-le pour votre espace de travail "
                "(POST /sandbox/api/workspaces/<espace>/ins/certificates ou mes-sandbox pki issue --workspace "
                "<espace>).",
                "Client certificate unknown to the sandbox: issue it for your workspace "
                "(POST /sandbox/api/workspaces/<ws>/ins/certificates or mes-sandbox pki issue --workspace <ws>)."))
        if named and named != bound:
            return Selected(None, Text(
                "Ce certificat est lié à l'espace de travail « {bound} » ; X-Sandbox-Workspace nomme « {named} ».",
                "This certificate is bound to workspace '{bound}'; X-Sandbox-Workspace names '{named}'.",
                bound=bound, named=named[:64]))
        annotate(request, workspace=bound)
        return Selected(bound)
    if ctx.settings.open_api:
        name = named or ctx.settings.default_workspace
        if await ctx.workspaces.get(name) is None:
            return Selected(None)
        if _trusted_plain(request, rt):
            annotate(request, workspace=name)
        return Selected(name)
    try:
        opened = await workspace_opened_by(bearer_token(request.headers.get("authorization", "")), named,
                                           operator_key=ctx.operator_key, workspaces=ctx.workspaces)
    except KeyRefused as exc:
        return _key_refused(request, exc)
    name = opened.workspace or ctx.settings.default_workspace
    # a workspace key's workspace exists (its key was just read there); the operator may name any
    if opened.holder.operator and await ctx.workspaces.get(name) is None:
        return Selected(None)
    annotate(request, workspace=name)
    return Selected(name)


def _both(text: Text | str) -> str:
    return text.both() if isinstance(text, Text) else text


def _caller(request: Request) -> Caller:
    tls = request.url.scheme == "https"
    cert = client_certificate(request) if tls else None
    return Caller(tls=tls, client_host=request.client.host if request.client else "",
                  cert_subject=dict(cert.subject) if cert is not None else None,
                  cert_issuer_cn=cert.issuer_cn if cert is not None else None)


def _soap(body: bytes, status: int = 200, media_type: str = SOAP12_TYPE) -> Response:
    return Response(body, status_code=status, media_type=media_type)


def _traits_summary(req: insi_soap.InsiRequest) -> dict[str, Any]:
    if req.traits is not None:
        t = req.traits
        return {"NomNaissance": t.birth_name, "Prenom": list(t.first_names), "Sexe": t.sex,
                "DateNaissance": t.birth_date, "LieuNaissance": t.birth_place}
    v = req.vitale
    assert v is not None
    return {"MatriculeOD": v.matricule_od, "DateNaissance": v.birth_date, "RangNaissance": v.rank,
            "MatriculeIndividu": v.matricule_individu, "NomNaissance": v.birth_name}


async def _insi_call(request: Request, body: bytes, rt: InsRuntime) -> Response:
    ctx = request.app.state.ctx
    cert_actor = check_caller(_caller(request),
                              plain_http_loopback_only=rt.settings.plain_http_loopback_only)
    selected = await _select(request, rt)
    if selected.refused:
        raise InsiFault(InsiError.CERTIFICATE_REFUSED, _both(selected.refused))
    workspace = selected.workspace
    if workspace is None:
        raise InsiFault(InsiError.UNKNOWN_WORKSPACE,
                        f"Espace de travail inconnu : {request.headers.get(WORKSPACE_HEADER, '')[:64]}.")
    ctype = request.headers.get("content-type", "")
    req = await ctx.cpu.run(insi_soap.parse_request, body, ctype, size=len(body))  # big: off the loop
    actor = f"IDAM={req.header.idam}" + (f" {cert_actor}" if cert_actor else "")
    annotate(request, actor=actor[:300], operation=req.operation.value,
             summary={"request": _traits_summary(req), "messageID": req.header.message_id,
                      "lps": req.header.lps_name})
    fault = await ctx.faults.take(workspace, SERVICE, req.operation.value,
                                  kinds=kinds_for(req.operation.value))
    todo = plan(fault, rt.settings.max_fault_delay_ms)
    if fault is not None:
        annotate(request, summary={"injected": fault.kind})
    if todo.delay_ms:
        await asyncio.sleep(todo.delay_ms / 1000)
    if todo.error is not None:
        raise InsiFault(todo.error, todo.message, code=todo.code, message_id=req.header.message_id)
    if req.traits is not None:
        result = await rt.insi.search_by_traits(workspace, req.traits, todo.forced)
    else:
        assert req.vitale is not None
        result = await rt.insi.search_by_vitale(workspace, req.vitale, todo.forced)
    ident = result.identity
    annotate(request, summary={
        "cr": result.cr.value, "candidates": result.candidates,
        "ins": ident.ins.value if ident else None, "oid": ident.ins.oid if ident else None,
        "history": [h.value for h in ident.history] if ident else []})
    return _soap(insi_soap.build_response(req, result))


def insi_router() -> APIRouter:
    router = APIRouter(prefix="/ins", tags=["ins: INSi (SOAP 1.2)"])

    @router.post("/insi", summary="INSi SOAP 1.2 (rechercherInsAvecTraitsIdentite, rechercherInsAvecCarteVitale)")
    async def insi(request: Request) -> Response:
        annotate(request, protocol="soap", service=SERVICE, operation="insi")
        body = await request.body()
        try:
            return await _insi_call(request, body, runtime(request))
        except InsiFault as exc:
            fault = exc
        except Exception:  # a crash still answers the protocol's own error shape
            log.exception("INSi call failed")
            fault = InsiFault(InsiError.TECHNICAL)
        if not fault.message_id:
            fault.message_id = insi_soap.peek_message_id(body)
        annotate(request, summary={"faultCode": fault.code, "fault": fault.detail[:500]})
        wire = fault.to_wire()
        return _soap(wire.body, wire.status, wire.media_type)

    @router.get("/insi", summary="Sandbox-written WSDL of the INSi mock (?wsdl)")
    async def insi_wsdl(request: Request) -> Response:
        if "wsdl" not in request.query_params and "WSDL" not in request.query_params:
            raise ProblemError(405, "method-not-allowed", "INSi is called with POST; GET /ins/insi?wsdl "
                               "returns the WSDL", headers={"Allow": "POST"})
        location = str(request.base_url).rstrip("/") + "/ins/insi"
        return Response(wsdl(location), media_type="text/xml; charset=utf-8")

    return router


def _fhir(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type=FHIR_JSON)


async def _fhir_workspace(request: Request, rt: InsRuntime) -> str:
    selected = await _select(request, rt)
    if selected.challenge:
        raise FhirError(401, "login", _both(selected.refused), headers={"WWW-Authenticate": selected.challenge})
    if selected.refused:
        raise FhirError(403, "security", _both(selected.refused))
    if selected.workspace is None:
        raise FhirError(404, "not-found", "Espace de travail inconnu (X-Sandbox-Workspace).")
    return selected.workspace


def fhir_router() -> APIRouter:
    router = APIRouter(prefix="/ins/fhir", tags=["ins: FHIR Patient (fr-core INS)"])

    @router.get("/Patient", summary="Search fr-core Patient INS by identifier or traits")
    async def search(request: Request) -> Response:
        rt = runtime(request)
        annotate(request, operation="Patient.search")
        workspace = await _fhir_workspace(request, rt)
        query = fhir_patient.parse_search(list(request.query_params.multi_items()))
        repo = rt.repository
        if query.number is not None:
            candidates = await repo.by_matricule(workspace, query.number)
        else:
            candidates = await repo.search(workspace, birth_name=query.birth_name, sex=query.sex,
                                           birth_date=query.birth_date, birth_place=query.birth_place,
                                           first_names=query.first_names, limit=query.count)
        found = fhir_patient.select([rt.insi.presented(i) for i in candidates], query)
        annotate(request, operation="Patient.search", summary={"total": len(found)})
        base = str(request.base_url).rstrip("/") + "/ins/fhir"
        return _fhir(fhir_patient.searchset(found, base, str(request.url)))

    @router.get("/Patient/{pid}", summary="Read one fr-core Patient INS")
    async def read(pid: str, request: Request) -> Response:
        rt = runtime(request)
        annotate(request, operation="Patient.read")
        workspace = await _fhir_workspace(request, rt)
        identity = await rt.repository.by_id(workspace, pid[:80])
        if identity is None:
            raise FhirError(404, "not-found", f"Aucun Patient {pid[:80]!r}.", expression="Patient.id")
        return _fhir(fhir_patient.patient_resource(rt.insi.presented(identity)))

    return router


class VerifyIn(BaseModel):
    """Traits as the client stored them, and the 15-character matricule."""

    matricule: str = Field(..., max_length=40, examples=["297022A02077878"])
    birth_name: str = Field(..., max_length=200, examples=["ADRTROIS"])
    first_names: list[str] = Field(..., max_length=20, examples=[["DOMINIQUE"]])
    sex: str = Field(..., max_length=10, examples=["F"])
    birth_date: str = Field(..., max_length=40, examples=["1997-02-26"])
    birth_place: str | None = Field(None, max_length=40, examples=["2A020"])


async def _api_workspace(request: Request) -> str:
    """The verify call's workspace, decided before its body is read (a caller without a valid key
    gets 401, not a 422 about a body it had no right to send)."""
    annotate(request, operation="verify")
    selected = await _select(request, runtime(request))
    if selected.challenge:
        raise ProblemError(401, selected.problem, selected.refused,
                           headers={"WWW-Authenticate": selected.challenge})
    if selected.refused:
        raise ProblemError(403, selected.problem or "certificate-refused", selected.refused)
    if selected.workspace is None:
        raise ProblemError(404, "unknown-workspace", Text("espace de travail inconnu (X-Sandbox-Workspace)",
                                                          "unknown workspace (X-Sandbox-Workspace)"))
    return selected.workspace


def api_router() -> APIRouter:
    router = APIRouter(prefix="/ins/api", tags=["ins: API"])

    @router.post("/verify", summary="Verify stored traits + matricule against INSi (operation name [U])")
    async def verify_ins(body: VerifyIn, request: Request,
                         workspace: str = Depends(_api_workspace)) -> dict[str, Any]:
        """Re-run the traits search with the stored traits and compare (FACTS §1.2, App. C: the
        real INSi verification operation name is uncertain; this is the sandbox's own API)."""
        rt = runtime(request)
        firsts = [f for fn in body.first_names for f in fn.split()]
        query, problems = check_query(body.birth_name, firsts, body.sex, body.birth_date,
                                      body.birth_place, strict=False)
        problems += check_matricule(body.matricule)
        if problems or query is None:
            raise ProblemError(422, "invalid-traits", Text(problems[0].text("fr"), problems[0].text("en")),
                               problems=[p.to_dict() for p in problems])
        stored = Traits(query.birth_name, query.first_names, query.sex, query.birth_date,
                        query.birth_place or "")
        result = await verify(rt.insi, workspace, stored, body.matricule.strip().upper())
        annotate(request, operation="verify", summary={
            "matricule": body.matricule, "result": result.outcome.value, "cr": result.cr.value,
            "differences": [d[0].value for d in result.differences]})
        return result.to_dict()

    return router


def build_routers(ctx: Any) -> list[APIRouter]:
    """Router factory for :class:`sandbox.services.Service` (settings built once, here)."""
    settings = InsSettings()
    repository = IdentityRepository(ctx.db)
    ctx.state[SERVICE] = InsRuntime(settings, repository, InsiService(repository, settings.oid),
                                    CertificateRegistry(ctx.certificates))
    from ins import http_certificates

    return [insi_router(), fhir_router(), api_router(), http_certificates.build(ctx)]
