"""Service registry: how a service package plugs itself into the sandbox.

Each service package (``psc``, ``ins``, ``dmp``, ``mss``, ``profiles``, ``conformance``) exposes one
:class:`Service` object and declares it in ``pyproject.toml`` under the entry-point group
``mes_sandbox.services``. :func:`discover` loads them all; the app factory, the CLI, the fault
registry, the migrations and the seeding only ever iterate over that list — there is no central
``if name == ...`` anywhere (STYLE §9, "registries, not switches").

Commands of ``mes-sandbox`` are registered apart from services, so that ``mes-sandbox --help`` and
the small HTTP client commands start without importing any service (FastAPI, SQLAlchemy, the
validator...). The contract, for every package that adds commands:

1. a small module, by convention ``<package>/commands.py``, whose module level imports nothing
   but :mod:`sandbox.services` (this module: standard library only), defines one
   :class:`Command` per top-level command name. It is read from its file without running its
   package's ``__init__`` (which may import a whole public API), so it must not import from its
   own package::

       from sandbox.services import Command
       command = Command("psc", "Pro Santé Connect: clients, signing keys, tokens.", "psc.cli:register")

2. one entry-point line per command in ``pyproject.toml``, group ``mes_sandbox.commands``
   (:data:`COMMANDS_GROUP`), the entry point's name being the command name::

       [project.entry-points."mes_sandbox.commands"]
       psc = "psc.commands:command"

3. ``target`` (``"module:function"``) names a function ``register(app: typer.Typer) -> None`` that
   adds exactly one command or sub-app named ``Command.name`` to ``app``. It is imported only when
   that command runs (or its own ``--help`` is asked for); ``mes-sandbox --help`` shows
   ``Command.help`` without importing it. The target module may import what it needs, but a
   command that only talks HTTP to a running sandbox should keep its heavy imports inside the
   command's body (build its client with :mod:`sandbox.cli_http`).

:class:`Service` no longer has a ``cli`` hook: the registry above replaced it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported for type checkers only: protocol modules stay FastAPI-free
    from fastapi import APIRouter

    from sandbox.context import SandboxContext
    from sandbox.seeding import SeedContext
    from sandbox.settings import Settings

ENTRY_POINT_GROUP = "mes_sandbox.services"
COMMANDS_GROUP = "mes_sandbox.commands"

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
class Command:
    """A top-level ``mes-sandbox`` command, loaded only when it runs (see the module docstring)."""

    name: str
    #: one line shown by ``mes-sandbox --help``, in English like the rest of the help
    help: str
    #: ``"module:function"``; the function adds the command ``name`` to the typer app it is given
    target: str


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


def discover_commands() -> list[Command]:
    """Every registered :class:`Command` (their target modules are not imported), sorted by name."""
    found: dict[str, Command] = {}
    for ep in entry_points(group=COMMANDS_GROUP):
        cmd = load_without_package(ep.value)
        if not isinstance(cmd, Command) or cmd.name != ep.name:
            raise TypeError(f"entry point {ep.name!r} of {COMMANDS_GROUP} is not a Command named {ep.name!r}")
        if cmd.name in found:
            raise ValueError(f"two commands registered under the name {cmd.name!r}")
        found[cmd.name] = cmd
    return [found[n] for n in sorted(found)]


def load_without_package(value: str) -> Any:
    """The object ``module:attr`` names, the module executed from its file alone: its package's
    ``__init__`` is not run (``import profiles.commands`` would first import all of ``profiles``)."""
    import importlib
    import importlib.util

    module, _, attr = value.partition(":")
    top, _, rest = module.partition(".")
    spec = importlib.util.find_spec(top)
    locations = list(spec.submodule_search_locations or []) if spec else []
    path = Path(locations[0], *rest.split(".")).with_suffix(".py") if rest and locations else None
    if path is None or not path.is_file():
        return getattr(importlib.import_module(module), attr.strip())
    file_spec = importlib.util.spec_from_file_location(f"_mes_sandbox_commands.{module}", path)
    assert file_spec is not None and file_spec.loader is not None
    loaded = importlib.util.module_from_spec(file_spec)
    file_spec.loader.exec_module(loaded)
    return getattr(loaded, attr.strip())
