"""Registration of the `dmp` service with the sandbox (see sandbox/services.py).

DMP document store, FHIR side (PDSm = IHE MHD; FACTS §3), access rules, audit trail and the
patient's view (Mon Espace Santé). Integrators: dmp/README.md.
"""

from __future__ import annotations

from pathlib import Path

from dmp import models  # noqa: F401 - registers the dmp tables on sandbox.db.Base
from dmp.faults import FAULT_KINDS
from dmp.seed import seed
from ins import OID_INS_NIR
from sandbox.services import Endpoint, Service
from sandbox.settings import Settings


def _routers(ctx):  # noqa: ANN001, ANN202 - SandboxContext -> list[APIRouter]
    from dmp.routes import admin, fhir, mes
    from profiles.http import type_validate_router

    return [type_validate_router("/dmp/fhir"), fhir.build(ctx), mes.build(ctx), admin.build(ctx)]


async def _shutdown(ctx) -> None:  # noqa: ANN001 - SandboxContext
    from dmp.audit import writer

    await writer(ctx).flush()


def _endpoints(settings: Settings) -> list[Endpoint]:
    base = settings.base_url
    return [
        Endpoint("DMP FHIR (PDSm / MHD), Bearer PSC", f"{base}/dmp/fhir/metadata"),
        Endpoint("DMP existence (TD0.2)",
                 f"{base}/dmp/fhir/Patient?identifier=urn:oid:{OID_INS_NIR}|297022A02077878"),
        Endpoint("Mon Espace Santé (patient token)", f"{base}/dmp/mes/api/documents"),
        Endpoint("Patient token", f"POST {base}/sandbox/api/workspaces/default/dmp/patient-token "
                                  '{"patient":"pat-0001"}'),
        Endpoint("Test professional (PSC login_hint)", "899700218896 — médecin traitant DMP of pat-0001"),
        Endpoint("Access mode header", "X-DMP-Access-Mode: normal | bris_de_glace | centre_15"),
    ]


service = Service(
    name="dmp",
    title="DMP document store (PDSm / MHD)",
    routers=_routers,
    fhir_bases=("/dmp/fhir",),
    fault_kinds=FAULT_KINDS,
    migrations=Path(__file__).parent / "migrations" / "versions",
    on_seed=seed,
    on_shutdown=_shutdown,
    endpoints=_endpoints,
)
