"""INS verification use case: re-run the traits search with the stored traits and compare
(FACTS §1.2 "Vérification de l'INS", Appendix C).

**The real verification operation is uncertain [U]**: no public source names a dedicated INSi
operation; one third-party note says clients re-run ``rechercherInsAvecTraitsIdentite`` with the
traits they stored, then compare the matricule and traits returned. This module does exactly that
and adds what a sandbox can afford: the traits that differ, read from the reference identity of
the matricule (synthetic data only).

Outcomes (stable ids): ``match`` — INSi answers 00 with the same active matricule and identical
traits; ``mismatch`` — anything else, with ``reasons`` (``cr``, ``matricule``, ``historical``,
``traits``) and the differing traits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ins.insi_service import CR, InsiService
from ins.traits import Trait, Traits, TraitsQuery, differences


class Outcome(StrEnum):
    MATCH = "match"
    MISMATCH = "mismatch"


class Reason(StrEnum):
    CR = "cr"  # the traits search did not answer 00
    MATRICULE = "matricule"  # the search found another identity than the stored matricule's
    HISTORICAL = "historical"  # the stored matricule is an old one (INSHISTO)
    UNKNOWN_MATRICULE = "unknown_matricule"  # no identity holds the stored matricule
    TRAITS = "traits"  # stored traits differ from the reference


@dataclass(frozen=True)
class Verification:
    outcome: Outcome
    cr: CR
    reasons: tuple[Reason, ...] = ()
    differences: tuple[tuple[Trait, str, str], ...] = ()  # (trait, stored, reference)
    active_matricule: str | None = None
    reference: Traits | None = None
    notes: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        ref = self.reference
        return {
            "result": self.outcome.value,
            "cr": self.cr.value,
            "reasons": [r.value for r in self.reasons],
            "differences": [{"trait": t.value, "stored": s, "reference": r} for t, s, r in self.differences],
            "activeMatricule": self.active_matricule,
            "reference": None if ref is None else {
                "NomNaissance": ref.birth_name, "ListePrenom": ref.first_name_list, "Sexe": ref.sex,
                "DateNaissance": ref.birth_date, "LieuNaissance": ref.birth_place},
        }


def _value(t: Traits, trait: Trait) -> str:
    return {
        Trait.BIRTH_NAME: t.birth_name, Trait.FIRST_NAME: t.first_name_list, Trait.SEX: t.sex,
        Trait.BIRTH_DATE: t.birth_date, Trait.BIRTH_PLACE: t.birth_place,
    }[trait]


async def verify(insi: InsiService, workspace: str, stored: Traits, matricule: str) -> Verification:
    """Compare ``stored`` traits + 15-character ``matricule`` with what INSi answers."""
    query = TraitsQuery(stored.birth_name, stored.first_names, stored.sex, stored.birth_date,
                        stored.birth_place or None)
    result = await insi.search_by_traits(workspace, query)
    owners = await insi.repository.by_matricule(workspace, matricule[:13])
    reference = insi.presented(owners[0]) if owners else None
    found = result.identity
    reasons: list[Reason] = []
    if result.cr is not CR.OK:
        reasons.append(Reason.CR)
    if reference is None:
        if found is not None and any(h.value == matricule for h in found.history):
            reasons.append(Reason.HISTORICAL)
            reference = found
        else:
            reasons.append(Reason.UNKNOWN_MATRICULE)
    elif found is not None and found.ins.value != matricule:
        reasons.append(Reason.MATRICULE)
    diffs: tuple[tuple[Trait, str, str], ...] = ()
    if reference is not None:
        diffs = tuple((t, _value(stored, t), _value(reference.traits, t))
                      for t in differences(stored, reference.traits))
        if diffs:
            reasons.append(Reason.TRAITS)
    active = reference.ins.value if reference is not None else None
    return Verification(
        outcome=Outcome.MATCH if not reasons else Outcome.MISMATCH, cr=result.cr,
        reasons=tuple(reasons), differences=diffs, active_matricule=active,
        reference=reference.traits if reference is not None else None,
    )
