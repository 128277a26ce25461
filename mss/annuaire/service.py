"""Registration of the ``annuaire`` service (Annuaire Santé FHIR directory of MSSanté mailboxes,
FACTS §2.6) with the sandbox (see sandbox/services.py)."""

from __future__ import annotations

from mss.annuaire.routes import BASE, build_router
from sandbox.services import Endpoint, Service
from sandbox.settings import Settings


def _endpoints(settings: Settings) -> list[Endpoint]:
    base = settings.base_url + BASE
    return [
        Endpoint("Annuaire Santé FHIR (header ESANTE-API-KEY: a workspace key or the operator key)",
                 f"{base}/Practitioner?name=DOC0042788"),
        Endpoint("MSSanté mailbox search", f"{base}/Organization?mailbox-mss:contains=etab.sandbox.mssante.fr"),
    ]


service = Service(
    name="annuaire",
    title="Annuaire Santé (MSSanté mailbox directory)",
    routers=lambda ctx: [build_router(ctx)],
    fhir_bases=(BASE,),
    endpoints=_endpoints,
)
