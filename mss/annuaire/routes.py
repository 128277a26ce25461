"""``/annuaire/fhir``: the Annuaire Santé FHIR read and search API of a workspace (FACTS §2.6).

Thin adapter: like the real gateway, every call but ``/metadata`` needs a valid ``ESANTE-API-KEY``
(401 otherwise), and the key chooses the workspace: a workspace's API key opens that workspace
(``X-Sandbox-Workspace`` naming another is a 403), the operator key the workspace
``X-Sandbox-Workspace`` names (default workspace otherwise). The directory is built from that
workspace's personas (:mod:`mss.annuaire.resources`) and searched by :mod:`mss.annuaire.search`;
a search is per resource type (no root-level search). Errors are OperationOutcome (the service
registers ``/annuaire/fhir`` as a FHIR base).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response

from mss.annuaire.resources import Directory
from mss.annuaire.search import PARAMS, search
from mss.annuaire.workspace_directory import directory_of
from sandbox.context import SandboxContext
from sandbox.credentials import KeyRefusal, KeyRefused, workspace_opened_by
from sandbox.errors import FhirError
from sandbox.http_evidence import annotate

BASE = "/annuaire/fhir"
FHIR_JSON = "application/fhir+json"
API_KEY_HEADER = "esante-api-key"
_CHALLENGE = 'ApiKey header="ESANTE-API-KEY"'
TYPES = tuple(PARAMS)


def _fhir(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type=FHIR_JSON)


def capability_statement(base_url: str) -> dict[str, Any]:
    return {
        "resourceType": "CapabilityStatement", "status": "active", "date": "2026-01-01", "kind": "instance",
        "fhirVersion": "4.0.1", "format": ["application/fhir+json"],
        "implementation": {"description": "mes-sandbox Annuaire Santé (bac à sable)", "url": base_url + BASE},
        "rest": [{"mode": "server", "resource": [
            {"type": t, "interaction": [{"code": "read"}, {"code": "search-type"}],
             "searchParam": [{"name": p, "type": "token" if p in ("_id", "identifier", "mailbox-mss-type", "active")
                              else "reference" if p in ("practitioner", "organization") else "string"}
                             for p in PARAMS[t]]}
            for t in TYPES]}],
    }


def build_router(ctx: SandboxContext) -> APIRouter:
    router = APIRouter(prefix=BASE, tags=["annuaire: Annuaire Santé FHIR"])

    async def prepare(request: Request, operation: str) -> Directory:
        annotate(request, service="annuaire", operation=f"annuaire.{operation}")
        name = await workspace_of(request)
        annotate(request, workspace=name)
        return await directory_of(ctx, name)

    async def workspace_of(request: Request) -> str:
        """The workspace the ``ESANTE-API-KEY`` opens: a workspace key its own, the operator key
        the one ``X-Sandbox-Workspace`` names (default workspace otherwise)."""
        named = request.headers.get("x-sandbox-workspace")
        try:
            opened = await workspace_opened_by(request.headers.get(API_KEY_HEADER, "").strip(), named,
                                               operator_key=ctx.operator_key, workspaces=ctx.workspaces)
        except KeyRefused as exc:
            if exc.reason is KeyRefusal.MISSING:
                raise FhirError(401, "login", "en-tête ESANTE-API-KEY manquant (clé d'API de l'Annuaire Santé) / "
                                "ESANTE-API-KEY header missing", headers={"WWW-Authenticate": _CHALLENGE}) from None
            if exc.reason is KeyRefusal.INVALID:
                raise FhirError(401, "security", "clé ESANTE-API-KEY invalide : la clé d'un espace de travail ou la "
                                "clé d'opérateur est attendue / invalid ESANTE-API-KEY: a workspace key or the "
                                "operator key is expected", headers={"WWW-Authenticate": _CHALLENGE}) from None
            own = exc.holder.workspace if exc.holder else ""
            raise FhirError(403, "forbidden", f"cette clé n'ouvre que l'espace de travail {own!r} / this key "
                            f"opens workspace {own!r} only") from None
        if opened.holder.operator:
            name = opened.workspace or ctx.settings.default_workspace
            if await ctx.workspaces.get(name) is None:
                raise FhirError(404, "not-found", f"espace de travail inconnu / unknown workspace {name[:60]!r}")
            return name
        assert opened.workspace is not None
        return opened.workspace

    @router.get("/metadata")
    async def metadata(request: Request) -> Response:
        annotate(request, service="annuaire", operation="annuaire.capabilities")
        return _fhir(capability_statement(str(request.base_url).rstrip("/")))

    @router.get("")
    @router.get("/")
    async def root_search(request: Request) -> Response:
        annotate(request, service="annuaire", operation="annuaire.search-system")
        raise FhirError(400, "not-supported", "recherche sans type de ressource non supportée (comme la passerelle "
                        "de l'Annuaire Santé) : utilisez /Practitioner, /PractitionerRole ou /Organization")

    @router.get("/{rtype}")
    async def search_type(rtype: str, request: Request) -> Response:
        _known(rtype)
        directory = await prepare(request, f"search.{rtype}")
        params = list(request.query_params.multi_items())
        result = search(directory, rtype, params)
        self_url = f"{str(request.base_url).rstrip('/')}{BASE}/{rtype}"
        base = str(request.base_url).rstrip("/") + BASE
        links = [{"relation": "self", "url": f"{self_url}?{urlencode(params)}" if params else self_url}]
        if result.offset + result.count < result.total:
            nxt = [(k, v) for k, v in params if k != "_offset"] + [("_offset", str(result.offset + result.count))]
            links.append({"relation": "next", "url": f"{self_url}?{urlencode(nxt)}"})
        entries = [{"fullUrl": f"{base}/{r['resourceType']}/{r['id']}", "resource": r, "search": {"mode": "match"}}
                   for r in result.matches]
        entries += [{"fullUrl": f"{base}/{r['resourceType']}/{r['id']}", "resource": r, "search": {"mode": "include"}}
                    for r in result.included]
        annotate(request, summary={"total": result.total})
        return _fhir({"resourceType": "Bundle", "type": "searchset", "total": result.total, "link": links,
                      "entry": entries})

    @router.get("/{rtype}/{rid}")
    async def read(rtype: str, rid: str, request: Request) -> Response:
        _known(rtype)
        directory = await prepare(request, f"read.{rtype}")
        found = next((r for r in directory.of_type(rtype) if r["id"] == rid), None)
        if found is None:
            raise FhirError(404, "not-found", f"{rtype}/{rid[:64]} inconnu / unknown", expression=rtype)
        return _fhir(found)

    return router


def _known(rtype: str) -> None:
    if rtype not in TYPES:
        raise FhirError(404, "not-supported", f"type de ressource non servi par l'annuaire : {rtype[:40]} "
                        f"({', '.join(TYPES)})")
