"""INSi domain: traits search and carte Vitale search with CNAM's result codes (FACTS §1.2, A.2).

Framework-free. The SOAP face (:mod:`ins.insi_soap`), the FHIR face and the verification API call
these functions; fault injection reaches them only as a ``forced`` result code.

- CR ``00`` exactly one identity → INSACTIF + INSHISTO + TIQ; ``01`` none; ``02`` several (traits
  search only: a Vitale search with several candidates answers ``01`` [U], FACTS gives no rule).
- The OID returned for NIR matricules is configurable (``MES_SANDBOX_INS_OID``); CNAM's
  qualification platform answers ``1.2.250.1.213.1.4.8`` even for test identities (FACTS §1.2).
  NIA matricules keep ``1.2.250.1.213.1.4.9``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from ins.identities import Identity, IdentityRepository, InsNumber, VitaleQuery
from ins.nir import OID_INS_NIA
from ins.traits import TraitsQuery


class CR(StrEnum):
    OK = "00"
    NOT_FOUND = "01"
    SEVERAL = "02"


LIBELLE_CR = {CR.OK: "OK", CR.NOT_FOUND: "Aucune identite trouvee", CR.SEVERAL: "Plusieurs identites trouvees"}


@dataclass(frozen=True)
class InsiResult:
    cr: CR
    identity: Identity | None = None  # set for CR 00, with the OIDs INSi returns
    candidates: int = 0
    forced: bool = False  # result imposed by an injected fault

    @property
    def libelle(self) -> str:
        return LIBELLE_CR[self.cr]


class InsiService:
    def __init__(self, repository: IdentityRepository, oid: str) -> None:
        self.repository = repository
        self.oid = oid

    def _returned(self, number: InsNumber) -> InsNumber:
        return number if number.oid == OID_INS_NIA else replace(number, oid=self.oid)

    def presented(self, identity: Identity) -> Identity:
        """``identity`` with the OIDs INSi returns (configured OID for NIR matricules)."""
        return replace(identity, ins=self._returned(identity.ins),
                       history=tuple(self._returned(h) for h in identity.history))

    def _answer(self, found: list[Identity], *, several: CR) -> InsiResult:
        if not found:
            return InsiResult(CR.NOT_FOUND)
        if len(found) > 1:
            return InsiResult(several, candidates=len(found))
        return InsiResult(CR.OK, self.presented(found[0]), candidates=1)

    async def search_by_traits(self, workspace: str, query: TraitsQuery,
                               forced: CR | None = None) -> InsiResult:
        """``rechercherInsAvecTraitsIdentite`` (RECSANSVITALE)."""
        if forced is not None and forced is not CR.OK:
            return InsiResult(forced, forced=True)
        found = await self.repository.by_traits(workspace, query)
        return self._answer(found, several=CR.SEVERAL)

    async def search_by_vitale(self, workspace: str, query: VitaleQuery,
                               forced: CR | None = None) -> InsiResult:
        """``rechercherInsAvecCarteVitale`` (RECVITALE)."""
        if forced is not None and forced is not CR.OK:
            return InsiResult(forced, forced=True)
        found = await self.repository.by_vitale(workspace, query)
        return self._answer(found, several=CR.NOT_FOUND)
