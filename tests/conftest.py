"""Shared fixtures. Every suite talks to a real sandbox (uvicorn on a free port) through
:mod:`sandbox.testing`; the database is SQLite, or PostgreSQL when
``MES_SANDBOX_TEST_DATABASE_URL`` is set (``.ci/run`` does both)."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from sandbox.testing import RunningSandbox, running_sandbox


def pytest_configure(config: pytest.Config) -> None:
    """Keep the whole run away from the user's own sandbox: commands and ``Settings()`` read
    ``MES_SANDBOX_DATA_DIR``, which would otherwise be the user data folder."""
    folder = tempfile.mkdtemp(prefix="mes-sandbox-tests-")
    config.stash[_DATA_DIR] = folder
    os.environ["MES_SANDBOX_DATA_DIR"] = folder
    os.environ.pop("MES_SANDBOX_DATABASE_URL", None)
    # dur (issue 19): the nodes a test starts on one database share one PKI secret, as a deployment's do
    os.environ["MES_SANDBOX_PKI_SECRET_FILE"] = os.path.join(folder, "pki-secret")


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(config.stash.get(_DATA_DIR, ""), ignore_errors=True)


_DATA_DIR = pytest.StashKey[str]()


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


@dataclass
class Tenant:
    """A workspace created for one test, with its API key."""

    name: str
    key: str


@pytest.fixture()
def two_tenants(sandbox: RunningSandbox) -> Iterator[tuple[Tenant, Tenant]]:
    """Two new workspaces, each with its own key (the shared-sandbox tests), deleted afterwards."""
    tenants = []
    for _ in range(2):
        name = f"v-{uuid.uuid4().hex[:10]}"
        tenants.append(Tenant(name, sandbox.create_workspace(name)))
    yield tenants[0], tenants[1]
    with sandbox.client() as c:
        for t in tenants:
            c.delete(f"/sandbox/api/workspaces/{t.name}")
