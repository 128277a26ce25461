"""Is this identity qualified, and why not? (FACTS §1.4 RNIV, appendix B "only QUAL may emit the
matricule INS"; §1.1 "no DMP feed without a qualified INS").

The answer for other services (the DMP's feeding rule, the conformance runner): the RNIV status the
workspace's INS reference identities hold for a matricule, with a stable reason when it is not
qualified. The 15-character matricule must match an active INS (the 13 characters and the key);
an old matricule (INSHISTO) is not qualified.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from ins.rniv import Status, may_transmit_ins

if TYPE_CHECKING:  # the repository (SQLAlchemy) loads on first use: `import ins` stays database-free
    from sandbox.db import Database


class NotQualified(StrEnum):
    """Stable reasons an identity is not qualified."""

    UNKNOWN = "unknown"  # no reference identity holds this matricule in the workspace
    STATUS = "status"  # the identity's RNIV status is not QUAL (PROV, RECUP or VALI)
    KEY = "key"  # the 13 characters match but not the key


@dataclass(frozen=True)
class Qualification:
    matricule: str
    status: Status | None
    reason: NotQualified | None = None
    oid: str | None = None  # the OID the reference identity carries (INSi's answer)

    @property
    def qualified(self) -> bool:
        return self.reason is None

    def text(self, lang: str = "fr") -> str:
        if self.reason is None:
            return "identité qualifiée (QUAL)" if lang == "fr" else "qualified identity (QUAL)"
        if self.reason is NotQualified.UNKNOWN:
            return (f"aucune identité de référence ne porte le matricule {self.matricule}" if lang == "fr"
                    else f"no reference identity holds matricule {self.matricule}")
        if self.reason is NotQualified.KEY:
            return (f"la clé du matricule {self.matricule} ne correspond pas à l'identité de référence"
                    if lang == "fr" else f"the key of matricule {self.matricule} does not match the reference")
        status = self.status.value if self.status else "?"
        return (f"statut RNIV {status} : seul QUAL permet de transmettre l'INS" if lang == "fr"
                else f"RNIV status {status}: only QUAL allows the INS to be transmitted")


async def qualification(db: Database, workspace: str, matricule: str) -> Qualification:
    """The RNIV verdict on the 15-character ``matricule`` in ``workspace``."""
    from ins.identities import IdentityRepository

    found = await IdentityRepository(db).by_matricule(workspace, matricule[:13].upper())
    if not found:
        return Qualification(matricule, None, NotQualified.UNKNOWN)
    ident = next((i for i in found if i.ins.value == matricule.upper()), None)
    if ident is None:
        return Qualification(matricule, found[0].status, NotQualified.KEY, found[0].ins.oid)
    if not may_transmit_ins(ident.status):
        return Qualification(matricule, ident.status, NotQualified.STATUS, ident.ins.oid)
    return Qualification(matricule, ident.status, None, ident.ins.oid)
