"""The key helpers behind /sandbox/api (sandbox/credentials.py, sandbox/operator_key.py)."""

from __future__ import annotations

import os

from sandbox.credentials import (
    OperatorKey,
    ensure_operator_key,
    new_workspace_key,
    rotate_operator_key,
    workspace_of_key,
    write_private,
)
from sandbox.operator_key import cli_api_headers
from sandbox.settings import Settings


def test_operator_key_rotation_reaches_a_running_checker(tmp_path) -> None:
    key, created = ensure_operator_key(tmp_path)
    assert created and ensure_operator_key(tmp_path) == (key, False)
    checker = OperatorKey(tmp_path)
    assert checker.matches(key) and not checker.matches(key + "x") and not checker.matches("")
    new = rotate_operator_key(tmp_path)
    os.utime(tmp_path / "operator-key", (1, 1))  # a new mtime even within the file system's resolution
    checker._checked = 0.0  # as if a second went by
    assert checker.matches(new) and not checker.matches(key)
    assert OperatorKey(tmp_path, override="from-env").matches("from-env")


def test_cli_headers_and_key_shapes(tmp_path) -> None:
    assert cli_api_headers(Settings(data_dir=tmp_path)) == {}
    key, _ = ensure_operator_key(tmp_path)
    assert cli_api_headers(Settings(data_dir=tmp_path)) == {"Authorization": f"Bearer {key}"}
    ws_key = new_workspace_key("acme-1")
    assert workspace_of_key(ws_key) == "acme-1"
    for junk in ("", "msbw.", "msbw.acme", "msbo.x", "Bearer x", "msbw..x"):
        assert workspace_of_key(junk) is None, junk
    write_private(tmp_path / "k" / "secret", b"s")
    assert (tmp_path / "k" / "secret").stat().st_mode & 0o777 == 0o600
