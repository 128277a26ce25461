"""Registration of the ``profiles`` service with the sandbox (see sandbox/services.py).

The HTTP adapter (FastAPI) is imported only when the app builds its routers: loading this
declaration for the ``validate`` command imports the validator and typer, nothing of the server.
"""

from __future__ import annotations

from typing import Any

from sandbox.services import Service


def _routers(ctx: Any) -> list[Any]:
    from profiles.http import build_router

    return [build_router(ctx)]


service = Service(
    name="profiles",
    title="French FHIR profiles and validator",
    routers=_routers,
    fhir_bases=("/profiles/fhir",),
)
