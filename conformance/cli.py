"""``mes-sandbox conformance`` commands: ``list``, ``run``, ``verify``, ``coverage``, ``explain``,
(``mes-sandbox pki show``, in the sandbox CLI, prints the report-signing key). ``run`` talks to a running
sandbox over HTTP; the others work offline."""

from __future__ import annotations

import functools
import json
import ssl
from pathlib import Path

import httpx
import typer
from rich.console import Console
from rich.table import Table

from conformance.catalogue import coverage, load_catalogue
from conformance.cli_run import CliFailure, ExitCode, RunRequest, execute
from conformance.model import UnknownIdError
from conformance.registry import SuiteRegistry
from sandbox.operator_key import cli_api_headers
from sandbox.settings import Settings

console = Console()
if not console.is_terminal:
    console = Console(width=200)


def _settings() -> Settings:
    """The sandbox settings from the environment (pydantic-settings fills every field)."""
    return Settings()  # type: ignore[call-arg]


@functools.cache
def _tls() -> ssl.SSLContext:
    """One TLS context for every client of the command: loading the CA bundle costs ~0.1 s each time."""
    return httpx.create_ssl_context()


def http_client(url: str | None) -> httpx.Client:
    """The HTTP client of the commands that talk to a running sandbox (one place to swap); it carries
    the operator key read from this machine's data dir (``/conformance/api`` needs a key)."""
    settings = _settings()
    return httpx.Client(base_url=(url or settings.base_url).rstrip("/"), timeout=30,
                        headers=cli_api_headers(settings), verify=_tls())


def _lang(lang: str | None) -> str:
    return lang or _settings().language


def _fail(exc: CliFailure) -> typer.Exit:
    console.print(f"[red]error:[/red] {exc.message}")
    return typer.Exit(int(exc.code))


