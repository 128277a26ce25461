"""``mes-sandbox pki``: the test PKI's commands (issue, show, ca-bundle). Like :mod:`sandbox.cli`,
this module imports typer and the standard library only; each command imports what it needs."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer

from sandbox.cli_messages import CliMsg, say

__all__ = ["CertKindChoice", "pki_app"]

pki_app = typer.Typer(help="Test PKI (IGC-Santé look-alike, marked TEST).", no_args_is_help=True)


class CertKindChoice(StrEnum):
    """The values of :class:`sandbox.pki.CertKind`, here so that ``--help`` needs no cryptography import."""

    SERVER = "server"
    ORGANISATION = "organisation"
    PROFESSIONAL = "professional"


@pki_app.command("issue")
def pki_issue(
    kind: CertKindChoice = typer.Option(..., "--kind", help="server | organisation | professional"),
    subject: str = typer.Option(..., "--subject", help="DNS name, organisation CN (e.g. INSI-AUTO) or RPPS/IDNPS"),
    out: Path = typer.Option(..., "--out", help="Folder to write cert.pem, key.pem, chain.pem, cert.p12"),
    identifier: str = typer.Option("", help="FINESS (organisation) or RPPS/IDNPS (professional)"),
    organisation: str = typer.Option("", help="Organisation name (O=) for organisation certificates"),
    password: str = typer.Option("", help="PKCS#12 password (none by default)"),
    workspace: str = typer.Option("", "--workspace", "-w", help=(
        "Bind the certificate to this workspace (INSi runs its calls there): asks the running "
        "sandbox (POST /sandbox/api/workspaces/<ws>/ins/certificates). Without it, INSi refuses the "
        "certificate (insi_431).")),
    url: str = typer.Option("", help="Sandbox base URL for --workspace (default: from the settings)"),
) -> None:
    """Issue a certificate from the test CA."""
    if workspace:
        if kind is not CertKindChoice.ORGANISATION:
            typer.echo(say(CliMsg.BOUND_ORGANISATION_ONLY), err=True)
            raise typer.Exit(2)
        from sandbox.cli_tasks import issue_bound_certificate

        issue_bound_certificate(workspace, subject, out, identifier, organisation, password, url)
        return
    from sandbox.pki import CertKind
    from sandbox.pki_store import synced
    from sandbox.settings import from_environment

    settings = from_environment()
    pki = synced(settings)  # dur: the database's CA (every node of a deployment shares it)
    issued = pki.issue(CertKind(kind.value), subject, out, identifier=identifier, organisation=organisation,
                       password=password)
    for label, path in (("certificate", issued.cert_pem), ("private key", issued.key_pem),
                        ("chain", issued.chain_pem), ("PKCS#12", issued.p12)):
        typer.echo(f"{label:12} {path}")
    typer.echo(f"trust anchor {pki.ca_bundle}")


@pki_app.command("show")
def pki_show(as_json: bool = typer.Option(False, "--json", help="Print the report-signing key JWK only")) -> None:
    """The test CA files and the public key that signs conformance reports (JWK): the deployment's,
    one for every node of the database."""
    import json

    from conformance import signing
    from sandbox.pki_store import synced
    from sandbox.settings import from_environment

    settings = from_environment()
    ca = synced(settings)  # dur: the database's CA
    jwk = signing.public_jwk(signing.for_settings(settings))  # the deployment's, from the database
    if as_json:
        typer.echo(json.dumps(jwk, indent=1))
        return
    typer.echo(f"trust anchor (CA bundle)   {ca.ca_bundle}")
    typer.echo(f"root CA                    {ca.root_cert}")
    typer.echo(f"report signing key (kid)   {jwk['kid']}")
    typer.echo(f"served at                  {settings.base_url}/conformance/api/signing-key")
    typer.echo(json.dumps(jwk, indent=1))


@pki_app.command("ca-bundle")
def pki_ca_bundle() -> None:
    """Print the path of the test CA bundle to trust (created with the PKI if missing)."""
    from sandbox.pki_store import synced
    from sandbox.settings import from_environment

    pki = synced(from_environment())  # dur: the database's CA
    typer.echo(str(pki.ca_bundle.resolve()))
