"""Who may receive: the trust space and the workspace's mailboxes (FACTS §2.1, §2.6, §2.7).

The real trust space is an allow-list of operators' domains published by the ANS; here it is the
``mssante.fr`` domain and its sub-domains, where the seeded personas' mailboxes live. A patient's
address is ``<INS matricule, 15 characters>@patient.mssante.fr`` and exists when the workspace
knows that patient.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sandbox.context import SandboxContext

TRUST_ROOT = "mssante.fr"
PATIENT_DOMAIN = "patient.mssante.fr"


@dataclass(frozen=True)
class Mailbox:
    address: str
    type: str | None  # PER | ORG | APP | CAB; None for a patient address
    owner_kind: str
    owner_id: str
    description: str

    @property
    def is_patient(self) -> bool:
        return self.owner_kind == "patient"

    @property
    def patient_ins(self) -> str | None:
        return self.address.split("@", 1)[0] if self.is_patient else None

    def to_json(self) -> dict[str, Any]:
        return {"address": self.address, "type": self.type, "owner_kind": self.owner_kind,
                "owner_id": self.owner_id, "description": self.description}


def normalise(address: str) -> str:
    """``<Jean.Dupont@Pro.Sandbox.MSSante.fr>`` → ``jean.dupont@pro.sandbox.mssante.fr``: domains
    are case-insensitive and the seeded professional addresses lower case; a patient's INS keeps
    its upper-case Corsican ``2A``/``2B``."""
    local, at, domain = address.strip().strip("<>").strip().rpartition("@")
    if not at:
        return domain.lower()
    domain = domain.lower()
    return f"{local.upper() if domain == PATIENT_DOMAIN else local.lower()}@{domain}"


def domain_of(address: str) -> str:
    return address.rpartition("@")[2]


def in_trust_space(address: str) -> bool:
    domain = domain_of(address)
    return "@" in address and (domain == TRUST_ROOT or domain.endswith("." + TRUST_ROOT))


def _from_persona(p: dict[str, Any]) -> Mailbox:
    return Mailbox(p["id"], p.get("type"), p.get("owner_kind", ""), p.get("owner_id", ""), p.get("description", ""))


async def find(ctx: SandboxContext, workspace: str, address: str) -> Mailbox | None:
    """The mailbox at ``address`` in ``workspace`` (which the caller knows exists).

    Every workspace is seeded with the same world (same seed, same mailboxes; reset restores it),
    so the look-up reads the world's immutable index instead of asking the database for each
    recipient (``RCPT TO`` is on the hot path)."""
    index: dict[str, Mailbox] | None = ctx.state.get("mss.mailboxes")
    if index is None:
        index = ctx.state["mss.mailboxes"] = {m.id: _from_persona(m.to_dict()) for m in ctx.world.mailboxes}
    return index.get(normalise(address))


async def all_mailboxes(ctx: SandboxContext, workspace: str) -> list[Mailbox]:
    page = await ctx.personas.list(workspace, "mailbox")
    return [_from_persona(p) for p in page.items]
