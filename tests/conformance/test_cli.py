"""``mes-sandbox conformance`` as a vendor's CI runs it: a subprocess against a running sandbox
(exit codes, reports written, offline verify), and ``--simulate`` in-process with a fake vendor
plugged in where the reference simulator goes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import typer
from joserfc.jwk import OKPKey
from runner_example import fake_vendor
from typer.testing import CliRunner

from conformance import cli as conformance_cli
from conformance import cli_run
from conformance.simulate import run_vendor_loop, wait_finished
from sandbox import cli as sandbox_cli

CLI = [sys.executable, "-c", "from sandbox.cli import main; main()"]


def mes(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=180)


@pytest.fixture()
def env(tmp_path: Path, csb) -> dict[str, str]:  # noqa: ANN001
    """A CI machine's environment: its own data dir, and the sandbox's operator key it was given."""
    return {**os.environ, "MES_SANDBOX_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "200",
            "MES_SANDBOX_OPERATOR_KEY": csb.operator_key}


def vendor_for_next_run(sb, workspace: str, **kw) -> threading.Thread:  # noqa: ANN001
    """A vendor that notices the run the CLI starts in ``workspace`` and plays its steps."""
    stop = threading.Event()

    def main() -> None:
        with sb.client() as c:
            for _ in range(400):
                runs = c.get("/conformance/api/runs", params={"workspace": workspace}).json()["runs"]
                live = [r for r in runs if r["state"] == "running"]
                if live:
                    vendor = fake_vendor(sb.base_url, workspace, key=sb.operator_key, **kw)
                    run_vendor_loop(c, live[0]["id"], vendor, stop=stop)
                    return
                time.sleep(0.05)

    t = threading.Thread(target=main, daemon=True)
    t.start()
    return t


def test_run_writes_every_report_and_verify_checks_it(csb, ws, env, tmp_path) -> None:
    """The real command, as a subprocess: run, reports, offline verify."""
    out = tmp_path / "out"
    vendor = vendor_for_next_run(csb, ws)
    p = mes(env, "conformance", "run", "example", "--url", csb.base_url, "--workspace", ws, "--step-timeout", "20",
            "--json", str(out / "r.json"), "--html", str(out / "r.html"), "--junit", str(out / "r.xml"),
            "--sarif", str(out / "r.sarif"), "--evidence", str(out / "evidence"))
    vendor.join(5)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "verdict pass" in p.stdout and "example.insi.02" in p.stdout
    assert json.loads((out / "r.json").read_bytes())["report"]["verdict"] == "pass"
    assert b"Rapport de conformit" in (out / "r.html").read_bytes()
    assert (out / "r.xml").read_bytes().startswith(b"<?xml") and json.loads((out / "r.sarif").read_text())["runs"]
    with csb.client() as c:
        (tmp_path / "key.jwk").write_text(json.dumps(c.get("/conformance/api/signing-key").json()))
    ok = mes(env, "conformance", "verify", str(out / "r.json"), "--key", str(tmp_path / "key.jwk"),
             "--evidence", str(out / "evidence"))
    assert ok.returncode == 0 and "OK" in ok.stdout and "evidence bodies match" in ok.stdout, ok.stdout + ok.stderr
    data = (out / "r.json").read_bytes()
    i = data.index(b'"outcome":"pass"')
    (tmp_path / "edited.json").write_bytes(data[:i + 11] + b"f" + data[i + 12:])  # pass → fass
    bad = mes(env, "conformance", "verify", str(tmp_path / "edited.json"), "--key", str(tmp_path / "key.jwk"))
    assert bad.returncode == 3 and "ALTERED groups:" in bad.stdout  # the first outcome in key order


@pytest.fixture()
def cli_app(tmp_path, monkeypatch, csb) -> typer.Typer:  # noqa: ANN001
    """The conformance commands in-process (faster than a subprocess per case), given the sandbox's operator key."""
    monkeypatch.setenv("MES_SANDBOX_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MES_SANDBOX_OPERATOR_KEY", csb.operator_key)
    app = typer.Typer()
    conformance_cli.register(app)
    app.add_typer(sandbox_cli.pki_app, name="pki")  # `pki show` lives in the sandbox CLI
    return app


def invoke(app: typer.Typer, *args: str):  # noqa: ANN201 - click Result
    return CliRunner().invoke(app, list(args))


def test_verify_names_problems_with_exit_codes(csb, ws, cli_app, tmp_path) -> None:
    with csb.client() as c:
        run = c.post("/conformance/api/runs", json={"suite": "endings", "workspace": ws}).json()
        wait_finished(c, run["id"])
        data = c.get(f"/conformance/api/runs/{run['id']}/report.json").content
        (tmp_path / "key.jwk").write_text(json.dumps(c.get("/conformance/api/signing-key").json()))
    (tmp_path / "r.json").write_bytes(data)
    key = ["--key", str(tmp_path / "key.jwk")]
    assert invoke(cli_app, "conformance", "verify", str(tmp_path / "r.json"), *key).exit_code == 0
    (tmp_path / "cut.json").write_bytes(data[:1000])
    cut = invoke(cli_app, "conformance", "verify", str(tmp_path / "cut.json"), *key)
    assert cut.exit_code == 3 and "verify.truncated" in cut.output
    nokey = invoke(cli_app, "conformance", "verify", str(tmp_path / "r.json"))  # this data dir has no key yet
    assert nokey.exit_code == 2 and "--key" in nokey.output
    assert invoke(cli_app, "pki", "show").exit_code == 0  # creates this machine's key, which signed nothing here
    other = invoke(cli_app, "conformance", "verify", str(tmp_path / "r.json"))
    assert other.exit_code == 3 and "verify.other-key" in other.output
    missing = invoke(cli_app, "conformance", "verify", str(tmp_path / "nonexistent.json"), *key)
    assert missing.exit_code == 2 and (missing.exception is None or isinstance(missing.exception, SystemExit))
    (tmp_path / "bad.jwk").write_text("not a key")
    assert invoke(cli_app, "conformance", "verify", str(tmp_path / "r.json"), "--key",
                  str(tmp_path / "bad.jwk")).exit_code == 2


