"""The platform's own registration: the ``/sandbox/api`` routers, problem-JSON errors."""

from __future__ import annotations

from sandbox.api import exchanges, faults, personas, workspaces
from sandbox.services import Endpoint, Service
from sandbox.settings import Settings


def _endpoints(settings: Settings) -> list[Endpoint]:
    base = settings.base_url
    return [
        Endpoint("OpenAPI / Swagger UI", f"{base}/docs"),
        Endpoint("Workspaces", f"{base}/sandbox/api/workspaces"),
        Endpoint("Personas", f"{base}/sandbox/api/personas?kind=patient"),
        Endpoint("Evidence (exchanges)", f"{base}/sandbox/api/exchanges"),
        Endpoint("Fault kinds", f"{base}/sandbox/api/faults/kinds"),
    ]


service = Service(
    name="sandbox",
    title="Sandbox platform",
    routers=lambda ctx: [workspaces.router, personas.router, exchanges.router, faults.router],
    endpoints=_endpoints,
)