def register(app: typer.Typer) -> None:
    conf = typer.Typer(help="Conformance suites: run, verify a report, coverage of requirements.",
                       no_args_is_help=True)
    app.add_typer(conf, name="conformance")

    @conf.command("list")
    def list_suites() -> None:
        """List the registered suites and their tests."""
        suites = SuiteRegistry.discover().all()
        if not suites:
            console.print("no suite registered")
        for s in suites:
            table = Table("test", "title", "verifies", title=f"{s.id} {s.version} — {s.title.get(_lang(None))}")
            for ref in s.tests():
                table.add_row(ref.full_id, ref.test.title.get(_lang(None)), ", ".join(ref.test.verifies))
            console.print(table)

    @conf.command("run")
    def run(
        suite: str = typer.Argument(..., help="Suite id, e.g. dpi-ldl"),
        workspace: str = typer.Option(None, "--workspace", "-w", help="Workspace (default: the sandbox's default)"),
        only: list[str] = typer.Option([], "--only", help="Test or group id to run (repeat)"),
        preset: Path = typer.Option(None, "--preset", help="JSON file: input name → value"),
        json_out: Path = typer.Option(None, "--json", help="Write the signed JSON report here"),
        html_out: Path = typer.Option(None, "--html", help="Write the HTML report here"),
        junit_out: Path = typer.Option(None, "--junit", help="Write JUnit XML here"),
        sarif_out: Path = typer.Option(None, "--sarif", help="Write SARIF 2.1.0 here"),
        evidence: Path = typer.Option(None, "--evidence", help="Download the cited evidence bodies here"),
        simulate: bool = typer.Option(False, "--simulate", help="Play the vendor with the reference simulator"),
        simulate_fault: list[str] = typer.Option([], "--simulate-fault", help="Simulator fault to inject (repeat)"),
        lang: str = typer.Option(None, "--lang", help="fr | en"),
        step_timeout: float = typer.Option(None, "--step-timeout", help="Seconds each waiting step waits"),
        quiet: float = typer.Option(None, "--quiet-window", help="Seconds without a new call that end a step's "
                                    "trailing calls (default 0.15; raise it for a slow or human-driven software)"),
        url: str = typer.Option(None, "--url", help="Sandbox base URL (default: MES_SANDBOX_PUBLIC_BASE_URL or "
                                                    "http://127.0.0.1:8080)"),
    ) -> None:
        """Run a suite against the software pointed at the sandbox; exit 0 pass, 3 fail, 4 error, 2 usage."""
        if simulate_fault and not simulate:
            console.print("[red]error:[/red] --simulate-fault needs --simulate")
            raise typer.Exit(int(ExitCode.USAGE))
        req = RunRequest(suite, workspace, only, preset, lang, step_timeout, simulate, simulate_fault,
                         {"json": json_out, "html": html_out, "junit": junit_out, "sarif": sarif_out}, evidence,
                         quiet)
        try:
            code = execute(req, lambda: http_client(url), console, _lang(lang), _settings().default_workspace)
        except CliFailure as exc:
            raise _fail(exc) from None
        raise typer.Exit(int(code))

    @conf.command("verify")
    def verify(
        report: Path = typer.Argument(..., help="Signed JSON report"),
        evidence: Path = typer.Option(None, "--evidence", help="Folder of evidence bodies named by SHA-256"),
        key: Path = typer.Option(None, "--key", help="Trusted public key: JWK (JSON) or PEM. Default: this "
                                                     "machine's sandbox signing key"),
        lang: str = typer.Option(None, "--lang", help="fr | en"),
    ) -> None:
        """Check a report's signature and hashes offline; name exactly what was altered."""
        from conformance import signing
        from conformance.verify import verify_report
        lg = _lang(lang)
        try:
            data = report.read_bytes()
        except OSError as exc:
            console.print(f"[red]error:[/red] {report}: {exc.strerror}")
            raise typer.Exit(int(ExitCode.USAGE)) from None
        if evidence is not None and not evidence.is_dir():
            console.print(f"[red]error:[/red] {evidence}: not a folder")
            raise typer.Exit(int(ExitCode.USAGE))
        trusted = None
        try:
            if key is not None:
                raw = key.read_bytes()
                trusted = signing.import_public(json.loads(raw) if raw.lstrip().startswith(b"{") else raw)
            else:
                trusted = signing.local_public(_settings().pki_dir)
        except (OSError, ValueError) as exc:
            console.print(f"[red]error:[/red] cannot read the trusted key: {exc}")
            raise typer.Exit(int(ExitCode.USAGE)) from None
        if trusted is None:
            console.print("[red]error:[/red] no trusted key: pass --key with the JWK served at "
                          "<sandbox>/conformance/api/signing-key (or printed by mes-sandbox pki show)")
            raise typer.Exit(int(ExitCode.USAGE))
        result = verify_report(data, trusted, evidence)
        if result.ok:
            rep = result.report or {}
            console.print(f"[green]OK[/green] {report}: signature valid (kid {result.kid}), "
                          f"{len(rep.get('tests', []))} test results intact"
                          + (f", {result.evidence_checked} evidence bodies match" if evidence else "")
                          + f"; verdict {rep.get('verdict')}")
            raise typer.Exit(int(ExitCode.PASS))
        for p in result.problems:
            console.print(f"[red]ALTERED[/red] {p.where}: {p.text.get(lg)} [dim]({p.id})[/dim]")
        raise typer.Exit(int(ExitCode.FAIL))

    @conf.command("coverage")
    def coverage_cmd(suite: str = typer.Argument(None, help="Suite id (default: all suites)")) -> None:
        """Requirements in each suite's scope and the tests covering them (gaps in red)."""
        reg = SuiteRegistry.discover()
        cat = load_catalogue()
        try:
            suites = [reg.get(suite)] if suite else reg.all()
        except UnknownIdError as exc:
            console.print(f"[red]error:[/red] unknown suite {exc.given!r} (suites: {', '.join(exc.known) or 'none'})")
            raise typer.Exit(int(ExitCode.USAGE)) from None
        if not suites:
            console.print("no suite registered")
        for s in suites:
            cov = coverage(s, cat)
            table = Table("requirement", "level", "status", "tests / reason", title=f"{s.id} {s.version}")
            for row in cov.rows:
                color = {"tested": "green", "not-tested": "yellow", "gap": "red"}[row.status]
                detail = ", ".join(row.tests) if row.tests else (
                    row.requirement.not_tested.get(_lang(None)) if row.requirement.not_tested else "")
                table.add_row(row.requirement.id, str(row.requirement.level), f"[{color}]{row.status}[/]", detail)
            console.print(table)
            for test_id, rid in cov.unknown:
                console.print(f"[red]unknown requirement[/red] {rid} (verified by {test_id})")
            console.print(f"{s.id}: {sum(r.status == 'tested' for r in cov.rows)} tested, "
                          f"{sum(r.status == 'not-tested' for r in cov.rows)} not tested with a reason, "
                          f"{len(cov.gaps())} SHALL gaps")

    @conf.command("explain")
    def explain(ident: str = typer.Argument(..., help="Test, group, suite or requirement id")) -> None:
        """What a test checks and which requirements it verifies, or what a requirement says."""
        reg = SuiteRegistry.discover()
        cat = load_catalogue()
        lg = _lang(None)
        req = cat.get(ident)
        if req is not None:
            console.print(f"[bold]{req.id}[/bold] ({req.level}, {req.source} — {req.section}, actor {req.actor})")
            console.print(req.text_fr)
            tests = [r.full_id for s in reg.all() for r in s.tests() if req.id in r.test.verifies]
            console.print("verified by: " + (", ".join(tests) if tests else (
                f"not tested — {req.not_tested.get(lg)}" if req.not_tested else "[red]no test[/red]")))
            return
        try:
            s = reg.get(ident.split(".", 1)[0])
            refs = s.select([ident]) if "." in ident else list(s.tests())
        except UnknownIdError as exc:
            console.print(f"[red]error:[/red] {ident!r} names no suite, group, test or requirement")
            if exc.known:
                console.print("known: " + ", ".join(exc.known[:30]))
            raise typer.Exit(int(ExitCode.USAGE)) from None
        if "." not in ident:
            console.print(f"[bold]{s.id}[/bold] {s.version} — {s.title.get(lg)}\n{s.description.get(lg)}")
        for ref in refs:
            console.print(f"\n[bold]{ref.full_id}[/bold] {ref.test.title.get(lg)}"
                          + (" (optional)" if ref.test.optional else ""))
            if ref.test.description.get(lg):
                console.print(ref.test.description.get(lg))
            for rid in ref.test.verifies:
                r = cat.get(rid)
                console.print(f"  verifies {rid}: " + (f"{r.level} {r.text_fr}" if r else "[red]unknown[/red]"))
