"""Registration of the ``conformance`` service with the sandbox (see sandbox/services.py).

Runs live inside the sandbox server and in its database (``conformance/migrations``, branch label
``conformance``); ``/conformance/api`` is the HTTP surface the ``mes-sandbox conformance`` commands
talk to. :func:`make_service` lets tests add suites of their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from conformance.model import Suite
from sandbox.services import Endpoint, Service

if TYPE_CHECKING:
    from fastapi import APIRouter

    from sandbox.context import SandboxContext
    from sandbox.settings import Settings


def make_service(extra_suites: Sequence[Suite] = ()) -> Service:
    def _routers(ctx: SandboxContext) -> list[APIRouter]:
        from conformance import engine, routes

        engine.runtime(ctx, extra_suites)
        return [routes.build(ctx)]

    async def _startup(ctx: SandboxContext) -> None:
        from conformance import engine

        rt = engine.runtime(ctx, extra_suites)
        await rt.load_key()  # after the sandbox synced the test PKI: the same PKI secret opens both
        await rt.store.interrupt_stale()

    async def _shutdown(ctx: SandboxContext) -> None:
        from conformance import engine

        rt = engine.runtime(ctx, extra_suites)
        for task in list(rt.tasks.values()):
            task.cancel()
        for task in list(rt.tasks.values()):
            try:
                await task
            except BaseException:  # noqa: BLE001 - a cancelled run ends as cancelled, nothing to raise
                pass

    def _endpoints(settings: Settings) -> list[Endpoint]:
        return [Endpoint("Conformance API", f"{settings.base_url}/conformance/api/suites"),
                Endpoint("Report signing key (JWK)", f"{settings.base_url}/conformance/api/signing-key")]

    return Service(
        name="conformance",
        title="Conformance runner",
        routers=_routers,
        migrations=Path(__file__).parent / "migrations" / "versions",
        on_startup=_startup,
        on_shutdown=_shutdown,
        endpoints=_endpoints,
    )


service = make_service()
