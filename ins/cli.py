"""``mes-sandbox ins …`` commands: explain a matricule INS (FACTS §1.3); ``mes-sandbox insi search``:
a traits search against a running sandbox's INSi endpoint, over HTTP (FACTS §1.1)."""

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


def register_insi(app: typer.Typer) -> None:
    """Add ``insi`` (traits search over HTTP) to the ``mes-sandbox`` typer app."""
    import typer

    from sandbox.cli_http import URL_HELP

    insi_app = typer.Typer(help="INSi teleservice of the running sandbox (SOAP 1.2).", no_args_is_help=True)

    @insi_app.command("search")
    def search(
        birth_name: str = typer.Option(..., "--birth-name", help="Nom de naissance, e.g. ADRTROIS."),
        first_name: list[str] = typer.Option(..., "--first-name", help="Prénom; repeat for several."),
        sex: str = typer.Option(..., "--sex", help="F | M"),
        birth_date: str = typer.Option(..., "--birth-date", help="YYYY-MM-DD"),
        birth_place: str = typer.Option("", "--birth-place", help="INSEE code of the birth place (optional)."),
        workspace: str = typer.Option("default", "--workspace", "-w", help="Workspace to search in."),
        as_xml: bool = typer.Option(False, "--xml", help="Print the SOAP answer as received."),
        url: str = typer.Option("", help=URL_HELP),
    ) -> None:
        """Search an INS by traits (rechercherInsAvecTraitsIdentite) and print CR, INS and traits."""
        from ins.insi_request import SOAP12, read_answer, traits_request
        from sandbox import cli_http

        envelope = traits_request(birth_name, first_name, sex, birth_date, birth_place)
        with cli_http.client(url, workspace=workspace) as c:
            # plain-HTTP INSi takes the sandbox's keys (docs/security.md): the operator key the CLI read
            r = c.post("/ins/insi", content=envelope.encode(), headers={"content-type": SOAP12, **c.api_headers})
        if as_xml:
            typer.echo(r.text)
            return
        ans = read_answer(r.content)
        if ans.fault:
            typer.echo(ans.fault, err=True)
            raise typer.Exit(1)
        typer.echo(f"CR {ans.cr} {ans.label}")
        if ans.ins:
            typer.echo(f"INS {ans.ins} ({ans.oid})")
        for k, v in ans.traits.items():
            typer.echo(f"  {k}: {v}")
        if ans.cr != "00":
            raise typer.Exit(1)

    app.add_typer(insi_app, name="insi")
