"""Fixtures of the conformance runner's tests: a sandbox whose conformance service also knows the
example suites of ``runner_example.py`` (put on sys.path here because pytest runs with
``--import-mode=importlib``), a fresh workspace per test, a fake vendor thread."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from runner_example import BULK, ENDINGS, EXAMPLE, QUIET, fake_vendor  # noqa: E402

from conformance.service import make_service  # noqa: E402
from conformance.simulate import VendorThread, wait_finished  # noqa: E402
from sandbox.services import discover  # noqa: E402
from sandbox.testing import RunningSandbox, running_sandbox  # noqa: E402


def runner_services() -> list:
    return [s for s in discover() if s.name != "conformance"] + [make_service((EXAMPLE, ENDINGS, BULK, QUIET))]


@pytest.fixture(scope="module")
def csb() -> Iterator[RunningSandbox]:
    with running_sandbox(services=runner_services()) as sb:
        yield sb


@pytest.fixture()
def ws(csb: RunningSandbox) -> Iterator[str]:
    name = f"c-{uuid.uuid4().hex[:10]}"
    with csb.client() as c:
        c.post("/sandbox/api/workspaces", json={"name": name}).raise_for_status()
    yield name


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
        return fake_vendor(self.sb.base_url, self.workspace, **kw)

    def get(self, path: str, **kw: Any) -> httpx.Response:
        with self.sb.client() as c:
            return c.get(path, **kw)

    def post(self, path: str, **kw: Any) -> httpx.Response:
        with self.sb.client() as c:
            return c.post(path, **kw)

    def results(self, run_id: str) -> dict[str, dict[str, Any]]:
        return {r["id"]: r for r in self.get(f"/conformance/api/runs/{run_id}/results").json()["results"]}


@pytest.fixture()
def runner(csb: RunningSandbox, ws: str) -> Runner:
    return Runner(csb, ws)
