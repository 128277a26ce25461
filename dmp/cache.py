"""Short-lived per-node caches of values that change rarely (workspace options, RNIV status), so one
ITI-65 does not pay a database round trip for each. Kept in ``ctx.state`` (no module singletons)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sandbox.context import SandboxContext

MISSING = object()


class TtlCache:
    def __init__(self, ttl: float, size: int = 10_000) -> None:
        self.ttl, self.size = ttl, size
        self._data: dict[Any, tuple[float, Any]] = {}

    async def get(self, key: Any, load: Callable[[], Awaitable[Any]]) -> Any:
        now = time.monotonic()
        hit = self._data.get(key)
        if hit is not None and now - hit[0] < self.ttl:
            return hit[1]
        value = await load()
        if len(self._data) >= self.size:
            self._data.clear()
        self._data[key] = (now, value)
        return value


def cache(ctx: SandboxContext, name: str, ttl: float) -> TtlCache:
    key = f"dmp.cache.{name}"
    found = ctx.state.get(key)
    if found is None:
        found = ctx.state[key] = TtlCache(ttl)
    return found


async def workspace(ctx: SandboxContext, name: str) -> Any:
    """The workspace (or None), read at most every second per node."""
    return await cache(ctx, "workspaces", 1.0).get(name, lambda: ctx.workspaces.get(name))
