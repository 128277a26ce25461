"""``mes-sandbox ins nir``, and INS identities following the workspace lifecycle (reset, delete)."""

from __future__ import annotations

import typer
from sqlalchemy import func, select
from typer.testing import CliRunner

from ins.cli import register
from ins.models import IdentityRow


def _cli():
    app = typer.Typer()
    register(app)

    @app.command("noop")
    def noop() -> None:  # a second command keeps typer from flattening the group
        """Nothing."""

    return app


def test_cli_explains_a_wrong_key():
    r = CliRunner().invoke(_cli(), ["ins", "nir", "297022A02077877", "--lang", "en"])
    assert r.exit_code == 1
    assert "INS_NIR_KEY_MISMATCH" in r.output and "78" in r.output


def test_cli_computes_a_key_and_accepts_a_valid_matricule():
    assert CliRunner().invoke(_cli(), ["ins", "nir", "2360663220836"]).output.strip() == "2360663220836 56"
    assert CliRunner().invoke(_cli(), ["ins", "nir", "236066322083656"]).output.strip() == "OK"


def test_reset_restores_identities_and_delete_removes_them(kit, client, workspace, sandbox):
    insi = kit.Insi(client, workspace)
    assert insi.post(kit.a1_request()).cr == "00"
    assert client.post(f"/sandbox/api/workspaces/{workspace}/reset").status_code == 200
    assert insi.post(kit.a1_request()).cr == "00"  # one identity again, not two (no 02)

    async def count(ws):
        async with sandbox.ctx.db.session() as s:
            return await s.scalar(select(func.count()).select_from(IdentityRow).where(IdentityRow.workspace == ws))

    assert sandbox.call(count, workspace) == len(sandbox.ctx.world.patients)
    assert client.delete(f"/sandbox/api/workspaces/{workspace}").status_code == 204
    assert sandbox.call(count, workspace) == 0
