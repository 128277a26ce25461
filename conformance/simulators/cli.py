"""``mes-sandbox simulate dpi``: play the reference DPI alone against a running sandbox — the
exchanges a ``dpi-ldl`` run judges, with the faults the runner's driving steps would script
scripted through the sandbox's public fault API — optionally with catalogued vendor mistakes."""

from __future__ import annotations

import time

import httpx
import typer
from rich.console import Console
from rich.table import Table

from conformance.simulators.dpi import BY_NAME, FAULTS, DpiSimulator, MailEndpoints, SimulatorConfig, play
from sandbox.settings import Settings

console = Console()


def register(app: typer.Typer) -> None:
    sim = typer.Typer(help="Reference vendor simulators (they use only the wire protocols).", no_args_is_help=True)
    app.add_typer(sim, name="simulate")

    @sim.command("dpi")
    def dpi(
        url: str = typer.Option(None, "--url", help="Sandbox base URL (default: MES_SANDBOX_PUBLIC_BASE_URL or "
                                                     "http://<host>:<port>)"),
        workspace: str = typer.Option("default", "--workspace", "-w", help="Workspace the DPI works in"),
        fault: list[str] = typer.Option([], "--fault", help="Catalogued vendor mistake to copy (repeat)"),
        list_faults: bool = typer.Option(False, "--list-faults", help="List the catalogue and exit"),
        insi_url: str = typer.Option(None, "--insi-url", help="INSi endpoint (an https URL for mutual TLS)"),
        cert: str = typer.Option(None, "--cert", help="INSI-AUTO certificate (PEM) for mutual TLS"),
        key: str = typer.Option(None, "--key", help="its private key (PEM)"),
        ca: str = typer.Option(None, "--ca", help="CA bundle of the sandbox's test PKI"),
        api_key: str = typer.Option(None, "--api-key", help="Key of the sandbox's API (fault scripting, the demo "
                                                            "client's secret): the operator key or the workspace's "
                                                            "key (default: this machine's operator key)"),
        smtp: str = typer.Option(None, "--smtp", help="MSSanté SMTP (STARTTLS) as HOST:PORT (default: the URL's host "
                                                      "and MES_SANDBOX_SMTP_PORT or 2525)"),
        imap: str = typer.Option(None, "--imap", help="MSSanté IMAP (STARTTLS) as HOST:PORT (default: the URL's host "
                                                      "and MES_SANDBOX_IMAP_PORT or 2143)"),
    ) -> None:
        """Play the dpi-ldl scenario as the reference DPI and print what it did."""
        if list_faults:
            table = Table("fault", "mistake", "tests it makes fail")
            for f in FAULTS:
                table.add_row(f.name, f.en, ", ".join(f.fails))
            console.print(table)
            return
        unknown = [f for f in fault if f not in BY_NAME]
        if unknown:
            console.print(f"[red]error:[/red] unknown fault(s) {', '.join(unknown)}; see --list-faults")
            raise typer.Exit(2)
        if bool(cert) != bool(key):
            console.print("[red]error:[/red] --cert and --key go together")
            raise typer.Exit(2)
        base = (url or Settings().base_url).rstrip("/")  # type: ignore[call-arg]
        try:
            mail = mail_endpoints(base, smtp, imap, ca)
        except ValueError as exc:
            console.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(2) from None
        config = SimulatorConfig(base, workspace=workspace, faults=tuple(fault), insi_url=insi_url or "",
                                 cert=(cert, key) if cert and key else None, verify=ca or True,
                                 api_key=api_key or "", mail=mail)
        started = time.perf_counter()
        try:
            with DpiSimulator(config) as simulator:
                records = play(simulator)
        except httpx.HTTPError as exc:
            console.print(f"[red]error:[/red] sandbox unreachable at {base}: {exc} (start it with: mes-sandbox serve)")
            raise typer.Exit(1) from None
        elapsed = time.perf_counter() - started
        table = Table("action", "ok", "detail", title=f"reference DPI — workspace {workspace}")
        for r in records:
            table.add_row(r.action, "yes" if r.ok else "no", r.detail)
        console.print(table)
        console.print(f"{len(records)} actions in {elapsed:.2f} s")


def mail_endpoints(base: str, smtp: str | None, imap: str | None, ca: str | None) -> MailEndpoints:
    """The MSSanté listeners: the options given, else this machine's sandbox settings."""
    default = MailEndpoints.from_environment(base)

    def hostport(value: str | None, fallback: tuple[str, int], option: str) -> tuple[str, int]:
        if not value:
            return fallback
        host, _, port = value.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"{option} {value!r}: HOST:PORT expected")
        return host, int(port)

    return MailEndpoints(hostport(smtp, default.smtp, "--smtp"), hostport(imap, default.imap, "--imap"),
                         ca or default.ca_file)

