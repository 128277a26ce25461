"""Service registry: how a service package plugs itself into the sandbox.

Each service package (``psc``, ``ins``, ``dmp``, ``mss``, ``profiles``, ``conformance``) exposes one
:class:`Service` object and declares it in ``pyproject.toml`` under the entry-point group
``mes_sandbox.services``. :func:`discover` loads them all; the app factory, the CLI, the fault
registry, the migrations and the seeding only ever iterate over that list — there is no central
``if name == ...`` anywhere (STYLE §9, "registries, not switches").
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported for type checkers only: protocol modules stay FastAPI-free
    import typer
    from fastapi import APIRouter

    from sandbox.context import SandboxContext
    from sandbox.seeding import SeedContext
    from sandbox.settings import Settings

ENTRY_POINT_GROUP = "mes_sandbox.services"

#: (HTTP status, human-readable detail) -> (JSON body, media type)
ErrorRenderer = Callable[[int, str], tuple[dict[str, Any], str]]


@dataclass(frozen=True)
class FaultKind:
    """A fault a service knows how to inject (see :mod:`sandbox.faults`)."""

    name: str
    description: str
    #: operations the fault applies to; empty means any operation of the service
    operations: tuple[str, ...] = ()
    #: parameter name -> description, for the 422 listing and the docs
    params: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Endpoint:
    """One line of the table ``mes-sandbox serve`` prints."""

    label: str
    url: str


@dataclass(frozen=True)
class Listener:
    """A socket server a service started beside the HTTP app (SMTP, IMAP...; DESIGN "Listeners").

    ``port`` is the port actually bound (settings may say 0 = any free port); ``close`` stops
    accepting and ends the open sessions."""

    name: str
    port: int
    close: Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class Service:
    """What a service package contributes. Every hook is optional."""

    name: str
    title: str
    #: builds the service's routers once the context exists (the app mounts them as given)
    routers: Callable[[SandboxContext], Sequence[APIRouter]] | None = None
    #: path prefixes whose error bodies must be FHIR OperationOutcome (e.g. "/dmp/fhir")
    fhir_bases: tuple[str, ...] = ()
    #: path prefix -> renderer of generic errors (unknown route, bad JSON, 413...) for prefixes
    #: that speak neither FHIR nor problem JSON, e.g. OAuth's RFC 6749 error object
    error_renderers: dict[str, ErrorRenderer] = field(default_factory=dict)
    #: fault kinds the service supports
    fault_kinds: tuple[FaultKind, ...] = ()
    #: folder of Alembic revisions for the service's own tables (branch label = service name)
    migrations: Path | None = None
    #: fills the service's tables for one workspace from the seeded world (first start and reset)
    on_seed: Callable[[SeedContext], Awaitable[None]] | None = None
    #: called after the app started / before it stops (e.g. TLS listeners)
    on_startup: Callable[[SandboxContext], Awaitable[None]] | None = None
    on_shutdown: Callable[[SandboxContext], Awaitable[None]] | None = None
    #: starts the service's own socket servers once the app has started, in every process that
    #: serves (``serve``, each worker of ``serve --workers``, the testing kit); under several
    #: workers each binds its ports with ``SO_REUSEPORT`` (``ctx.settings.workers > 1``)
    listeners: Callable[[SandboxContext], Awaitable[Sequence[Listener]]] | None = None
    #: adds commands to the ``mes-sandbox`` typer app
    cli: Callable[[typer.Typer], None] | None = None
    #: endpoints and credentials printed by ``mes-sandbox serve``
    endpoints: Callable[[Settings], Sequence[Endpoint]] | None = None
    #: free-form extras other packages may read (e.g. public Python API objects)
    extras: dict[str, Any] = field(default_factory=dict)


def discover() -> list[Service]:
    """Load every registered service, sorted by name for a deterministic order."""
    found: dict[str, Service] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        svc = ep.load()
        if not isinstance(svc, Service):
            raise TypeError(f"entry point {ep.name!r} does not point to a sandbox Service")
        if svc.name in found:
            raise ValueError(f"two services registered under the name {svc.name!r}")
        found[svc.name] = svc
    return [found[n] for n in sorted(found)]
