"""Registration of the ``profiles`` service with the sandbox (see sandbox/services.py)."""

from __future__ import annotations

from profiles.http import build_router
from sandbox.services import Service

service = Service(
    name="profiles",
    title="French FHIR profiles and validator",
    routers=lambda ctx: [build_router(ctx)],
    fhir_bases=("/profiles/fhir",),
)
