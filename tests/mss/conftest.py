"""Fixtures of the MSSanté tests: a sandbox with its mail listeners on free ports and certificates
of the test PKI (helpers in mss_helpers.py, put on sys.path here: pytest runs with
--import-mode=importlib)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from mss_helpers import PRO_ID, first  # noqa: E402

from sandbox.pki import CertKind, Issued  # noqa: E402
from sandbox.testing import RunningSandbox, running_sandbox  # noqa: E402


@pytest.fixture(scope="module")
def mss() -> Iterator[RunningSandbox]:
    with running_sandbox() as sb:
        yield sb


@pytest.fixture(scope="module")
def certs(mss: RunningSandbox, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Issued]:
    base: Path = tmp_path_factory.mktemp("certs")
    pki = mss.ctx.pki
    lab = first(mss, "organisation", category="lab")
    return {
        "pro": pki.issue(CertKind.PROFESSIONAL, PRO_ID, base / "pro", given="ROBERT", surname="TEST"),
        "org": pki.issue(CertKind.ORGANISATION, "LPS-LABO", base / "org", identifier=lab["id"]),
        "nobody": pki.issue(CertKind.PROFESSIONAL, "810000000000", base / "nobody"),
    }


