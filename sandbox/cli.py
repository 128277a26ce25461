"""``mes-sandbox`` command line (typer + rich): serve, seed, reset, workspace, personas, pki.

Services add their own commands through ``Service.cli`` (e.g. ``validate``, ``psc client add``).
Commands that touch the database run the same domain code as the HTTP API, in-process.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from sandbox import __version__, migrate
from sandbox.context import SandboxContext
from sandbox.errors import ProblemError
from sandbox.personas.model import PersonaKind
from sandbox.pki import CertKind, TestPKI
from sandbox.services import discover
from sandbox.settings import Settings

T = TypeVar("T")
console = Console()
if not console.is_terminal:  # logs and pipes: never cut URLs to fit 80 columns
    console = Console(width=200)
app = typer.Typer(help="mes-sandbox: offline French national e-health foundations + conformance runner.",
                  no_args_is_help=True, add_completion=False)
workspace_app = typer.Typer(help="Create, list, reset and delete workspaces.", no_args_is_help=True)
personas_app = typer.Typer(help="Read the seeded personas.", no_args_is_help=True)
pki_app = typer.Typer(help="Test PKI (IGC-Santé look-alike, marked TEST).", no_args_is_help=True)
app.add_typer(workspace_app, name="workspace")
app.add_typer(personas_app, name="personas")
app.add_typer(pki_app, name="pki")


def _version(value: bool) -> None:
    if value:
        console.print(f"mes-sandbox {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="Print the version and exit.")) -> None:
    """mes-sandbox command line."""


def with_context(fn: Callable[[SandboxContext], Awaitable[T]]) -> T:
    """Run ``fn`` against a migrated database with the default workspace present."""

    async def _run() -> T:
        services = discover()
        ctx = SandboxContext(settings=Settings(), services=services)
        ctx.pki.ensure()
        await migrate.upgrade(ctx.db, services)
        await ctx.recorder.start()
        try:
            await ctx.workspaces.ensure(ctx.settings.default_workspace)
            return await fn(ctx)
        finally:
            await ctx.recorder.stop()
            await ctx.db.dispose()

    try:
        return asyncio.run(_run())
    except ProblemError as exc:
        console.print(f"[red]error:[/red] {exc.detail}")
        raise typer.Exit(1) from None


def endpoint_table(settings: Settings) -> Table:
    table = Table(title=f"mes-sandbox {__version__} — {settings.base_url}", show_lines=False)
    table.add_column("service")
    table.add_column("endpoint")
    table.add_column("url")
    for svc in discover():
        if svc.endpoints:
            for ep in svc.endpoints(settings):
                table.add_row(svc.name, ep.label, ep.url)
    return table


@app.command()
def serve(host: str = typer.Option(None, help="Override MES_SANDBOX_HOST."),
          port: int = typer.Option(None, help="Override MES_SANDBOX_PORT."),
          workers: int = typer.Option(None, min=1, max=64, help="Override MES_SANDBOX_WORKERS."),
          take_over: bool = typer.Option(False, "--take-over-public-base-url",
                                         help="Record this node's public base URL in the database even if "
                                         "another one is recorded (MES_SANDBOX_TAKE_OVER_PUBLIC_BASE_URL).")) -> None:
    """Start the sandbox (migrations and seeding happen on the way) and print its endpoints."""
    from sandbox.app import create_app
    from sandbox.server import Servers, bind, run
    from sandbox.workers import run_workers

    overrides: dict[str, Any] = {}
    if host:
        overrides["host"] = host
    if port is not None:
        overrides["port"] = port
    if workers is not None:
        overrides["workers"] = workers
    if take_over:
        overrides["take_over_public_base_url"] = True
    settings = Settings(**overrides)
    console.print(endpoint_table(settings))
    console.print(f"database: {settings.database_url.split('@')[-1]}   data: {settings.data_dir}")
    if settings.https_enabled:
        console.print(f"HTTPS (test PKI, optional client certificates): https://{settings.host}:{settings.https_port}"
                      f"   trust anchor: {settings.pki_dir / 'ca-bundle.pem'}")
    try:
        sockets = (bind(settings.host, settings.port),
                   bind(settings.host, settings.https_port) if settings.https_enabled else None)
    except OSError as exc:
        console.print(f"[red]error:[/red] cannot listen on {settings.host}: {exc.strerror}")
        raise typer.Exit(1) from None
    if settings.workers > 1:
        console.print(f"{settings.workers} worker processes")
        raise typer.Exit(run_workers(overrides, *sockets, count=settings.workers))
    servers = Servers(create_app(settings), *sockets, log_level="info")
    run(servers.serve())


@app.command()
def seed(workspace: str = typer.Option("default", help="Workspace to create and seed if missing.")) -> None:
    """Create the database, the test PKI and a seeded workspace without starting the server."""

    async def _do(ctx: SandboxContext) -> None:
        ws = await ctx.workspaces.ensure(workspace)
        page = await ctx.personas.list(ws.name)
        console.print(f"workspace [bold]{ws.name}[/bold]: {page.total} personas "
                      f"(seed {ctx.settings.world_seed})")

    with_context(_do)


@app.command()
def reset(workspace: str = typer.Argument("default")) -> None:
    """Reset a workspace to its seeded world (same as ``workspace reset``)."""
    workspace_reset(workspace)


@workspace_app.command("list")
def workspace_list() -> None:
    async def _do(ctx: SandboxContext) -> None:
        table = Table("name", "title", "created", "seeded")
        for w in await ctx.workspaces.list():
            table.add_row(w.name, w.title, w.created_at.isoformat(timespec="seconds"),
                          w.seeded_at.isoformat(timespec="seconds") if w.seeded_at else "")
        console.print(table)

    with_context(_do)


@workspace_app.command("create")
def workspace_create(name: str, title: str = typer.Option("", help="Human-readable title.")) -> None:
    async def _do(ctx: SandboxContext) -> None:
        ws = await ctx.workspaces.create(name, title)
        console.print(f"created workspace [bold]{ws.name}[/bold]")

    with_context(_do)


@workspace_app.command("reset")
def workspace_reset(name: str) -> None:
    async def _do(ctx: SandboxContext) -> None:
        await ctx.workspaces.reset(name)
        console.print(f"workspace [bold]{name}[/bold] reset to its seeded world")

    with_context(_do)


@workspace_app.command("delete")
def workspace_delete(name: str) -> None:
    async def _do(ctx: SandboxContext) -> None:
        await ctx.workspaces.delete(name)
        console.print(f"deleted workspace [bold]{name}[/bold]")

    with_context(_do)


@personas_app.command("list")
def personas_list(
    kind: PersonaKind | None = typer.Option(None, "--kind", help="Only this kind."),
    workspace: str = typer.Option("default", "--workspace", "-w"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    limit: int = typer.Option(0, help="At most this many (0 = all)."),
) -> None:
    """List the personas of a workspace."""

    async def _do(ctx: SandboxContext) -> None:
        await ctx.workspaces.require(workspace)
        page = await ctx.personas.list(workspace, kind.value if kind else None, limit=limit or None)
        if as_json:
            print(json.dumps(page.items, ensure_ascii=False, indent=1))
            return
        table = Table("kind", "id", "label", "details", title=f"{page.total} personas in {workspace}")
        for p in page.items:
            details = {
                "patient": lambda p: f"{p['sex']} {p['birth_date']} {p['birth_place']} INS {p['matricule']} "
                                     f"{p['identity_status']}",
                "professional": lambda p: f"{p['profession_label']} {p['savoir_faire']}".strip(),
                "organisation": lambda p: f"FINESS {p['finess_et']} {p['sector']}",
                "mailbox": lambda p: f"{p['type']} {p['owner_id']}",
            }[p["kind"]](p)
            table.add_row(p["kind"], p["id"], _label(p), details)
        console.print(table)

    with_context(_do)


def _label(p: dict[str, Any]) -> str:
    if p["kind"] == "patient":
        return f"{p['birth_name']} {' '.join(p['first_names'])}"
    if p["kind"] == "professional":
        return f"{p['given_name']} {p['family_name']}"
    if p["kind"] == "organisation":
        return p["name"]
    return p["id"]


@pki_app.command("issue")
def pki_issue(
    kind: CertKind = typer.Option(..., "--kind", help="server | organisation | professional"),
    subject: str = typer.Option(..., "--subject", help="DNS name, organisation CN (e.g. INSI-AUTO) or RPPS/IDNPS"),
    out: Path = typer.Option(..., "--out", help="Folder to write cert.pem, key.pem, chain.pem, cert.p12"),
    identifier: str = typer.Option("", help="FINESS (organisation) or RPPS/IDNPS (professional)"),
    organisation: str = typer.Option("", help="Organisation name (O=) for organisation certificates"),
    password: str = typer.Option("", help="PKCS#12 password (none by default)"),
) -> None:
    """Issue a certificate from the test CA."""
    settings = Settings()
    pki = TestPKI(settings.pki_dir)
    pki.ensure()
    issued = pki.issue(kind, subject, out, identifier=identifier, organisation=organisation, password=password)
    for label, path in (("certificate", issued.cert_pem), ("private key", issued.key_pem),
                        ("chain", issued.chain_pem), ("PKCS#12", issued.p12)):
        console.print(f"{label:12} {path}")
    console.print(f"trust anchor {pki.ca_bundle}")


def _register_services() -> None:
    for svc in discover():
        if svc.cli:
            svc.cli(app)


def main() -> None:
    _register_services()
    app()
