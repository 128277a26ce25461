"""Registration of the `psc` service with the sandbox (see sandbox/services.py).

Pro Santé Connect (FACTS §4): the provider under ``/psc/realms/esante-wallet``, the client
registry under ``/sandbox/api/workspaces/{ws}/psc/clients``, the demo relying party under
``/psc/demo/``, fault kinds, the seeded demo client, the ``mes-sandbox psc`` commands.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from psc import runtime
from psc.claims import REALM
from psc.clients import demo_client, demo_client_id
from psc.errors import oauth_renderer
from psc.faults import FAULT_KINDS
from psc.models import PscClientRow
from psc.store import purge_expired
from sandbox.context import SandboxContext
from sandbox.seeding import SeedContext
from sandbox.services import Endpoint, Service
from sandbox.settings import Settings


def _routers(ctx: SandboxContext) -> list:
    from psc.routes import admin, demo, oidc

    return [oidc.build(ctx), admin.build(ctx), demo.build(ctx)]


async def _startup(ctx: SandboxContext) -> None:
    await runtime.get(ctx).keys.ensure()
    before = datetime.now(UTC) - timedelta(days=1)  # expired a day ago: nothing can refer to them any more
    await ctx.db.run(lambda c: purge_expired(c, before))


async def _seed(seed: SeedContext) -> None:
    client = demo_client(seed.workspace, seed.ctx.settings.default_workspace)
    rt = runtime.get(seed.ctx)
    if await seed.session.scalar(select(PscClientRow.client_id).where(
            PscClientRow.client_id == client.client_id)) is None:
        seed.session.add(rt.clients.row(client))


def _endpoints(settings: Settings) -> list[Endpoint]:
    issuer = f"{settings.base_url}/psc/realms/{REALM}"
    demo = demo_client_id(settings.default_workspace, settings.default_workspace)
    return [
        Endpoint("PSC discovery", f"{issuer}/.well-known/wallet-openid-configuration"),
        Endpoint("PSC demo login (browser)", f"{settings.base_url}/psc/demo/"),
        Endpoint(f"PSC demo client: {demo} (secret: mes-sandbox psc client list)",
                 f"{settings.base_url}/psc/demo/callback"),
        Endpoint("PSC test persona (login_hint)", "899700218896 (Dr ROBERT SPECIALISTE0021889)"),
    ]


service = Service(
    name="psc",
    title="Pro Santé Connect",
    routers=_routers,
    error_renderers={"/psc": oauth_renderer},
    fault_kinds=FAULT_KINDS,
    migrations=Path(__file__).parent / "migrations" / "versions",
    on_seed=_seed,
    on_startup=_startup,
    endpoints=_endpoints,
)
