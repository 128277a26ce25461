"""``mes-sandbox`` command line (typer): serve, seed, reset, workspace, personas, pki, and the
everyday tasks against a running sandbox (exchanges, faults, samples; ``psc token``,
``dmp provide``, ``insi search`` come from their services).

Start-up speed is a feature here (``mes-sandbox --help`` is what a newcomer types first): this
module imports typer and the standard library only; each command imports what it needs when it
runs. Services add commands through the lazy registry of :mod:`sandbox.services` (entry-point group
``mes_sandbox.commands``): their modules are imported only when their command runs.

Commands that touch the database (``seed``, ``workspace``, ``personas``, ``psc client``) run the
same domain code as the HTTP API, in-process, on the data folder of the settings.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

import typer
from typer.core import TyperCommand, TyperGroup

from sandbox import __version__
from sandbox.cli_messages import CliMsg, say
from sandbox.cli_pki import pki_app
from sandbox.personas.model import PersonaKind
from sandbox.services import Command, discover_commands

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from sandbox.context import SandboxContext
    from sandbox.settings import Settings

T = TypeVar("T")


class LazyGroup(TyperGroup):
    """The root group: its own commands, plus the registered :class:`Command` s, which are listed
    with their one-line help and imported only when they run."""

    lazy: dict[str, Command]

    def list_commands(self, ctx: Any) -> list[str]:
        return sorted({*super().list_commands(ctx), *getattr(self, "lazy", {})})

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        found = super().get_command(ctx, cmd_name)
        spec = getattr(self, "lazy", {}).get(cmd_name)
        if found is not None or spec is None:
            return found
        return TyperCommand(spec.name, help=spec.help, short_help=spec.help)  # listing only

    def resolve_command(self, ctx: Any, args: list[str]) -> tuple[str | None, Any, list[str]]:
        name, cmd, rest = super().resolve_command(ctx, args)
        spec = getattr(self, "lazy", {}).get(name or "")
        if spec is not None and name not in self.commands:
            cmd = load_command(spec)
            self.commands[spec.name] = cmd
        return name, cmd, rest


def load_command(spec: Command) -> Any:
    """Import ``spec.target`` and return the click command it registers under ``spec.name``."""
    from sandbox.services import load_without_package

    # the target module alone, not its package's __init__ (``psc``'s whole public API would cost a
    # second before ``psc token`` could start); what a command body imports loads when it runs
    register = load_without_package(spec.target)
    holder = typer.Typer()
    register(holder)

    @holder.callback()
    def _holder() -> None:  # a callback keeps typer from flattening a one-command app
        """Holder."""

    group = typer.main.get_group(holder)
    if spec.name not in group.commands:
        raise RuntimeError(f"{spec.target} registered no command named {spec.name!r}")
    return group.commands[spec.name]


app = typer.Typer(cls=LazyGroup, help="mes-sandbox: offline French national e-health foundations "
                  "(Pro Santé Connect, INSi, DMP, MSSanté) and conformance runner.",
                  no_args_is_help=True, add_completion=False)
workspace_app = typer.Typer(help="Create, list, reset and delete workspaces.", no_args_is_help=True)
personas_app = typer.Typer(help="Read the seeded personas.", no_args_is_help=True)
operator_key_app = typer.Typer(help="The operator key of /sandbox/api (all workspaces).", no_args_is_help=True)
app.add_typer(operator_key_app, name="operator-key")
app.add_typer(workspace_app, name="workspace")
app.add_typer(personas_app, name="personas")
app.add_typer(pki_app, name="pki")  # sandbox/cli_pki.py


def console() -> Console:
    from rich.console import Console

    con = Console()
    return con if con.is_terminal else Console(width=200)  # logs and pipes: never cut URLs to fit 80 columns


def _version(value: bool) -> None:
    if value:
        typer.echo(f"mes-sandbox {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="Print the version and exit.")) -> None:
    """mes-sandbox command line."""


def with_context(fn: Callable[[SandboxContext], Awaitable[T]]) -> T:
    """Run ``fn`` against a migrated database of the settings' data folder, with the default workspace
    present; warn on stderr when that folder held no sandbox yet (a command run from elsewhere or
    with another ``MES_SANDBOX_DATA_DIR`` than the server's)."""
    import asyncio

    from sandbox import migrate, pki_store
    from sandbox.context import SandboxContext
    from sandbox.credentials import secure_data_files
    from sandbox.db_bootstrap import DatabaseMissing, ensure_database
    from sandbox.errors import ProblemError
    from sandbox.services import discover
    from sandbox.settings import from_environment

    database_url = from_environment().database_url
    try:  # as serve does: a missing PostgreSQL database is created, or one line says how
        if ensure_database(database_url):
            typer.echo(say(CliMsg.DATABASE_CREATED, name=database_url.rsplit("/", 1)[-1]), err=True)
    except DatabaseMissing as exc:
        typer.echo(say(CliMsg.DATABASE_MISSING, name=exc.name, reason=exc.reason), err=True)
        raise typer.Exit(1) from None

    async def _run() -> T:
        services = discover()
        ctx = SandboxContext(settings=from_environment(), services=services)
        secure_data_files(ctx.settings.data_dir, ctx.settings.database_url)
        await migrate.upgrade(ctx.db, services)
        await pki_store.sync(ctx.pki, ctx.db, ctx.settings.pki_secret_path)  # dur: the database's CA
        await ctx.recorder.start()
        try:
            if not await ctx.workspaces.list():
                typer.echo(say(CliMsg.EMPTY_DATA_DIR, path=ctx.settings.data_dir.resolve()), err=True)
            await ctx.workspaces.ensure(ctx.settings.default_workspace)
            return await fn(ctx)
        finally:
            await ctx.recorder.stop()
            await ctx.db.dispose()

    try:
        return asyncio.run(_run())
    except ProblemError as exc:
        from sandbox.cli_messages import language
        from sandbox.problem_texts import by_kind
        from sandbox.user_language import Text

        lang = language()  # the platform's own errors, in the command's language like its other messages
        detail = (exc.detail.in_language(lang) if isinstance(exc.detail, Text)
                  else by_kind(exc.kind, exc.detail, exc.extensions, lang))
        console().print(say(CliMsg.ERROR, detail=detail), markup=False)
        raise typer.Exit(1) from None


def endpoint_table(settings: Settings) -> Table:
    """The banner's table: what is served, and only that (no HTTPS line when HTTPS is off)."""
    from rich.table import Table

    from sandbox.services import discover

    table = Table(title=f"mes-sandbox {__version__} — {settings.base_url}", show_lines=False)
    table.add_column("service")
    table.add_column("endpoint")
    table.add_column("url")
    for svc in discover():
        if svc.endpoints:
            for ep in svc.endpoints(settings):
                if ep.url.startswith("https://") and not settings.https_enabled:
                    continue
                table.add_row(svc.name, ep.label, ep.url)
    return table


@app.command()
def serve(host: str = typer.Option(None, help="Override MES_SANDBOX_HOST."),
          port: int = typer.Option(None, help="Override MES_SANDBOX_PORT."),
          workers: int = typer.Option(None, min=1, max=64, help="Override MES_SANDBOX_WORKERS."),
          open_api: bool = typer.Option(False, "--open", help="Single-user laptop: /sandbox/api needs no key "
                                        "(refused unless bound to a loopback address)."),
          take_over: bool = typer.Option(False, "--take-over-public-base-url",
                                         help="Record this node's public base URL in the database even if "
                                         "another one is recorded (MES_SANDBOX_TAKE_OVER_PUBLIC_BASE_URL).")) -> None:
    """Start the sandbox (migrations and seeding happen on the way) and print its endpoints."""
    from sandbox import install_check
    from sandbox.settings import from_environment

    broken = install_check.problems()
    if broken:
        for problem in broken:
            typer.echo(say(CliMsg.BROKEN_INSTALL, problem=problem), err=True)
        raise typer.Exit(1)
    from sandbox.app import create_app
    from sandbox.credentials import ensure_operator_key
    from sandbox.db_bootstrap import DatabaseMissing, ensure_database
    from sandbox.server import Servers, bind, run
    from sandbox.workers import run_workers

    overrides: dict[str, Any] = {}
    if host:
        overrides["host"] = host
    if port is not None:
        overrides["port"] = port
    if workers is not None:
        overrides["workers"] = workers
    if open_api:
        overrides["open_api"] = True
    if take_over:
        overrides["take_over_public_base_url"] = True
    try:
        settings = from_environment(**overrides)
    except ValueError as exc:  # e.g. --open with a non-loopback bind
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    try:
        if ensure_database(settings.database_url):
            typer.echo(say(CliMsg.DATABASE_CREATED, name=settings.database_url.rsplit("/", 1)[-1]))
    except DatabaseMissing as exc:
        typer.echo(say(CliMsg.DATABASE_MISSING, name=exc.name, reason=exc.reason), err=True)
        raise typer.Exit(1) from None
    try:
        sockets = (bind(settings.host, settings.port),
                   bind(settings.host, settings.https_port) if settings.https_enabled else None)
    except OSError as exc:
        typer.echo(say(CliMsg.CANNOT_LISTEN, host=settings.host, port=f"{settings.port}/{settings.https_port}",
                        reason=exc.strerror))
        raise typer.Exit(1) from None
    con = console()
    con.print(endpoint_table(settings))
    con.print(say(CliMsg.DATA_DIR, path=settings.data_dir.resolve(),
                  database=settings.database_url.split("@")[-1]), markup=False)
    if settings.https_enabled:
        con.print(say(CliMsg.HTTPS_LISTENER, url=f"https://{settings.host}:{settings.https_port}",
                      bundle=settings.pki_dir.resolve() / "ca-bundle.pem"), markup=False)
    key, created = ensure_operator_key(settings.data_dir, settings.operator_key)
    if settings.open_api:
        con.print(say(CliMsg.OPEN_API), markup=False)
    elif created:
        con.print(say(CliMsg.OPERATOR_KEY_FIRST, key=key), markup=False, soft_wrap=True)
    if settings.workers > 1:
        con.print(say(CliMsg.WORKERS, count=settings.workers))
        raise typer.Exit(run_workers(overrides, *sockets, count=settings.workers))
    servers = Servers(create_app(settings), *sockets, log_level="info")
    run(servers.serve())


@operator_key_app.command("show")
def operator_key_show() -> None:
    """Print the operator key (``Authorization: Bearer <key>`` on /sandbox/api)."""
    from sandbox.credentials import ensure_operator_key
    from sandbox.settings import from_environment

    settings = from_environment()
    typer.echo(ensure_operator_key(settings.data_dir, settings.operator_key)[0])


@operator_key_app.command("rotate")
def operator_key_rotate() -> None:
    """Replace the operator key; running servers accept only the new one within a second."""
    from sandbox.credentials import rotate_operator_key
    from sandbox.settings import from_environment

    settings = from_environment()
    if settings.operator_key:
        typer.echo(say(CliMsg.ERROR, detail=say(CliMsg.OPERATOR_KEY_FROM_ENV)), err=True)
        raise typer.Exit(1)
    typer.echo(rotate_operator_key(settings.data_dir))


@app.command()
def seed(workspace: str = typer.Option("default", help="Workspace to create and seed if missing.")) -> None:
    """Create the database, the test PKI and a seeded workspace without starting the server."""

    async def _do(ctx: SandboxContext) -> None:
        ws = await ctx.workspaces.ensure(workspace)
        page = await ctx.personas.list(ws.name)
        console().print(say(CliMsg.WORKSPACE_SEEDED, name=ws.name, total=page.total, seed=ctx.settings.world_seed),
                        markup=False)

    with_context(_do)


@app.command()
def reset(workspace: str = typer.Argument("default")) -> None:
    """Reset a workspace to its seeded world (same as ``workspace reset``)."""
    workspace_reset(workspace)


@workspace_app.command("list")
def workspace_list() -> None:
    """List the workspaces."""
    from rich.table import Table

    async def _do(ctx: SandboxContext) -> None:
        table = Table("name", "title", "created", "seeded")
        for w in await ctx.workspaces.list():
            table.add_row(w.name, w.title, w.created_at.isoformat(timespec="seconds"),
                          w.seeded_at.isoformat(timespec="seconds") if w.seeded_at else "")
        console().print(table)

    with_context(_do)


@workspace_app.command("create")
def workspace_create(name: str, title: str = typer.Option("", help="Human-readable title.")) -> None:
    """Create a workspace seeded with the synthetic world."""

    async def _do(ctx: SandboxContext) -> None:
        ws = await ctx.workspaces.create(name, title)
        console().print(say(CliMsg.WORKSPACE_CREATED, name=ws.name), markup=False)
        console().print(say(CliMsg.WORKSPACE_KEY, key=ws.api_key), soft_wrap=True, markup=False)

    with_context(_do)


@workspace_app.command("reset")
def workspace_reset(name: str) -> None:
    """Reset a workspace to its seeded world (documents, clients, faults and evidence go)."""

    async def _do(ctx: SandboxContext) -> None:
        await ctx.workspaces.reset(name)
        console().print(say(CliMsg.WORKSPACE_RESET, name=name), markup=False)

    with_context(_do)


@workspace_app.command("delete")
def workspace_delete(name: str) -> None:
    """Delete a workspace and everything in it."""

    async def _do(ctx: SandboxContext) -> None:
        await ctx.workspaces.delete(name)
        console().print(say(CliMsg.WORKSPACE_DELETED, name=name), markup=False)

    with_context(_do)


@personas_app.command("list")
def personas_list(
    kind: PersonaKind | None = typer.Option(None, "--kind", help="Only this kind."),
    workspace: str = typer.Option("default", "--workspace", "-w"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    limit: int = typer.Option(0, help="At most this many (0 = all)."),
) -> None:
    """List the personas of a workspace."""
    from rich.table import Table

    async def _do(ctx: SandboxContext) -> None:
        await ctx.workspaces.require(workspace)
        page = await ctx.personas.list(workspace, kind.value if kind else None, limit=limit or None)
        if as_json:
            print(json.dumps(page.items, ensure_ascii=False, indent=1))
            return
        table = Table("kind", "id", "label", "details", title=f"{page.total} personas in {workspace}")
        for p in page.items:
            table.add_row(p["kind"], p["id"], _label(p), _details(p))
        console().print(table)

    with_context(_do)


def _label(p: dict[str, Any]) -> str:
    if p["kind"] == "patient":
        return f"{p['birth_name']} {' '.join(p['first_names'])}"
    if p["kind"] == "professional":
        return f"{p['given_name']} {p['family_name']}"
    if p["kind"] == "organisation":
        return str(p["name"])
    return str(p["id"])


def _details(p: dict[str, Any]) -> str:
    if p["kind"] == "patient":
        return f"{p['sex']} {p['birth_date']} {p['birth_place']} INS {p['matricule']} {p['identity_status']}"
    if p["kind"] == "professional":
        return f"{p['profession_label']} {p['savoir_faire']}".strip()
    if p["kind"] == "organisation":
        return f"FINESS {p['finess_et']} {p['sector']}"
    return f"{p['type']} {p['owner_id']}"


def _add_tasks() -> None:
    from sandbox.cli_tasks import exchanges_app, faults_app, samples_app

    app.add_typer(exchanges_app, name="exchanges")
    app.add_typer(faults_app, name="faults")
    app.add_typer(samples_app, name="samples")


_add_tasks()


def main() -> None:
    """Entry point of the ``mes-sandbox`` script."""
    import sys

    group = typer.main.get_command(app)
    assert isinstance(group, LazyGroup)
    group.lazy = {c.name: c for c in discover_commands()}
    # A registered command runs without the root group parsing first: the root's typer options
    # (--help, --version) are coerced through pydantic, ≈ 0.25 s of import before any command
    # starts (issue 16: `mes-sandbox validate` ≤ 0.4 s). The root has no option a command needs.
    spec = group.lazy.get(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1] not in group.commands else None
    try:
        if spec is not None:
            load_command(spec).main(sys.argv[2:], prog_name=f"mes-sandbox {spec.name}")
        else:
            group(prog_name="mes-sandbox")
    finally:
        # the command is over (atexit handlers, logging's flush, still run): spare the interpreter's
        # last full collection over every object the command loaded — ≈0.5 s at exit for the
        # conformance and simulate commands (issue 18, bench/conformance_run.py --timeline)
        gc.freeze()
