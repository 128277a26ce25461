"""The ``mes-sandbox`` command line, run as a user would (subprocess, real database)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509

from sandbox.testing import fresh_database

CLI = [sys.executable, "-c", "from sandbox.cli import main; main()"]


@pytest.fixture(scope="module")
def cli_env(tmp_path_factory):
    data = tmp_path_factory.mktemp("cli")
    with fresh_database(data) as url:
        env = {**os.environ, "MES_SANDBOX_DATA_DIR": str(data), "MES_SANDBOX_DATABASE_URL": url}
        yield env, data


def run(env, *args, ok=True):
    p = subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=120)
    if ok:
        assert p.returncode == 0, p.stdout + p.stderr
    return p


def test_version(cli_env):
    env, _ = cli_env
    assert "mes-sandbox 0.1.0" in run(env, "--version").stdout


def test_seed_then_personas_json(cli_env):
    env, _ = cli_env
    assert "personas" in run(env, "seed").stdout
    patients = json.loads(run(env, "personas", "list", "--kind", "patient", "--json").stdout)
    assert len(patients) >= 200 and all(p["kind"] == "patient" for p in patients)
    table = run(env, "personas", "list", "--kind", "professional", "--limit", "3").stdout
    assert "899700218896" in table


@pytest.mark.timeout(300)  # seven processes, each migrating and seeding (slow on a loaded machine, PostgreSQL)
def test_workspace_lifecycle(cli_env):
    env, _ = cli_env
    run(env, "workspace", "create", "cli-ws", "--title", "CLI")
    assert "cli-ws" in run(env, "workspace", "list").stdout
    assert "réinitialisé" in run(env, "workspace", "reset", "cli-ws").stdout  # French unless MES_SANDBOX_LANGUAGE=en
    assert "reset to its seeded world" in run({**env, "MES_SANDBOX_LANGUAGE": "en"}, "reset", "cli-ws").stdout
    again = run(env, "workspace", "create", "cli-ws", ok=False)
    assert again.returncode == 1 and "existe déjà" in again.stdout
    again = run({**env, "MES_SANDBOX_LANGUAGE": "en"}, "workspace", "create", "cli-ws", ok=False)
    assert again.returncode == 1 and "already exists" in again.stdout
    run(env, "workspace", "delete", "cli-ws")
    assert "cli-ws" not in run(env, "workspace", "list").stdout
    missing = run(env, "workspace", "delete", "cli-ws", ok=False)
    assert missing.returncode == 1 and "aucun espace de travail" in missing.stdout


def test_pki_issue(cli_env, tmp_path):
    env, data = cli_env
    out = tmp_path / "org"
    run(env, "pki", "issue", "--kind", "organisation", "--subject", "INSI-AUTO", "--identifier", "0B0193488",
        "--out", str(out))
    cert = x509.load_pem_x509_certificate((out / "cert.pem").read_bytes())
    assert "OU=0B0193488" in cert.subject.rfc4514_string()
    assert (out / "cert.p12").exists() and (Path(data) / "pki" / "ca-bundle.pem").exists()
    bad = run(env, "pki", "issue", "--kind", "alien", "--subject", "x", "--out", str(out), ok=False)
    assert bad.returncode == 2


def test_usage_error_exit_code(cli_env):
    env, _ = cli_env
    assert run(env, "no-such-command", ok=False).returncode == 2


def test_serve_answers_docs_and_personas(cli_env):
    import time

    import httpx

    from sandbox.testing import free_port, spare_mail_ports

    env, _ = cli_env
    port, tls = free_port(), free_port()
    env = {**env, "MES_SANDBOX_PORT": str(port), "MES_SANDBOX_HTTPS_PORT": str(tls),
           # mail listeners on free ports: a shared machine may already run a sandbox on 2525/2143
           **spare_mail_ports()}
    proc = subprocess.Popen([*CLI, "serve"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/docs", timeout=2)
                break
            except httpx.TransportError:
                assert proc.poll() is None and time.monotonic() < deadline, "serve did not come up"
                time.sleep(0.1)
        assert r.status_code == 200 and "swagger" in r.text.lower()
        url = f"http://127.0.0.1:{port}/sandbox/api/personas"
        assert httpx.get(url).status_code == 401  # no key, no answer
        key = run(env, "operator-key", "show").stdout.strip()
        patients = httpx.get(url, params={"kind": "patient"}, headers={"Authorization": f"Bearer {key}"}).json()
        assert patients["total"] >= 200
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    assert "/sandbox/api/personas" in out and "899700218896" in out  # endpoint table + credentials
    assert key in out  # printed on first start


def test_serve_refuses_a_busy_port(cli_env):
    import socket

    env, _ = cli_env
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        busy = s.getsockname()[1]
        p = run({**env, "MES_SANDBOX_PORT": str(busy)}, "serve", ok=False)
    assert p.returncode == 1 and "impossible d'écouter" in p.stdout


def test_open_is_refused_on_a_non_loopback_bind(cli_env):
    env, _ = cli_env
    p = run(env, "serve", "--open", "--host", "0.0.0.0", ok=False)
    assert p.returncode == 2 and "loopback" in p.stdout + p.stderr


def test_operator_key_file_is_private_and_rotates(cli_env):
    env, data = cli_env
    first = run(env, "operator-key", "show").stdout.strip()
    assert first.startswith("msbo.") and (data / "operator-key").stat().st_mode & 0o777 == 0o600
    second = run(env, "operator-key", "rotate").stdout.strip()
    assert second != first and run(env, "operator-key", "show").stdout.strip() == second
    assert (data / "operator-key").stat().st_mode & 0o777 == 0o600


def test_database_and_keys_are_readable_by_their_owner_only(cli_env):
    env, data = cli_env
    run(env, "seed")
    run(env, "pki", "issue", "--kind", "organisation", "--subject", "INSI-AUTO", "--identifier", "0B0193488",
        "--out", str(data / "issued"))
    private = [data / "operator-key", data / "pki" / "root-ca.key", data / "issued" / "key.pem",
               data / "issued" / "cert.p12"]
    if env["MES_SANDBOX_DATABASE_URL"].startswith("sqlite"):
        private += [p for p in data.glob("sandbox.db*")]
    private += list((data / "pki").glob("*.key"))
    run(env, "operator-key", "show")
    assert len(private) >= 5
    for path in private:
        assert path.stat().st_mode & 0o777 == 0o600, path


def test_commands_say_in_one_line_when_the_database_cannot_be_reached(tmp_path):
    """Like serve, a command on a PostgreSQL database that is missing and cannot be created stops with
    one line saying how, not a traceback (issue #14 item 4)."""
    env = {**os.environ, "MES_SANDBOX_DATA_DIR": str(tmp_path),
           "MES_SANDBOX_DATABASE_URL": "postgresql+asyncpg://nobody@127.0.0.1:1/absent"}
    p = run(env, "seed", ok=False)
    assert p.returncode == 1 and "Traceback" not in p.stderr
    assert p.stderr.strip().count("\n") == 0 and "createdb absent" in p.stderr, p.stderr
