"""Writing a file of the data folder so that no reader ever sees it half written or with the wrong
mode: secrets (PKI secret, operator key, issued client keys) and the published signing key.

Several processes of one data folder (``serve --workers N``, nodes sharing a folder) may write the
same file at once. Each writes its own uniquely named temporary file in the target's folder, sets
its mode, and then either **replaces** the target (last writer wins: they all write the same bytes,
or the newest is wanted) or **links** it into place (first writer wins: a random secret, where the
losers must adopt the winner's).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["write_atomically"]


def write_atomically(path: Path, data: bytes, *, mode: int = 0o600, replace: bool = True) -> bool:
    """Write ``data`` to ``path`` with ``mode`` (0600 by default: readable by its owner only, from
    the first byte). ``replace=False`` keeps a file another process put there first and answers
    False; otherwise True."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # created 0600
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.chmod(tmp, mode)
        if replace:
            os.replace(tmp, path)
            return True
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
        return True
    finally:
        if os.path.lexists(tmp):
            os.unlink(tmp)
