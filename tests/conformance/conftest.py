"""Fixtures of the conformance runner's tests: a sandbox whose conformance service also knows the
example suites of ``runner_example.py`` (put on sys.path here because pytest runs with
``--import-mode=importlib``), a fresh workspace per test, a fake vendor thread."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from runner_example import BULK, ENDINGS, EXAMPLE, QUIET  # noqa: E402
from runner_kit import Runner  # noqa: E402

from conformance.service import make_service  # noqa: E402
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


@pytest.fixture()
def runner(csb: RunningSandbox, ws: str) -> Runner:
    return Runner(csb, ws)
