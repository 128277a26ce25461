"""Seeded DMP states of a workspace (deterministic; FACTS §3.3 TD0.2, §3.5), so integrators can
test every branch without set-up. For the *i*-th patient of the world (0-based):

| i mod 10 | DMP state |
|---|---|
| 7 | no DMP (TD0.2 answers 0 entries) |
| 8 (i > 0) | DMP closed (motif ``DECES`` for even i, ``DEMANDE_PATIENT`` otherwise) |
| 4 | open; only the médecin traitant may consult (no authorization for others) |
| 5 | open, everyone authorized, but the patient blocked one professional (a doctor) |
| other | open, every professional authorized |

Every open DMP has a médecin traitant DMP (the doctors of the world in turn). Minors (born after
2008-12-31) have a legal representative: the next adult patient. ``mes_attached`` is false for
i mod 10 = 9. The patient API ``/sandbox/api/workspaces/{ws}/dmp/patients`` lists the result.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dmp import store
from sandbox.seeding import SeedContext

SEED_TIME = datetime(2026, 1, 1, tzinfo=UTC)
MINOR_AFTER = "2008-12-31"


def plan(world: Any, workspace: str) -> list[dict[str, Any]]:
    doctors = [p.id for p in world.professionals if p.profession == "10"] or [p.id for p in world.professionals]
    patients = world.patients
    rows = []
    for i, p in enumerate(patients):
        if i % 10 == 7:
            continue
        closed = i % 10 == 8 and i > 0
        mt = doctors[i % len(doctors)]
        reps: list[str] = []
        if p.birth_date > MINOR_AFTER:
            for k in range(1, len(patients)):
                cand = patients[(i + k) % len(patients)]
                if cand.birth_date <= MINOR_AFTER:
                    reps = [cand.id]
                    break
        rows.append({
            "workspace": workspace, "ins": p.ins.value, "persona_id": p.id,
            "status": "closed" if closed else "open", "created_at": SEED_TIME,
            "closed_at": SEED_TIME if closed else None,
            "close_motif": ("DECES" if i % 2 == 0 else "DEMANDE_PATIENT") if closed else "",
            "close_reason": "fermeture du DMP (jeu de données du bac à sable)" if closed else "",
            "medecin_traitant": mt, "authorize_all": i % 10 != 4, "authorized": [],
            "blocked": [doctors[(i + 1) % len(doctors)]] if i % 10 == 5 else [], "legal_reps": reps,
            "mes_attached": i % 10 != 9,
        })
    return rows


async def seed(sc: SeedContext) -> None:
    rows = plan(sc.world, sc.workspace)
    for k in range(0, len(rows), 500):
        await store.insert_dmps(sc.session, rows[k:k + 500])
