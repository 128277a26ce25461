"""Per-process caches of values that change rarely (workspace options, RNIV status), so one ITI-65
does not pay a database round trip for each. An entry is dropped as soon as any worker process
records a change (:mod:`sandbox.changes`: workspace created, reset or deleted) and after ``ttl``
seconds at most (other nodes sharing the database). Kept in ``ctx.state`` (no module singletons)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from sandbox.changes import ChangeCounter

if TYPE_CHECKING:
    from sandbox.context import SandboxContext

MISSING = object()


class TtlCache:
    def __init__(self, ttl: float, changes: ChangeCounter, size: int = 10_000) -> None:
        self.ttl, self.changes, self.size = ttl, changes, size
        self._data: dict[Any, tuple[float, int, Any]] = {}

    async def get(self, key: Any, load: Callable[[], Awaitable[Any]]) -> Any:
        now = time.monotonic()
        generation = self.changes.value()
        hit = self._data.get(key)
        if hit is not None and now - hit[0] < self.ttl and hit[1] == generation:
            return hit[2]
        value = await load()
        if len(self._data) >= self.size:
            self._data.clear()
        self._data[key] = (now, generation, value)
        return value


def cache(ctx: SandboxContext, name: str, ttl: float) -> TtlCache:
    key = f"dmp.cache.{name}"
    found = ctx.state.get(key)
    if found is None:
        found = ctx.state[key] = TtlCache(ttl, ctx.changes)
    return found


async def workspace(ctx: SandboxContext, name: str) -> Any:
    """The workspace (or None), re-read after any change and at least every second."""
    return await cache(ctx, "workspaces", 1.0).get(name, lambda: ctx.workspaces.get(name))
