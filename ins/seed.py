"""``on_seed``: index the world's patients as INSi reference identities (FACTS §1.1–1.4).

Every patient of the synthetic world (sandbox/personas/model.py ``Patient``), including the public
INSi test identities and the deliberate homonyms, becomes one row of ``ins_identities``.
"""

from __future__ import annotations

from collections.abc import Iterator

from ins.identities import Identity, InsNumber, insert_identities
from ins.rniv import Status
from ins.traits import Traits
from sandbox.personas.model import Patient
from sandbox.seeding import SeedContext


def identity_of(p: Patient) -> Identity:
    return Identity(
        id=p.id,
        traits=Traits(p.birth_name, tuple(p.first_names), p.sex, p.birth_date, p.birth_place),
        ins=InsNumber(p.ins.number, p.ins.key, p.ins.oid),
        history=tuple(InsNumber(h.number, h.key, h.oid, h.start, h.end) for h in p.history),
        status=Status(p.identity_status.value),
        vitale_od=p.vitale.matricule_od if p.vitale else None,
        vitale_rank=p.vitale.rang_naissance if p.vitale else None,
    )


def identities(patients: list[Patient]) -> Iterator[Identity]:
    return (identity_of(p) for p in patients)


async def seed(seed: SeedContext) -> None:
    await insert_identities(seed.session, seed.workspace, identities(seed.world.patients))
