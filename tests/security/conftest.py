"""Fixtures of the shared-sandbox tests: two workspaces with their own keys, and the DMP helpers
(tests/dmp/dmp_helpers.py, put on sys.path because pytest runs with --import-mode=importlib)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "dmp"))
sys.path.insert(0, str(Path(__file__).parent))

from dmp_helpers import Dmp  # noqa: E402

from sandbox.testing import RunningSandbox  # noqa: E402


@pytest.fixture()
def dmp(sandbox: RunningSandbox, workspace: str) -> Iterator[Dmp]:
    with sandbox.client(follow_redirects=False) as http:
        yield Dmp(sandbox, workspace, http)
