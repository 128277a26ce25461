"""``mes-sandbox validate``: the typer entry of :mod:`profiles.command`.

Start-up is the point (issue 16: ≤ 0.4 s to first result). The command declares no typed
parameter: typer ≥ 0.25 coerces every typed parameter through a pydantic ``TypeAdapter``, and
importing pydantic alone costs ≈ 0.25 s. Its arguments are parsed instead by the standard-library
parser of ``python -m profiles validate`` (:mod:`profiles.__main__`), so both entries take the
same options, with the same help and the same usage errors (exit 2).
"""

from __future__ import annotations

import argparse

import typer

from profiles.__main__ import add_validate_arguments, run_validate
from profiles.command import ExitCode, Format, Lang, run

__all__ = ["ExitCode", "Format", "Lang", "parser", "register", "run"]

HELP = ("Validate FHIR R4 resources against the base spec, the French profiles and the given "
        "definitions. Options: FILE... [--profile URL|FILE] [--ig PACKAGE.tgz|DIR|FILE.json ...] "
        "[--format text|json|outcome] [--lang fr|en] [--policy FILE].")


def parser(prog: str = "mes-sandbox validate") -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=prog, description=HELP.split(" Options:")[0])
    add_validate_arguments(p)
    return p


def register(app: typer.Typer) -> None:
    """Add the ``validate`` command to the ``mes-sandbox`` typer app."""

    @app.command("validate", help=HELP, add_help_option=False,
                 context_settings={"ignore_unknown_options": True, "allow_extra_args": True,
                                   "allow_interspersed_args": False})
    def validate_cmd(ctx: typer.Context) -> None:
        p = parser(ctx.command_path)
        try:
            args = p.parse_args(ctx.args)
        except SystemExit as exc:  # argparse printed the usage or the help
            raise typer.Exit(int(ExitCode.USAGE) if exc.code else 0) from None
        raise typer.Exit(run_validate(args))
