"""``Runner``: start runs over the HTTP API and play the vendor (used by the ``runner`` fixture and
by modules that build their own). A module of its own, not conftest.py: several test folders put
their folder on sys.path, so ``from conftest import ...`` could find another folder's conftest."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from runner_example import fake_vendor

from conformance.simulate import VendorThread, wait_finished
from sandbox.testing import RunningSandbox


class Runner:
    """Start runs over the HTTP API and play the vendor, as a vendor's CI would."""

    def __init__(self, sb: RunningSandbox, workspace: str) -> None:
        self.sb = sb
        self.workspace = workspace

    def start(self, suite: str = "example", **body: Any) -> httpx.Response:
        with self.sb.client() as c:
            return c.post("/conformance/api/runs", json={"suite": suite, "workspace": self.workspace, **body})

    def run(self, suite: str = "example", vendor: Callable[[str, dict[str, Any]], None] | None = None,
            **body: Any) -> dict[str, Any]:
        body.setdefault("step_timeout", 20)
        r = self.start(suite, **body)
        assert r.status_code == 201, r.text
        return self.follow(r.json()["id"], vendor)

    def follow(self, run_id: str, vendor: Callable[[str, dict[str, Any]], None] | None) -> dict[str, Any]:
        thread = VendorThread(self.sb.client, run_id, vendor).start() if vendor else None
        try:
            with self.sb.client() as c:
                return wait_finished(c, run_id, timeout=90)
        finally:
            if thread:
                thread.join()

    def vendor(self, **kw: Any) -> Callable[[str, dict[str, Any]], None]:
        return fake_vendor(self.sb.base_url, self.workspace, key=self.sb.operator_key, **kw)

    def get(self, path: str, **kw: Any) -> httpx.Response:
        with self.sb.client() as c:
            return c.get(path, **kw)

    def post(self, path: str, **kw: Any) -> httpx.Response:
        with self.sb.client() as c:
            return c.post(path, **kw)

    def results(self, run_id: str) -> dict[str, dict[str, Any]]:
        return {r["id"]: r for r in self.get(f"/conformance/api/runs/{run_id}/results").json()["results"]}
