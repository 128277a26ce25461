"""``mes-sandbox ins …`` commands: explain a matricule INS (FACTS §1.3)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ins.nir import check_matricule, nir_key

if TYPE_CHECKING:
    import typer


def register(app: typer.Typer) -> None:
    import typer

    ins_app = typer.Typer(help="INS identity rules (NIR/NIA matricule).", no_args_is_help=True)

    @ins_app.command("nir")
    def nir(value: str, lang: str = typer.Option("fr", help="fr | en")) -> None:
        """Check a 15-character matricule (or give 13 characters to compute its key)."""
        value = value.strip().upper()
        if len(value) == 13 and not check_matricule(value, with_key=False):
            typer.echo(f"{value} {nir_key(value):02d}")
            return
        problems = check_matricule(value)
        for p in problems:
            typer.echo(f"{p.msg_id.value}: {p.text(lang)}")
        if problems:
            raise typer.Exit(1)
        typer.echo("OK")

    app.add_typer(ins_app, name="ins")