def test_run_exits_3_on_failure_and_2_on_usage_errors(csb, ws, cli_app, tmp_path) -> None:
    vendor = vendor_for_next_run(csb, ws, stubborn=True)
    p = invoke(cli_app, "conformance", "run", "example", "--url", csb.base_url, "-w", ws, "--step-timeout", "20",
               "--junit", str(tmp_path / "j.xml"))
    vendor.join(5)
    assert p.exit_code == 3, p.output
    assert (tmp_path / "j.xml").exists()
    cases = [
        (["nope"], 2, "suite inconnue 'nope'"),  # the server's detail, in the CLI's language (fr by default)
        (["example", "--only", "insi.77"], 2, "insi.77"),
        (["example", "--preset", str(tmp_path / "typed.json")], 2, "field: nom"),
        (["example", "--preset", str(tmp_path / "broken.json")], 2, "invalid JSON"),
        (["example", "--quiet-window", "0"], 2, "quiet must be in"),
    ]
    (tmp_path / "typed.json").write_text(json.dumps({"nom": 12}))
    (tmp_path / "broken.json").write_text("{broken")
    for args, code, text in cases:
        r = invoke(cli_app, "conformance", "run", *args, "--url", csb.base_url, "-w", ws)
        assert r.exit_code == code and text in r.output, (args, r.output)
        assert r.exception is None or isinstance(r.exception, SystemExit)
    gone = invoke(cli_app, "conformance", "run", "example", "--url", "http://127.0.0.1:9", "-w", ws)
    assert gone.exit_code == 4 and "unreachable" in gone.output


def test_a_second_run_in_a_busy_workspace_is_refused(csb, ws, cli_app) -> None:
    with csb.client() as c:
        first = c.post("/conformance/api/runs", json={"suite": "example", "workspace": ws, "step_timeout": 30}).json()
    try:
        p = invoke(cli_app, "conformance", "run", "example", "--url", csb.base_url, "-w", ws)
        assert p.exit_code == 4 and "déjà en cours" in p.output  # the server's detail, French by default
    finally:
        with csb.client() as c:
            c.post(f"/conformance/api/runs/{first['id']}/cancel")


def test_offline_commands(cli_app, tmp_path) -> None:
    explain = invoke(cli_app, "conformance", "explain", "INS.INSI/04")
    assert explain.exit_code == 0 and "SHALL" in explain.output and "code retour 02" in explain.output
    unknown = invoke(cli_app, "conformance", "explain", "NOPE/1")
    assert unknown.exit_code == 2 and "names no suite" in unknown.output
    assert invoke(cli_app, "conformance", "coverage", "nope").exit_code == 2
    assert invoke(cli_app, "conformance", "coverage").exit_code == 0
    assert invoke(cli_app, "conformance", "list").exit_code == 0
    show = invoke(cli_app, "pki", "show", "--json")
    jwk = json.loads(show.output)
    assert show.exit_code == 0 and jwk["kty"] == "OKP" and jwk["crv"] == "Ed25519" and jwk["kid"]
    # the key lives in the database (sealed); the folder gets its public half only, for offline verify
    pki = tmp_path / "data" / "pki"
    assert not (pki / "conformance-signing-key.pem").exists()
    assert OKPKey.import_key((pki / "conformance-signing-key.pub.pem").read_bytes()).thumbprint() == jwk["kid"]


def test_simulate_plays_the_vendor_through_the_registered_simulator(csb, ws, cli_app, monkeypatch, tmp_path) -> None:
    seen: list[tuple[str, str, list[str]]] = []

    def factory(base_url: str, workspace: str, faults: list[str]):  # noqa: ANN202 - a SimulatorFactory
        seen.append((base_url, workspace, faults))
        return fake_vendor(base_url, workspace, key=csb.operator_key, stubborn="repeat-search" in faults)

    monkeypatch.setattr(cli_run, "find_simulator", lambda suite: factory)
    runner = CliRunner()
    good = runner.invoke(cli_app, ["conformance", "run", "example", "--simulate", "--url", csb.base_url, "-w", ws,
                                   "--json", str(tmp_path / "good.json")])
    assert good.exit_code == 0, good.output
    assert json.loads((tmp_path / "good.json").read_bytes())["report"]["verdict"] == "pass"
    bad = runner.invoke(cli_app, ["conformance", "run", "example", "--simulate", "--simulate-fault", "repeat-search",
                                  "--url", csb.base_url, "-w", ws])
    assert bad.exit_code == 3, bad.output
    assert seen == [(csb.base_url, ws, []), (csb.base_url, ws, ["repeat-search"])]
    lonely = runner.invoke(cli_app, ["conformance", "run", "example", "--simulate-fault", "x", "--url", csb.base_url])
    assert lonely.exit_code == 2


def test_simulate_without_a_simulator_is_a_usage_error(csb, ws, cli_app) -> None:
    r = CliRunner().invoke(cli_app, ["conformance", "run", "example", "--simulate", "--url", csb.base_url, "-w", ws])
    assert r.exit_code == 2 and "no simulator for suite 'example'" in r.output
