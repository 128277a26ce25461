"""Per-process caches of values that change rarely (workspace options, RNIV status), so one ITI-65
does not pay a database round trip for each. An entry is dropped as soon as any worker process
records a change (:mod:`sandbox.changes`: workspace created, reset or deleted) and after ``ttl``
seconds at most (other nodes sharing the database). Kept in ``ctx.state`` (no module singletons)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sandbox.changes import FreshCache

if TYPE_CHECKING:
    from sandbox.context import SandboxContext


def cache(ctx: SandboxContext, name: str, ttl: float) -> FreshCache:
    key = f"dmp.cache.{name}"
    found = ctx.state.get(key)
    if found is None:
        found = ctx.state[key] = FreshCache(ttl, ctx.changes)
    return found


async def workspace(ctx: SandboxContext, name: str) -> Any:
    """The workspace (or None), re-read after any change and at least every second."""
    return await cache(ctx, "workspaces", 1.0).get(name, lambda: ctx.workspaces.get(name))
