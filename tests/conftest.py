"""Shared fixtures. Every suite talks to a real sandbox (uvicorn on a free port) through
:mod:`sandbox.testing`; the database is SQLite, or PostgreSQL when
``MES_SANDBOX_TEST_DATABASE_URL`` is set (``.ci/run`` does both)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from sandbox.testing import RunningSandbox, running_sandbox


@pytest.fixture(scope="session")
def sandbox() -> Iterator[RunningSandbox]:
    """One sandbox shared by the session; isolate tests with the ``workspace`` fixture."""
    with running_sandbox() as sb:
        yield sb


@pytest.fixture()
def workspace(sandbox: RunningSandbox) -> Iterator[str]:
    """A fresh seeded workspace for one test, deleted afterwards."""
    name = f"t-{uuid.uuid4().hex[:10]}"
    with sandbox.client() as c:
        c.post("/sandbox/api/workspaces", json={"name": name}).raise_for_status()
    yield name
    with sandbox.client() as c:
        c.delete(f"/sandbox/api/workspaces/{name}")


@pytest.fixture()
def client(sandbox: RunningSandbox) -> Iterator[httpx.Client]:
    with sandbox.client() as c:
        yield c
