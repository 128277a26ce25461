"""Sample messages for the seeded patients (NIR and NIA, born abroad, in Corsica, homonyms) are
clean for the checks: the FHIR documents validate and the CDA headers pass the FR rules."""

from __future__ import annotations

import pytest

from mss.checks import check_message
from mss.samples import build_message
from sandbox.personas.generate import generate_world
from sandbox.settings import Settings

NIA = "1.2.250.1.213.1.4.9"


def _patients() -> list:
    world = generate_world(Settings().world_seed)
    tagged = [p for p in world.patients if p.tags]
    return tagged + [p for p in world.patients if not p.tags][::10]


@pytest.mark.parametrize("kind", ["ldl", "cr-img"])
def test_samples_for_seeded_patients(kind: str) -> None:
    patients = _patients()
    assert any(p.ins.oid == NIA for p in patients) and any("abroad" in p.tags for p in patients)
    for p in patients:
        raw = build_message(kind, sender="kit.doc0042788@pro.sandbox.mssante.fr", recipients=[p.mailbox],
                            patient_ins=p.ins.value, patient=p.to_dict(), patient_oid=p.ins.oid)
        res = check_message(raw, known_ins=lambda ins, p=p: ins == p.ins.value)
        assert res.findings == [], (p.id, p.tags, [(f.id, f.text_en) for f in res.findings])
        assert res.patient_ins == p.ins.value
