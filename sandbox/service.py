"""The platform's own registration: the ``/sandbox/api`` routers, problem-JSON errors."""

from __future__ import annotations

from sandbox.api import exchanges, faults, health, personas, workspaces
from sandbox.services import Endpoint, Service
from sandbox.settings import Settings


def _endpoints(settings: Settings) -> list[Endpoint]:
    base = settings.base_url
    return [
        Endpoint("OpenAPI / Swagger UI", f"{base}/docs"),
        Endpoint("Health (no credentials)", f"{base}/health"),
        Endpoint("Workspaces", f"{base}/sandbox/api/workspaces"),
        Endpoint("Personas", f"{base}/sandbox/api/personas?kind=patient"),
        Endpoint("Evidence (exchanges)", f"{base}/sandbox/api/exchanges"),
        Endpoint("Fault kinds", f"{base}/sandbox/api/faults/kinds"),
        Endpoint("HTTPS (mutual TLS, test PKI)", f"https://{settings.host}:{settings.https_port}"),
        Endpoint("Test patient (INSi public identity)",
                 "ADRTROIS DOMINIQUE F 1997-02-26 2A020 → INS 297022A02077878"),
        Endpoint("Test professional (PSC public persona)", "899700218896 ROBERT SPECIALISTE0021889"),
    ]


service = Service(
    name="sandbox",
    title="Sandbox platform",
    routers=lambda ctx: [workspaces.router, personas.router, exchanges.router, faults.router, health.router],
    endpoints=_endpoints,
)
