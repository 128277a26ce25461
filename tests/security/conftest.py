"""Fixtures of the shared-sandbox tests: two workspaces with their own keys, and the DMP helpers
(tests/dmp/dmp_helpers.py, put on sys.path because pytest runs with --import-mode=importlib)."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "dmp"))
sys.path.insert(0, str(Path(__file__).parent))

from dmp_helpers import Dmp  # noqa: E402

from sandbox.testing import RunningSandbox  # noqa: E402


@dataclass
class Tenant:
    name: str
    key: str


@pytest.fixture()
def two_tenants(sandbox: RunningSandbox) -> Iterator[tuple[Tenant, Tenant]]:
    tenants = []
    for _ in range(2):
        name = f"v-{uuid.uuid4().hex[:10]}"
        tenants.append(Tenant(name, sandbox.create_workspace(name)))
    yield tenants[0], tenants[1]
    with sandbox.client() as c:
        for t in tenants:
            c.delete(f"/sandbox/api/workspaces/{t.name}")


@pytest.fixture()
def dmp(sandbox: RunningSandbox, workspace: str) -> Iterator[Dmp]:
    with sandbox.client(follow_redirects=False) as http:
        yield Dmp(sandbox, workspace, http)
