"""Everyday commands against a running sandbox, over HTTP (:mod:`sandbox.cli_http`): read the
evidence (``exchanges``), script faults (``faults``), and copy out the shipped samples (``samples``).
Module level imports typer only, so that these commands start fast."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from sandbox import cli_http
from sandbox.cli_http import URL_HELP, WORKSPACE_HELP
from sandbox.cli_messages import CliMsg, say

exchanges_app = typer.Typer(help="Read what the sandbox recorded of each exchange (evidence).", no_args_is_help=True)
faults_app = typer.Typer(help="Script the next failures of a service, to test error handling.", no_args_is_help=True)
samples_app = typer.Typer(help="Ready-to-run samples: CR documents and an INSi request.", no_args_is_help=True)


def _print_json(value: Any) -> None:
    typer.echo(json.dumps(value, ensure_ascii=False, indent=1))


@exchanges_app.command("list")
def exchanges_list(
    workspace: str = typer.Option("default", "--workspace", "-w", help=WORKSPACE_HELP),
    service: str = typer.Option("", help="Only this service (psc, ins, dmp, profiles, sandbox...)."),
    protocol: str = typer.Option("", help="Only this protocol (http, soap, smtp, imap)."),
    correlation_id: str = typer.Option("", "--correlation-id", help="Only this X-Correlation-ID."),
    limit: int = typer.Option(20, min=1, max=1000, help="At most this many, in time order."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of one line per exchange."),
    ids: bool = typer.Option(False, "--ids", help="Print only the ids, one a line (for scripts)."),
    url: str = typer.Option("", help=URL_HELP),
) -> None:
    """List recorded exchanges in time order: id, time, service, operation, status, summary."""
    params = {k: v for k, v in {"workspace": workspace, "service": service, "protocol": protocol,
                                "correlation_id": correlation_id, "limit": limit}.items() if v}
    with cli_http.client(url) as c:
        found = cli_http.check(c.get("/sandbox/api/exchanges", params=params)).json()["exchanges"]
    if as_json:
        _print_json(found)
        return
    if ids:
        for e in found:
            typer.echo(e["id"])
        return
    if not found:
        typer.echo(say(CliMsg.NO_MATCH))
    for e in found:
        typer.echo(f"{e['id']}  {e['started_at'][:19]}  {e['service']:<8} {e['operation'] or '-':<24} "
                   f"{e['status']}  {e['summary']}")


@exchanges_app.command("show")
def exchanges_show(
    exchange_id: str = typer.Argument(..., help="Id printed by `exchanges list`."),
    body: str = typer.Option("", help="Print this body instead of the record: request | response."),
    url: str = typer.Option("", help=URL_HELP),
) -> None:
    """Show one exchange (JSON), or its recorded request or response body."""
    with cli_http.client(url) as c:
        if body:
            if body not in ("request", "response"):
                cli_http.fail("--body: request | response", 2)
            r = cli_http.check(c.get(f"/sandbox/api/exchanges/{exchange_id}/{body}-body"))
            typer.echo(r.text)
            return
        _print_json(cli_http.check(c.get(f"/sandbox/api/exchanges/{exchange_id}")).json())


@faults_app.command("kinds")
def faults_kinds(url: str = typer.Option("", help=URL_HELP)) -> None:
    """List the fault kinds each service supports."""
    with cli_http.client(url) as c:
        services = cli_http.check(c.get("/sandbox/api/faults/kinds")).json()["services"]
    for svc, kinds in sorted(services.items()):
        for k in kinds:
            typer.echo(f"{svc:<8} {k['kind']:<24} {k['description']}")


@faults_app.command("add")
def faults_add(
    service: str = typer.Argument(..., help="Service to break (see `faults kinds`)."),
    kind: str = typer.Argument(..., help="Fault kind (see `faults kinds`)."),
    workspace: str = typer.Option("default", "--workspace", "-w", help=WORKSPACE_HELP),
    times: int = typer.Option(0, min=0, help="Fire on the next N matching calls (default 1)."),
    ratio: float = typer.Option(0.0, min=0.0, max=1.0, help="Fire on this share of matching calls instead."),
    operation: str = typer.Option("", help="Only this operation of the service."),
    param: list[str] = typer.Option([], "--param", help="NAME=VALUE parameter of the kind; repeat."),
    url: str = typer.Option("", help=URL_HELP),
) -> None:
    """Script a fault in a workspace and print it."""
    params: dict[str, str] = {}
    for p in param:
        name, sep, value = p.partition("=")
        if not sep:
            cli_http.fail(f"--param {p!r}: NAME=VALUE", 2)
        params[name] = value
    spec: dict[str, Any] = {"service": service, "kind": kind, "operation": operation, "params": params}
    if times:
        spec["times"] = times
    if ratio:
        spec["ratio"] = ratio
    with cli_http.client(url) as c:
        _print_json(cli_http.check(c.post(f"/sandbox/api/workspaces/{workspace}/faults", json=spec)).json())


@faults_app.command("list")
def faults_list(workspace: str = typer.Option("default", "--workspace", "-w", help=WORKSPACE_HELP),
                url: str = typer.Option("", help=URL_HELP)) -> None:
    """List the faults still scripted in a workspace."""
    with cli_http.client(url) as c:
        _print_json(cli_http.check(c.get(f"/sandbox/api/workspaces/{workspace}/faults")).json()["faults"])


@faults_app.command("clear")
def faults_clear(workspace: str = typer.Option("default", "--workspace", "-w", help=WORKSPACE_HELP),
                 service: str = typer.Option("", help="Only this service's faults."),
                 url: str = typer.Option("", help=URL_HELP)) -> None:
    """Remove the scripted faults of a workspace."""
    params = {"service": service} if service else {}
    with cli_http.client(url) as c:
        _print_json(cli_http.check(c.delete(f"/sandbox/api/workspaces/{workspace}/faults", params=params)).json())


@samples_app.command("list")
def samples_list() -> None:
    """List the shipped samples."""
    from sandbox import samples

    for name in samples.NAMES:
        typer.echo(name)


@samples_app.command("write")
def samples_write(folder: Path = typer.Argument(Path("."), help="Where to write them (created if needed).")) -> None:
    """Write every sample into a folder (the current one by default)."""
    from sandbox import samples

    for path in samples.write(folder):
        typer.echo(say(CliMsg.WROTE, path=path))


def issue_bound_certificate(workspace: str, subject: str, out: Path, identifier: str, organisation: str,
                 password: str, url: str) -> None:
    """The running sandbox issues and binds the certificate; its PEMs (and a PKCS#12) go to ``out``."""
    from urllib.parse import quote

    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs12

    from sandbox.credentials import write_private

    with cli_http.client(url or None) as c:
        r = cli_http.check(c.post(f"/sandbox/api/workspaces/{quote(workspace, safe='')}/ins/certificates",
                                  json={"subject": subject, "identifier": identifier,
                                        "organisation": organisation}))
    got = r.json()
    out.mkdir(parents=True, exist_ok=True)
    (out / "cert.pem").write_text(got["certificate_pem"])
    (out / "chain.pem").write_text(got["chain_pem"])
    write_private(out / "key.pem", got["private_key_pem"].encode())
    key = serialization.load_pem_private_key(got["private_key_pem"].encode(), None)
    chain = x509.load_pem_x509_certificates(got["chain_pem"].encode())
    encryption = (serialization.BestAvailableEncryption(password.encode()) if password
                  else serialization.NoEncryption())
    write_private(out / "cert.p12", pkcs12.serialize_key_and_certificates(
        subject.encode(), key, chain[0], chain[1:], encryption))  # type: ignore[arg-type]
    for label, name in (("certificate", "cert.pem"), ("private key", "key.pem"), ("chain", "chain.pem"),
                        ("PKCS#12", "cert.p12")):
        typer.echo(f"{label:12} {out / name}")
    typer.echo(say(CliMsg.BOUND_TO, workspace=got["workspace"], fingerprint=got["fingerprint_sha256"]))
