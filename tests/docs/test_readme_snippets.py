"""Every ```` ```bash ```` block of every README runs as pasted, in order, on a fresh sandbox.

The convention every README follows (README.md, and ``<package>/README.md`` found by glob, so a
new package's README is picked up with no change here):

- each ```` ```bash ```` block is executed, the blocks of one README one after the other in one
  ``bash`` process (``set -euo pipefail``: a failing command fails the test, naming its block), so
  a variable set in one block (``TOKEN=...``) is there in the next; the current directory is a
  fresh temporary folder, so files a block writes (``mes-sandbox samples write``) are there for
  the next ones;
- the snippets assume a sandbox already running with its defaults: ``http://127.0.0.1:8080`` (or
  ``localhost:8080``), HTTPS on ``localhost:8443``, ``mes-sandbox ...`` commands on its data folder.
  The test starts a fresh sandbox per README on free ports and rewrites those URLs to them, and
  points ``mes-sandbox`` at it through the environment (``MES_SANDBOX_PORT``, ``_HTTPS_PORT``,
  ``_DATA_DIR``, ``_DATABASE_URL``, and the mail ports ``_SMTP_PORT``, ``_IMAP_PORT``… the
  listeners bound), so a sandbox the user runs on 8080 is never touched;
- a line that starts ``mes-sandbox serve`` is not run (the sandbox is already there);
- ``curl`` fails on an HTTP error status (``--fail-with-body``): a snippet that shows an error on
  purpose says so with ``|| true``;
- a block that needs the vendor's own software, another server (PostgreSQL, Docker) or cannot run
  unattended is fenced ```` ```console ```` with a sentence saying why, and is not run; the
  quick start's install-and-serve / install-and-test block is one of them: CI runs it (``.ci/run``).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from sandbox.testing import running_sandbox

ROOT = Path(__file__).resolve().parents[2]
READMES = sorted([ROOT / "README.md", *ROOT.glob("*/README.md")], key=lambda p: (p.parent != ROOT, str(p)))
BLOCK = re.compile(r"^```bash[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
SERVE = re.compile(r"^\s*mes-sandbox serve\b.*$", re.MULTILINE)


def bash_blocks(text: str) -> list[str]:
    """The ```bash blocks of a README, in order."""
    return [m.group(1) for m in BLOCK.finditer(text)]


def script(blocks: list[str], http: str, https: str) -> str:
    """One bash script running ``blocks`` in order, URLs rewritten, ``echo``-ing each block's number."""
    out = ["set -euo pipefail",
           'curl() { command curl --fail-with-body -sS --max-time 60 "$@"; echo; }']
    for i, block in enumerate(blocks, 1):
        body = SERVE.sub(": sandbox already running", block)
        body = re.sub(r"https://(?:localhost|127\.0\.0\.1):8443", https, body)
        body = re.sub(r"(?:http://)?(?:localhost|127\.0\.0\.1):8080", http, body)
        out += [f"echo '=== block {i}' >&2", body]
    return "\n".join(out) + "\n"


WITH_BLOCKS = [p for p in READMES if bash_blocks(p.read_text(encoding="utf-8"))]


def test_readmes_are_found() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in READMES}
    assert {"README.md", "psc/README.md", "ins/README.md", "dmp/README.md", "profiles/README.md"} <= names
    assert {"README.md", "psc/README.md", "ins/README.md", "dmp/README.md"} <= {
        p.relative_to(ROOT).as_posix() for p in WITH_BLOCKS}


@pytest.mark.timeout(600)
@pytest.mark.parametrize("readme", WITH_BLOCKS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_bash_blocks_run_as_pasted(readme: Path, tmp_path: Path) -> None:
    blocks = bash_blocks(readme.read_text(encoding="utf-8"))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "mes-sandbox"  # the code under test, whatever else is on PATH
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -c "from sandbox.cli import main; main()" "$@"\n')
    shim.chmod(0o755)
    work = tmp_path / "work"
    work.mkdir()
    with running_sandbox() as sb:
        s = sb.settings
        env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}"
                                     f"{os.environ.get('PATH', '')}",
               "MES_SANDBOX_DATA_DIR": str(s.data_dir), "MES_SANDBOX_DATABASE_URL": s.database_url,
               "MES_SANDBOX_PORT": str(s.port), "MES_SANDBOX_HTTPS_PORT": sb.https_base_url.rsplit(":", 1)[1],
               "MES_SANDBOX_PUBLIC_BASE_URL": sb.base_url}
        for name, bound in sb.ctx.state.get("listeners", {}).items():  # mail ports (settings say 0 here)
            env[f"MES_SANDBOX_{name.upper()}_PORT"] = str(bound)
        env.pop("TOKEN", None)
        text = script(blocks, sb.base_url, sb.https_base_url)
        p = subprocess.run(["bash", "-c", text], cwd=work, env=env, capture_output=True, text=True, timeout=540)
    ran = p.stderr.count("=== block ")
    assert p.returncode == 0, (f"{readme.relative_to(ROOT)}: block {ran} of {len(blocks)} failed "
                               f"(exit {p.returncode}):\n--- block ---\n{blocks[max(ran, 1) - 1]}\n"
                               f"--- stdout ---\n{p.stdout[-3000:]}\n--- stderr ---\n{p.stderr[-3000:]}")
    assert ran == len(blocks)
