"""The everyday commands against a running sandbox, run as a user would (subprocess, ``--url``),
and what makes the command line start fast (lazy registry) and say clearly what is wrong."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import typer

from sandbox.testing import RunningSandbox

CLI = [sys.executable, "-c", "from sandbox.cli import main; main()"]
PAT1 = "297022A02077878"


def run(*args: str, env: dict[str, str] | None = None, ok: bool = True) -> subprocess.CompletedProcess[str]:
    p = subprocess.run([*CLI, *args], env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=120)
    if ok:
        assert p.returncode == 0, p.stdout + p.stderr
    return p


def operator(sandbox: RunningSandbox) -> dict[str, str]:
    """The environment of a user of ``sandbox``: its /sandbox/api asks for the operator key, which the
    CLI reads from the data folder or ``MES_SANDBOX_OPERATOR_KEY`` (the test sandbox has its own folder)."""
    return {"MES_SANDBOX_OPERATOR_KEY": sandbox.operator_key}


def _all_commands() -> list[tuple[str, Any]]:
    from sandbox.cli import LazyGroup, app, load_command
    from sandbox.services import discover_commands

    root = typer.main.get_command(app)
    assert isinstance(root, LazyGroup)
    top: dict[str, Any] = dict(root.commands)
    top.update({c.name: load_command(c) for c in discover_commands()})
    out: list[tuple[str, Any]] = []

    def walk(prefix: str, cmd: Any) -> None:  # typer's own click: groups are the ones with commands
        out.append((prefix, cmd))
        if getattr(cmd, "commands", None):
            for name, sub in cmd.commands.items():
                walk(f"{prefix} {name}", sub)

    for name, cmd in top.items():
        walk(name, cmd)
    return out


def test_every_command_and_subcommand_has_help() -> None:
    commands = _all_commands()
    names = {n for n, _ in commands}
    assert {"psc token", "dmp provide", "insi search", "exchanges list", "exchanges show", "faults add",
            "faults list", "faults clear", "faults kinds", "samples write", "validate", "serve"} <= names
    missing = [n for n, c in commands if not (c.help or "").strip()]
    assert not missing, f"commands without help text: {missing}"


def test_help_imports_no_service() -> None:
    code = ("import sys; sys.argv = ['mes-sandbox', '--help']\nfrom sandbox.cli import main\ntry: main()\n"
            "except SystemExit: pass\n"
            "heavy = [m for m in ('fastapi', 'sqlalchemy', 'profiles.api', 'psc.runtime', 'cryptography', 'httpx')"
            " if m in sys.modules]\nprint('HEAVY', heavy)")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "HEAVY []" in p.stdout, p.stdout + p.stderr
    assert "dmp provide" not in p.stdout and "insi" in p.stdout  # the lazy commands are listed by their help


def test_help_mirrors_match_their_sources() -> None:
    from psc import cli as psc_cli
    from psc.clients import AUTH_METHODS
    from psc.keys import SUPPORTED_ALGS
    from sandbox.cli_pki import CertKindChoice
    from sandbox.pki import CertKind

    assert psc_cli.AUTH_METHODS_HELP == " | ".join(AUTH_METHODS)
    assert psc_cli.ALGS_HELP == " | ".join(SUPPORTED_ALGS)
    assert [c.value for c in CertKindChoice] == [c.value for c in CertKind]


def test_psc_token_dmp_provide_and_evidence(sandbox: RunningSandbox, workspace: str, tmp_path: Path) -> None:
    url = ["--url", sandbox.base_url]
    env = operator(sandbox)
    token = run("psc", "token", "--persona", "899700218896", "-w", workspace, *url, env=env).stdout.strip()
    assert token.count(".") == 2  # a JWS
    run("samples", "write", str(tmp_path))
    for name in ("lettre-de-liaison.json", "cr-bio.json", "cr-img.json"):
        out = run("dmp", "provide", str(tmp_path / name), "--patient", PAT1, "-w", workspace, *url, env=env).stdout
        lines = out.strip().splitlines()
        assert [ln.split()[0] for ln in lines] == ["201"] * 3, out
        binary = next(ln.split()[-1] for ln in lines if "Binary/" in ln)
        with sandbox.client() as c:
            r = c.get(f"/dmp/fhir/{binary}", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200 and r.content == (tmp_path / name).read_bytes()
    bundle = tmp_path / "bundle.json"
    run("dmp", "provide", str(tmp_path / "cr-bio.json"), "--patient", PAT1, "--out", str(bundle))
    assert json.loads(bundle.read_text())["type"] == "transaction"
    ids = run("exchanges", "list", "-w", workspace, "--service", "dmp", "--ids", *url, env=env).stdout.split()
    assert len(ids) >= 3  # the three ITI-65 and the ITI-68 reads
    shown = json.loads(run("exchanges", "show", ids[0], *url, env=env).stdout)
    assert shown["service"] == "dmp" and shown["workspace"] == workspace
    assert '"resourceType"' in run("exchanges", "show", ids[0], "--body", "request", *url, env=env).stdout


def test_insi_search(sandbox: RunningSandbox, workspace: str) -> None:
    """The command sends the operator key it reads (plain-HTTP INSi takes the sandbox's keys)."""
    env = operator(sandbox)
    out = run("insi", "search", "--birth-name", "ADRTROIS", "--first-name", "DOMINIQUE", "--sex", "F",
              "--birth-date", "1997-02-26", "-w", workspace, "--url", sandbox.base_url, env=env).stdout
    assert "CR 00" in out and f"INS {PAT1}" in out
    none = run("insi", "search", "--birth-name", "PERSONNE", "--first-name", "NUL", "--sex", "M",
               "--birth-date", "1990-01-01", "-w", workspace, "--url", sandbox.base_url, ok=False, env=env)
    assert none.returncode == 1 and "CR 01" in none.stdout
    bad = run("insi", "search", "--birth-name", "adrtrois", "--first-name", "DOMINIQUE", "--sex", "F",
              "--birth-date", "1997-02-26", "-w", workspace, "--url", sandbox.base_url, ok=False, env=env)
    assert bad.returncode == 1 and "insi_420" in bad.stderr
    keyless = run("insi", "search", "--birth-name", "ADRTROIS", "--first-name", "DOMINIQUE", "--sex", "F",
                  "--birth-date", "1997-02-26", "-w", workspace, "--url", sandbox.base_url, ok=False)
    assert keyless.returncode == 1 and "insi_431" in keyless.stderr and "operator-key show" in keyless.stderr


def test_faults_add_list_clear(sandbox: RunningSandbox, workspace: str) -> None:
    url = ["--url", sandbox.base_url]
    env = operator(sandbox)
    assert "unavailable" in run("faults", "kinds", *url, env=env).stdout
    added = json.loads(run("faults", "add", "dmp", "unavailable", "--times", "2", "-w", workspace, *url,
                           env=env).stdout)
    assert added["kind"] == "unavailable" and added["times"] == 2
    assert len(json.loads(run("faults", "list", "-w", workspace, *url, env=env).stdout)) == 1
    assert json.loads(run("faults", "clear", "-w", workspace, *url, env=env).stdout) == {"cleared": 1}
    bad = run("faults", "add", "dmp", "no-such-kind", "-w", workspace, *url, env=env, ok=False)
    assert bad.returncode == 1 and "422" in bad.stderr and "Traceback" not in bad.stderr


def test_no_sandbox_is_one_line_in_the_users_language(tmp_path: Path) -> None:
    from sandbox.testing import free_port

    url = f"http://127.0.0.1:{free_port()}"
    fr = run("exchanges", "list", "--url", url, ok=False)
    assert fr.returncode == 2 and fr.stderr.startswith(f"aucun bac à sable ne répond sur {url}")
    assert len(fr.stderr.strip().splitlines()) == 1
    en = run("psc", "token", "--url", url, env={"MES_SANDBOX_LANGUAGE": "en"}, ok=False)
    assert en.returncode == 2 and en.stderr.startswith(f"no sandbox answers on {url}")


def test_a_command_on_an_empty_data_folder_warns_once(tmp_path: Path) -> None:
    env = {"MES_SANDBOX_DATA_DIR": str(tmp_path / "elsewhere")}
    first = run("workspace", "list", env=env)
    assert "était vide" in first.stderr and str(tmp_path / "elsewhere") in first.stderr
    assert "était vide" not in run("workspace", "list", env=env).stderr


def test_samples_are_valid_against_the_profiles(tmp_path: Path) -> None:
    import profiles
    from sandbox import samples

    for name in samples.NAMES:
        if name.endswith(".json"):
            issues = profiles.validate(json.loads(samples.read(name)))
            assert not [i for i in issues if i.severity.value in ("error", "fatal")], (name, issues)
    written = samples.write(tmp_path)
    assert [p.name for p in written] == list(samples.NAMES)
