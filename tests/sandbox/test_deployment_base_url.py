"""One public base URL per deployment (issue 19): a node announcing another address than the one
the database records refuses to start with one line saying how to fix it, unless told to take over."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

import pytest

from sandbox.testing import fresh_database, running_sandbox

A = "http://sandbox-a.test"
B = "http://sandbox-b.test"


def _mismatch_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "deployment-base-url-mismatch" in r.getMessage()]


def test_a_node_with_another_base_url_refuses_unless_taking_over(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="mes-sandbox-url-") as tmp, fresh_database(Path(tmp)) as url:
        with running_sandbox(database_url=url, public_base_url=A):
            with running_sandbox(database_url=url, public_base_url=A + "/"):  # same URL, trailing slash
                pass
            with pytest.raises(RuntimeError, match="failed to start"), \
                    running_sandbox(database_url=url, public_base_url=B):
                pass
        lines = _mismatch_lines(caplog)
        assert len(lines) == 1 and A in lines[0] and B in lines[0]
        assert "--take-over-public-base-url" in lines[0] and "\n" not in lines[0]

        caplog.clear()
        with running_sandbox(database_url=url, public_base_url=B, take_over_public_base_url=True):
            pass
        with pytest.raises(RuntimeError, match="failed to start"), running_sandbox(database_url=url, public_base_url=A):
            pass  # B is now the deployment's address
        assert len(_mismatch_lines(caplog)) == 1


def test_the_message_is_english_on_request(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="mes-sandbox-url-") as tmp, fresh_database(Path(tmp)) as url:
        with running_sandbox(database_url=url, public_base_url=A):
            pass
        with pytest.raises(RuntimeError), running_sandbox(database_url=url, public_base_url=B, language="en"):
            pass
    assert "this database serves the public base URL" in _mismatch_lines(caplog)[0]
