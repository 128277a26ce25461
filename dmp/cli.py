"""``mes-sandbox dmp provide``: deposit a document in the running sandbox's DMP (ITI-65 over HTTP,
with a PSC token obtained as a DPI does). Module level imports typer only."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from sandbox.cli_http import URL_HELP


def register(app: typer.Typer) -> None:
    """Add ``dmp`` to the ``mes-sandbox`` typer app."""
    dmp_app = typer.Typer(help="DMP document store of the running sandbox (PDSm / IHE MHD).", no_args_is_help=True)

    @dmp_app.command("provide")
    def provide(
        file: Path = typer.Argument(..., help="FHIR document Bundle (JSON), CDA (XML) or PDF."),
        patient: str = typer.Option(..., "--patient", help="INS (matricule, 15 characters) of the patient."),
        persona: str = typer.Option("899700218896", "--persona", "-p",
                                    help="RPPS/IDNPS of the depositing professional (gets a PSC token)."),
        token: str = typer.Option("", "--token", help="Use this access token (default: a fresh one for --persona)."),
        type_code: str = typer.Option("", "--type-code", help="LOINC type (default: the Composition's type)."),
        class_code: str = typer.Option("10", "--class-code", help="TRE_A03 class (10 = compte rendu)."),
        workspace: str = typer.Option("default", "--workspace", "-w", help="Workspace whose demo client is used."),
        out: Path | None = typer.Option(None, "--out", help="Write the ITI-65 Bundle there instead of sending it."),
        url: str = typer.Option("", help=URL_HELP),
    ) -> None:
        """Wrap a document in an ITI-65 transaction and deposit it; print where it now lives."""
        from dmp.iti65_build import DocumentError, provide_bundle
        from sandbox import cli_http, cli_oidc
        from sandbox.cli_messages import CliMsg, say

        try:
            data = file.read_bytes()
        except OSError as exc:
            cli_http.fail(say(CliMsg.FILE_UNREADABLE, path=file, reason=exc.strerror or exc), 2)
        try:
            bundle = provide_bundle(data, file.name, patient, author=persona, type_code=type_code,
                                    class_code=class_code)
        except DocumentError as exc:
            cli_http.fail(str(exc), 2)
        if out is not None:
            out.write_text(json.dumps(bundle, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
            typer.echo(say(CliMsg.WROTE, path=out))
            return
        with cli_http.client(url) as c:
            bearer = token or cli_oidc.token(c, persona, workspace=workspace)["access_token"]
            r = cli_http.check(c.post("/dmp/fhir", content=json.dumps(bundle).encode(),
                                      headers={"Content-Type": "application/fhir+json",
                                               "Authorization": f"Bearer {bearer}"}))
        for entry in r.json().get("entry", []):
            resp = entry.get("response", {})
            typer.echo(f"{resp.get('status', '')}  {resp.get('location', '')}".rstrip())

    app.add_typer(dmp_app, name="dmp")
