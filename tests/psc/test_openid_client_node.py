"""panva openid-client 6.8.9 (a strict relying party, npm) through discovery, code + PKCE,
ID token validation, userinfo, refresh rotation and introspection against the running sandbox.

npm installs the pinned packages of ``bench/node-psc/package.json`` on first run (node_modules is not
committed). Node is present here and in CI: this test runs, it does not skip.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

NODE_DIR = Path(__file__).resolve().parents[2] / "bench" / "node-psc"


def _install() -> None:
    if (NODE_DIR / "node_modules" / "openid-client" / "package.json").exists():
        return
    cmd = ["npm", "ci" if (NODE_DIR / "package-lock.json").exists() else "install", "--no-audit", "--no-fund"]
    subprocess.run(cmd, cwd=NODE_DIR, check=True, capture_output=True, timeout=300)


def test_openid_client_full_flow(psc) -> None:
    assert shutil.which("node") and shutil.which("npm"), "node and npm are required (CI has them)"
    _install()
    installed = json.loads((NODE_DIR / "node_modules" / "openid-client" / "package.json").read_text())
    assert installed["version"] == "6.8.9"
    out = subprocess.run(
        ["node", "rp-flow.mjs", psc.issuer, psc.client_id, psc.secret,
         "http://127.0.0.1:8000/callback", "899700218896"],
        cwd=NODE_DIR, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["issuer"] == psc.issuer
    assert result["claims"]["sub"].endswith(":899700218896") and result["claims"]["acr"] == "eidas1"
    assert result["userinfo"]["sub"] == result["claims"]["sub"]
    assert result["userinfo"]["SubjectNameID"] == "899700218896"
    assert result["refreshed"] is True
    assert result["introspection"]["active"] is True and result["introspection"]["workspace"] == psc.workspace
    assert result["replay"] == "invalid_grant"
