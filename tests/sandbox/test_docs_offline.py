"""``/docs`` renders with the network off: Swagger UI's assets come from the installed package
(fastapi-offline), not a CDN. A real headless browser (Debian ``chromium``, installed by
``.ci/run``) loads the page with every host but the sandbox unresolvable and no route out."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from sandbox.testing import RunningSandbox

BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def _browser() -> str:
    found = next((p for p in map(shutil.which, BROWSERS) if p), None)
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("no headless browser: .ci/run installs Debian's chromium")
        pytest.skip("no chromium on this machine (apt-get install chromium); CI runs this test")
    return found


def render(url: str, profile: Path) -> str:
    """The DOM after the page's scripts ran, offline but for 127.0.0.1."""
    cmd = [_browser(), "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
           f"--user-data-dir={profile}",
           "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",  # no DNS: no CDN
           "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=127.0.0.1",  # no route out
           "--virtual-time-budget=15000", "--dump-dom", url]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr[-2000:]
    return p.stdout


def test_docs_render_offline(sandbox: RunningSandbox, tmp_path: Path) -> None:
    dom = render(sandbox.url("/docs"), tmp_path / "profile")
    assert 'class="swagger-ui"' in dom  # the bundle ran and built its UI
    assert "mes-sandbox" in dom and "/sandbox/api/workspaces" in dom  # from /openapi.json
    assert "Failed to load API definition" not in dom


def test_docs_assets_are_local(sandbox: RunningSandbox) -> None:
    with sandbox.client() as c:
        page = c.get("/docs").text
        assert "cdn." not in page and "https://" not in page
        for asset in ("/docs/assets/swagger-ui-bundle.js", "/docs/assets/swagger-ui.css"):
            assert asset in page and c.get(asset).status_code == 200
        assert "cdn." not in c.get("/redoc").text
