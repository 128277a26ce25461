"""The directory of one workspace, built from its personas (``sandbox.personas`` repository)."""

from __future__ import annotations

from mss.annuaire.resources import Directory, build_directory
from sandbox.context import SandboxContext


async def directory_of(ctx: SandboxContext, workspace: str) -> Directory:
    """Practitioners, roles and organisations of ``workspace`` with their MSSanté mailboxes."""
    pros = await ctx.personas.list(workspace, "professional")
    orgs = await ctx.personas.list(workspace, "organisation")
    boxes = await ctx.personas.list(workspace, "mailbox")
    return build_directory(pros.items, orgs.items, boxes.items)
