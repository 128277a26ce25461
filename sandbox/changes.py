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

import mmap
import os
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

SIZE = 8

# an exclusive lock on the counter file around a bump: flock on POSIX, the C runtime's byte-range
# lock on Windows (the data folder is local to the machine in both cases)
if sys.platform == "win32":
    import msvcrt

    def _lock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_LOCK, SIZE)

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, SIZE)
else:
    import fcntl

    def _lock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX)

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


class ChangeCounter:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._map: mmap.mmap | None = None
        self._fd = -1

    def _open(self) -> mmap.mmap:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        _lock(fd)
        try:
            if os.fstat(fd).st_size < SIZE:
                os.ftruncate(fd, SIZE)
        finally:
            _unlock(fd)
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
        _lock(self._fd)
        try:
            m[:SIZE] = ((int.from_bytes(m[:SIZE], "little") + 1) % 2**63).to_bytes(SIZE, "little")
        finally:
            _unlock(self._fd)

    def close(self) -> None:
        if self._map is not None:
            self._map.close()
            os.close(self._fd)
            self._map, self._fd = None, -1


class FreshCache:
    """Values loaded on demand and kept per process until any process records a change on
    ``changes``, and ``ttl`` seconds at most (the bound for other nodes sharing the database)."""

    def __init__(self, ttl: float, changes: ChangeCounter, size: int = 10_000) -> None:
        self.ttl, self.changes, self.size = ttl, changes, size
        self._data: dict[Any, tuple[float, int, Any]] = {}

    def _fresh(self, key: Any, now: float, generation: int) -> tuple[float, int, Any] | None:
        hit = self._data.get(key)
        return hit if hit is not None and now - hit[0] < self.ttl and hit[1] == generation else None

    def _keep(self, now: float, generation: int, values: dict[Any, Any]) -> None:
        if len(self._data) + len(values) > self.size:
            self._data.clear()
        for key, value in values.items():
            self._data[key] = (now, generation, value)

    async def get(self, key: Any, load: Callable[[], Awaitable[Any]]) -> Any:
        now, generation = time.monotonic(), self.changes.value()
        hit = self._fresh(key, now, generation)
        if hit is not None:
            return hit[2]
        value = await load()
        self._keep(now, generation, {key: value})
        return value

    async def get_many(self, keys: list[Any],
                       load: Callable[[list[Any]], Awaitable[dict[Any, Any]]]) -> dict[Any, Any]:
        """Values of ``keys`` (None for a key ``load`` does not find, remembered too): one
        ``load(missing_keys)`` for those not fresh here."""
        now, generation = time.monotonic(), self.changes.value()
        out: dict[Any, Any] = {}
        missing = []
        for key in keys:
            hit = self._fresh(key, now, generation)
            if hit is None:
                missing.append(key)
            else:
                out[key] = hit[2]
        if missing:
            found = await load(missing)
            loaded = {key: found.get(key) for key in missing}
            self._keep(now, generation, loaded)
            out.update(loaded)
        return out

    def drop(self, key: Any | None = None) -> None:
        """Forget this process's copy of ``key``, or of everything if None (other processes:
        :meth:`ChangeCounter.bump`)."""
        if key is None:
            self._data.clear()
        else:
            self._data.pop(key, None)
