"""A change counter shared by the worker processes of one sandbox (DESIGN "Persistence").

Hot paths keep short-lived per-process copies of rarely changing rows (scripted faults, PSC
clients, workspaces, RNIV statuses). When ``mes-sandbox serve --workers N`` runs several processes
on one data folder, a change made through one of them must reach the others at once: a fault
scripted for "the next call" fires on the next call whichever process takes it.

Every change to such rows calls :meth:`ChangeCounter.bump`; a cached copy is valid only while
:meth:`ChangeCounter.value` still equals the value read when it was filled. The counter is 8 bytes
of a memory-mapped file in the data folder, so reading it costs no system call; bumps (rare,
administrative) take a file lock. Separate machines sharing one database (Docker Compose scale-out)
do not share the file: there, the caches' own time-to-live bounds how stale a copy can be.
"""

from __future__ import annotations

import fcntl
import mmap
import os
from pathlib import Path

SIZE = 8


class ChangeCounter:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._map: mmap.mmap | None = None
        self._fd = -1

    def _open(self) -> mmap.mmap:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            if os.fstat(fd).st_size < SIZE:
                os.ftruncate(fd, SIZE)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
        self._fd = fd
        self._map = mmap.mmap(fd, SIZE)
        return self._map

    def value(self) -> int:
        """The current generation (changes whenever any process bumps it)."""
        m = self._map or self._open()
        return int.from_bytes(m[:SIZE], "little")

    def bump(self) -> None:
        """Record a change: every process's cached copies become stale."""
        m = self._map or self._open()
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        try:
            m[:SIZE] = ((int.from_bytes(m[:SIZE], "little") + 1) % 2**63).to_bytes(SIZE, "little")
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        if self._map is not None:
            self._map.close()
            os.close(self._fd)
            self._map, self._fd = None, -1
