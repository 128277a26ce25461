"""``mes-sandbox psc client add|list`` and ``mes-sandbox psc rotate-keys`` on a fresh data folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from psc.cli import register


@pytest.fixture()
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> typer.Typer:
    monkeypatch.setenv("MES_SANDBOX_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("MES_SANDBOX_DATABASE_URL", raising=False)
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """test root"""

    register(app)
    return app


def test_client_add_list_and_rotate_keys(cli: typer.Typer) -> None:
    runner = CliRunner()
    r = runner.invoke(cli, ["psc", "client", "add", "--client-id", "dpi-demo", "--redirect-uri",
                            "http://localhost:9000/cb", "--grant-type", "authorization_code",
                            "--grant-type", "client_credentials", "--id-token-alg", "ES256"])
    assert r.exit_code == 0, r.output
    created = json.loads(r.stdout)  # stderr may carry the empty-data-folder warning
    assert created["client_id"] == "dpi-demo" and len(created["client_secret"]) >= 32
    assert created["id_token_signed_response_alg"] == "ES256"
    r = runner.invoke(cli, ["psc", "client", "list", "--json"])
    assert r.exit_code == 0, r.output
    ids = {c["client_id"] for c in json.loads(r.stdout)}
    assert {"dpi-demo", "sandbox-demo"} <= ids
    r = runner.invoke(cli, ["psc", "client", "add", "--client-id", "dpi-demo", "--redirect-uri", "http://x/cb"])
    assert r.exit_code == 1 and "existe déjà" in r.output  # the CLI speaks MES_SANDBOX_LANGUAGE (fr by default)
    r = runner.invoke(cli, ["psc", "client", "add", "--auth-method", "private_key_jwt", "--redirect-uri", "http://x/cb"])
    assert r.exit_code == 1 and "jwks" in r.output
    r = runner.invoke(cli, ["psc", "rotate-keys", "--alg", "ES256"])
    assert r.exit_code == 0 and "es256-" in r.output
