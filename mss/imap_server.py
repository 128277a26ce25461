"""IMAP listeners (not yet: see mss/README.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sandbox.services import Listener

if TYPE_CHECKING:
    from sandbox.context import SandboxContext


async def start(ctx: SandboxContext) -> list[Listener]:
    return []
