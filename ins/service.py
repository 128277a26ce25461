"""Registration of the `ins` service with the sandbox (see sandbox/services.py).

INSi SOAP 1.2 mock, INS identity rules and the fr-core Patient INS FHIR face (FACTS §1, A.1–A.3).
"""

from __future__ import annotations

from pathlib import Path

from ins import models  # noqa: F401 - registers the ins tables on sandbox.db.Base
from ins.faults import FAULT_KINDS
from ins.http import build_routers
from ins.seed import seed
from profiles.http import type_validate_router
from sandbox.services import Endpoint, Service
from sandbox.settings import Settings


def _endpoints(settings: Settings) -> list[Endpoint]:
    base = settings.base_url
    return [
        Endpoint("INSi SOAP 1.2 over loopback HTTP (header Authorization: Bearer <workspace key or operator key>)",
                 f"{base}/ins/insi"),
        Endpoint("INSi SOAP 1.2 over mutual TLS (organisation certificate CN=INSI-AUTO bound to a workspace; "
                 "`mes-sandbox pki issue --kind organisation --subject INSI-AUTO --out DIR --workspace default`)",
                 f"https://localhost:{settings.https_port}/ins/insi"),
        Endpoint("INSi WSDL (sandbox-written)", f"{base}/ins/insi?wsdl"),
        Endpoint("INS FHIR Patient (fr-core INS; Bearer key as for INSi)",
                 f"{base}/ins/fhir/Patient?family=ADRTROIS&birthdate=1997-02-26"),
        Endpoint("INS verification (JSON; Bearer key as for INSi)", f"{base}/ins/api/verify"),
        Endpoint("INSi test identity", "ADRTROIS DOMINIQUE F 1997-02-26 2A020 -> 297022A020778 78"),
    ]


service = Service(
    name="ins",
    title="INSi and INS identity rules",
    routers=lambda ctx: [*build_routers(ctx), type_validate_router("/ins/fhir")],
    fhir_bases=("/ins/fhir",),
    fault_kinds=FAULT_KINDS,
    migrations=Path(__file__).parent / "migrations" / "versions",
    on_seed=seed,
    endpoints=_endpoints,
)
