"""Registration of the `mss` service with the sandbox (see sandbox/services.py).

MSSanté secure messaging (FACTS §2): SMTP and IMAP listeners with the test PKI, the mail store,
receipts, patient mailboxes and the ``/mss/api`` inspection API. Integrators: mss/README.md.
"""

from __future__ import annotations

from pathlib import Path

from mss import models  # noqa: F401 - registers the mss tables on sandbox.db.Base
from mss.faults import FAULT_KINDS
from sandbox.services import Endpoint, Listener, Service
from sandbox.settings import Settings


def _routers(ctx):  # noqa: ANN001, ANN202 - SandboxContext -> list[APIRouter]
    from mss.routes import build

    return [build(ctx)]


async def _listeners(ctx) -> list[Listener]:  # noqa: ANN001 - SandboxContext
    from mss import imap_server, smtp_server

    return [*await smtp_server.start(ctx), *await imap_server.start(ctx)]


def _endpoints(settings: Settings) -> list[Endpoint]:
    host = settings.host
    return [
        Endpoint("SMTP, STARTTLS required (client certificate or PSC token)", f"smtp://{host}:{settings.smtp_port}"),
        Endpoint("SMTP over TLS", f"smtps://{host}:{settings.smtps_port}"),
        Endpoint("IMAP, STARTTLS required", f"imap://{host}:{settings.imap_port}"),
        Endpoint("IMAP over TLS", f"imaps://{host}:{settings.imaps_port}"),
        Endpoint("Mail inspection API", f"{settings.base_url}/mss/api/messages"),
    ]


service = Service(
    name="mss",
    title="MSSanté secure messaging (SMTP, IMAP, receipts)",
    routers=_routers,
    fault_kinds=FAULT_KINDS,
    migrations=Path(__file__).parent / "migrations" / "versions",
    listeners=_listeners,
    endpoints=_endpoints,
)
