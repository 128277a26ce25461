"""``mes-sandbox psc ...``: get a token for a persona (over HTTP), register and list clients,
rotate the signing keys (in-process, on the settings' database).

Module level imports typer only: ``psc token`` must start fast (sandbox/services.py, commands).
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from sandbox.cli_http import URL_HELP

AUTH_METHODS_HELP = "client_secret_basic | client_secret_post | private_key_jwt"  # psc.clients.AUTH_METHODS
ALGS_HELP = "ES256 | RS256"  # psc.keys.SUPPORTED_ALGS


def register(app: typer.Typer) -> None:
    from sandbox.cli import console, with_context

    psc_app = typer.Typer(help="Pro Santé Connect: clients and signing keys.", no_args_is_help=True)
    client_app = typer.Typer(help="Register and list PSC clients.", no_args_is_help=True)
    psc_app.add_typer(client_app, name="client")
    app.add_typer(psc_app, name="psc")

    @psc_app.command("token")
    def token(
        persona: str = typer.Option("899700218896", "--persona", "-p",
                                    help="RPPS/IDNPS of a professional persona (login_hint)."),
        workspace: str = typer.Option("default", "--workspace", "-w", help="Workspace whose demo client is used."),
        client_id: str = typer.Option("", "--client-id", help="Another client (default: the seeded demo client)."),
        secret: str = typer.Option("", "--secret", help="Its secret (default: read from the sandbox API)."),
        as_json: bool = typer.Option(False, "--json", help="Print the whole token response."),
        url: str = typer.Option("", help=URL_HELP),
    ) -> None:
        """Print an access token for a professional persona (authorization code + PKCE, as a DPI does).

        Use it as `TOKEN=$(mes-sandbox psc token --persona 899700218896)`."""
        from sandbox import cli_http, cli_oidc

        with cli_http.client(url) as c:
            body = cli_oidc.token(c, persona, workspace=workspace, client_id=client_id, client_secret=secret)
        typer.echo(json.dumps(body, indent=1) if as_json else body["access_token"])

    @client_app.command("add")
    def client_add(
        workspace: str = typer.Option("default", "--workspace", "-w"),
        client_id: str = typer.Option("", "--client-id", help="Generated when omitted."),
        secret: str = typer.Option("", "--secret", help="Generated when omitted."),
        name: str = typer.Option("", "--name"),
        redirect_uri: list[str] = typer.Option([], "--redirect-uri", help="Repeat for several."),
        post_logout_redirect_uri: list[str] = typer.Option([], "--post-logout-redirect-uri"),
        auth_method: str = typer.Option("client_secret_basic", "--auth-method", help=AUTH_METHODS_HELP),
        grant_type: list[str] = typer.Option([], "--grant-type", help="Repeat; default code + refresh."),
        scope: list[str] = typer.Option([], "--scope", help="Repeat; default all PSC scopes."),
        jwks_file: Path | None = typer.Option(None, "--jwks-file", help="Public JWK Set (private_key_jwt)."),
        id_token_alg: str = typer.Option("", "--id-token-alg", help=ALGS_HELP),
        userinfo_alg: str = typer.Option("", "--userinfo-alg", help="Sign userinfo (application/jwt)."),
        no_pkce: bool = typer.Option(False, "--no-pkce", help="Do not require PKCE."),
    ) -> None:
        """Register a client in a workspace and print it (secret included)."""
        from psc import runtime
        from psc.clients import build_client

        meta = {"client_id": client_id or None, "client_secret": secret or None, "client_name": name or None,
                "redirect_uris": redirect_uri, "post_logout_redirect_uris": post_logout_redirect_uri,
                "token_endpoint_auth_method": auth_method, "grant_types": grant_type or None,
                "scopes": scope or None, "id_token_signed_response_alg": id_token_alg or None,
                "userinfo_signed_response_alg": userinfo_alg or None, "require_pkce": not no_pkce,
                "jwks": json.loads(jwks_file.read_text()) if jwks_file else None}

        async def _do(ctx) -> None:  # noqa: ANN001 - SandboxContext
            await ctx.workspaces.require(workspace)
            client = await runtime.get(ctx).clients.create(build_client(workspace, meta))
            print(json.dumps(client.to_dict(), indent=1, ensure_ascii=False))

        with_context(_do)

    @client_app.command("list")
    def client_list(workspace: str = typer.Option("default", "--workspace", "-w"),
                    as_json: bool = typer.Option(False, "--json")) -> None:
        """List the clients of a workspace (secrets included: this is a test tool)."""
        from rich.table import Table

        from psc import runtime

        async def _do(ctx) -> None:  # noqa: ANN001
            await ctx.workspaces.require(workspace)
            clients = await runtime.get(ctx).clients.list(workspace)
            if as_json:
                print(json.dumps([c.to_dict() for c in clients], indent=1, ensure_ascii=False))
                return
            table = Table("client_id", "secret", "auth method", "grants", "redirect URIs",
                          title=f"PSC clients in {workspace}")
            for c in clients:
                table.add_row(c.client_id, c.client_secret or "", c.token_endpoint_auth_method,
                              " ".join(c.grant_types), "\n".join(c.redirect_uris))
            console().print(table)

        with_context(_do)

    @psc_app.command("rotate-keys")
    def rotate_keys(alg: list[str] = typer.Option([], "--alg", help="Default: every alg.")) -> None:
        """Rotate the signing keys; retired keys stay in the JWKS until their tokens expired."""
        from psc import runtime
        from psc.keys import SUPPORTED_ALGS

        async def _do(ctx) -> None:  # noqa: ANN001
            keys = runtime.get(ctx).keys
            await keys.ensure()
            new = await keys.rotate(tuple(alg) or SUPPORTED_ALGS)
            console().print("new signing keys: " + ", ".join(new))

        with_context(_do)
