"""``mes-sandbox simulate dpi``: the reference DPI played alone from the command line."""

from __future__ import annotations

import typer
from typer.testing import CliRunner

from conformance.simulators.cli import register

runner = CliRunner()
app = typer.Typer()
register(app)


def test_list_faults() -> None:
    r = runner.invoke(app, ["simulate", "dpi", "--list-faults"], env={"COLUMNS": "300"})
    assert r.exit_code == 0, r.output
    assert "pkce-missing" in r.output and "dpi-ldl.psc.02" in r.output


def test_unknown_fault_is_a_usage_error() -> None:
    r = runner.invoke(app, ["simulate", "dpi", "--fault", "no-such-mistake"])
    assert r.exit_code == 2 and "no-such-mistake" in r.output and "--list-faults" in r.output


def test_unreachable_sandbox() -> None:
    r = runner.invoke(app, ["simulate", "dpi", "--url", "http://127.0.0.1:9"])
    assert r.exit_code == 1 and "unreachable" in r.output


def test_bad_mail_endpoint_is_a_usage_error() -> None:
    r = runner.invoke(app, ["simulate", "dpi", "--smtp", "no-port"])
    assert r.exit_code == 2 and "--smtp" in r.output and "HOST:PORT" in r.output


def test_plays_against_a_running_sandbox(sandbox, workspace) -> None:  # noqa: ANN001
    ports = sandbox.ctx.state["listeners"]
    r = runner.invoke(app, ["simulate", "dpi", "--url", sandbox.base_url, "--workspace", workspace,
                            "--api-key", sandbox.operator_key, "--smtp", f"127.0.0.1:{ports['smtp']}",
                            "--imap", f"127.0.0.1:{ports['imap']}", "--ca", str(sandbox.ctx.pki.ca_bundle)],
                      env={"COLUMNS": "300"})
    assert r.exit_code == 0, r.output
    assert "21 actions" in r.output and "dmp.retrieve" in r.output and "mss.receive" in r.output
    ops = {e["operation"] for e in sandbox.exchanges(workspace=workspace)}
    assert {"psc.token", "rechercherInsAvecTraitsIdentite", "dmp.iti-65", "dmp.iti-67", "dmp.iti-68",
            "smtp-message", "imap-session"} <= ops
