"""``mes-sandbox validate``: the typer adapter of :mod:`profiles.command`.

Imports typer and the validator only (no server stack), so the command starts fast once the
top-level CLI dispatches to it lazily.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from profiles.command import ExitCode, Format, Lang, run

__all__ = ["ExitCode", "Format", "Lang", "register", "run"]


def register(app: typer.Typer) -> None:
    """Add the ``validate`` command to the ``mes-sandbox`` typer app."""

    @app.command("validate")
    def validate_cmd(
        files: Annotated[list[Path], typer.Argument(help="FHIR JSON files (resources or Bundles)")],
        profile: Annotated[str | None, typer.Option(
            "--profile", help="profile: canonical URL or StructureDefinition JSON file")] = None,
        ig: Annotated[list[Path] | None, typer.Option(
            "--ig", help="supporting definitions: FHIR package .tgz, folder or JSON file (repeatable)")] = None,
        package: Annotated[list[Path] | None, typer.Option(
            "--package", help="same as --ig (kept for existing scripts)", hidden=True)] = None,
        fmt: Annotated[Format, typer.Option("--format", help="text, json or outcome")] = Format.TEXT,
        lang: Annotated[Lang, typer.Option("--lang", help="language of the messages")] = Lang.FR,
        policy: Annotated[Path | None, typer.Option(
            "--policy", help="JSON policy: message id -> severity|suppress")] = None,
    ) -> None:
        """Validate FHIR R4 resources against the base spec, the French profiles and the given
        definitions."""
        code, output = run(files, profile, [*(ig or []), *(package or [])], fmt, lang, policy)
        if output:
            typer.echo(output, err=code == ExitCode.USAGE)
        raise typer.Exit(int(code))
