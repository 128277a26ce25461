"""The key helpers behind /sandbox/api, the annuaire and INS (sandbox/credentials.py,
sandbox/operator_key.py)."""

from __future__ import annotations

import asyncio
import os

import pytest

from sandbox.credentials import (
    KeyRefusal,
    KeyRefused,
    OperatorKey,
    bearer_token,
    ensure_operator_key,
    new_workspace_key,
    rotate_operator_key,
    workspace_of_key,
    workspace_opened_by,
    write_private,
)
from sandbox.files import write_atomically
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


def test_atomic_writes_replace_or_keep_the_first_and_leave_no_temporary_file(tmp_path) -> None:
    target = tmp_path / "d" / "f"
    assert write_atomically(target, b"one", mode=0o644)
    assert target.read_bytes() == b"one" and target.stat().st_mode & 0o777 == 0o644
    assert write_atomically(target, b"two")  # replace: last writer wins, 0600 by default
    assert target.read_bytes() == b"two" and target.stat().st_mode & 0o777 == 0o600
    assert not write_atomically(target, b"three", replace=False)  # first writer wins
    assert target.read_bytes() == b"two"
    assert sorted(p.name for p in target.parent.iterdir()) == ["f"]


def test_operator_key_created_by_another_process_first_is_adopted(tmp_path, monkeypatch) -> None:
    import sandbox.credentials as credentials

    theirs = "msbo.written-by-the-other-worker"
    real_write = credentials.write_atomically

    def other_process_first(path, data, **kw):  # the other worker links its key between our read and write
        real_write(path, theirs.encode() + b"\n", replace=False)
        return real_write(path, data, **kw)

    monkeypatch.setattr(credentials, "write_atomically", other_process_first)
    assert ensure_operator_key(tmp_path) == (theirs, False)
    assert (tmp_path / "operator-key").read_text().strip() == theirs


class _Keys:
    """The workspace keys a store knows (what :class:`sandbox.workspaces.WorkspaceService` answers)."""

    def __init__(self, *keys: str) -> None:
        self.keys = keys

    async def key_matches(self, name: str, key: str) -> bool:
        return key in self.keys and workspace_of_key(key) == name


def test_which_workspace_a_key_opens(tmp_path) -> None:
    op, _ = ensure_operator_key(tmp_path)
    a = new_workspace_key("a")
    check = {"operator_key": OperatorKey(tmp_path), "workspaces": _Keys(a)}

    def opened(key: str, *named: str | None):  # noqa: ANN202
        return asyncio.run(workspace_opened_by(key, *named, **check))

    assert opened(op).holder.operator and opened(op).workspace is None
    assert opened(op, None, "b").workspace == "b" and opened(op, "c", "b").workspace == "c"
    assert opened(a).workspace == "a" and opened(a, "a", None).workspace == "a"
    assert not opened(a).holder.operator and opened(a).holder.may("a") and not opened(a).holder.may("b")
    refusals = {"": KeyRefusal.MISSING, new_workspace_key("a"): KeyRefusal.INVALID,
                new_workspace_key("b"): KeyRefusal.INVALID, "msbo.guess": KeyRefusal.INVALID}
    for key, reason in refusals.items():
        with pytest.raises(KeyRefused) as err:
            opened(key, "a")
        assert err.value.reason is reason and err.value.holder is None
    for named in (("b",), (None, "b"), ("a", "b"), ("",)):
        with pytest.raises(KeyRefused) as err:
            opened(a, *named)
        assert err.value.reason is KeyRefusal.OTHER_WORKSPACE and err.value.holder.workspace == "a"


def test_bearer_token() -> None:
    assert bearer_token("Bearer abc ") == "abc" and bearer_token("bearer abc") == "abc"
    assert bearer_token("Basic abc") == "" and bearer_token("") == "" and bearer_token("Bearer") == ""
