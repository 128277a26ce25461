"""The sequence of actions a full ``dpi-ldl`` run asks the DPI for, with the faults its driving
steps script (kept equal to the suite's by ``tests/conformance/test_dpi_simulator.py``), and
:func:`play`, which performs it alone: the simulator scripts those faults itself through the
sandbox's public fault API, so ``mes-sandbox simulate dpi`` does the exchanges a run judges,
without the runner (the baseline of ``bench/conformance_run.py``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from conformance.simulators.dpi.simulator import DpiSimulator, Record

#: the seeded world's patients the suite uses by default (FACTS §1.2 test identities + synthetic)
PATIENT_A = {"birth_name": "ADRTROIS", "first_names": ["DOMINIQUE"], "sex": "F", "birth_date": "1997-02-26",
             "birth_place": "2A020", "identity_status": "QUAL"}
PATIENT_A_TYPED = {**PATIENT_A, "birth_name": "Adrtrois", "first_names": ["Dominique"]}
PATIENT_B = {"birth_name": "TCHITCHI", "first_names": ["CATARINA", "BELLA"], "sex": "F",
             "birth_date": "1936-06-21", "birth_place": "63220", "identity_status": "QUAL"}
PATIENT_PROV = {"birth_name": "MORETIER", "first_names": ["LUCIE"], "sex": "F", "birth_date": "2001-10-26",
                "birth_place": "59350", "identity_status": "PROV", "matricule": "801109966885307"}
PATIENT_NO_DMP = {"birth_name": "DE FALENOT", "first_names": ["HUGO", "NICOLAS"], "sex": "M",
                  "birth_date": "1939-05-19", "birth_place": "63113", "identity_status": "QUAL"}
PROFESSIONAL = "899700218896"


@dataclass(frozen=True)
class Step:
    action: str
    params: dict[str, Any]
    #: a fault the runner's driving step scripts first: ``{"service", "kind", "operation", "times", "params"}``
    drive: dict[str, Any] | None = field(default=None)


def _p(patient: dict[str, Any]) -> dict[str, Any]:
    return {"patient": dict(patient)}


SCENARIO: tuple[Step, ...] = (
    Step("psc.login", {"professional": PROFESSIONAL}),
    Step("psc.login", {"professional": PROFESSIONAL},
         {"service": "psc", "kind": "jwks_rotated", "operation": "token", "times": 1}),
    Step("psc.refresh", {}),
    Step("dmp.search", _p(PATIENT_A),
         {"service": "psc", "kind": "token_expired_early", "operation": "verify", "times": 1}),
    Step("psc.logout", {}),
    Step("dmp.search", _p(PATIENT_A)),
    Step("insi.search", _p(PATIENT_A_TYPED)),
    Step("insi.search", _p(PATIENT_B), {"service": "ins", "kind": "multiple", "times": 1}),
    Step("insi.search", _p(PATIENT_B), {"service": "ins", "kind": "not_found", "times": 1}),
    Step("insi.search", _p(PATIENT_A), {"service": "ins", "kind": "soap_fault", "times": 2}),
    Step("dmp.feed", _p(PATIENT_PROV)),
    Step("dmp.feed", _p(PATIENT_A)),
    Step("dmp.replace", _p(PATIENT_A)),
    Step("dmp.search", _p(PATIENT_A)),
    Step("dmp.mask", _p(PATIENT_A)),
    Step("dmp.feed", _p(PATIENT_NO_DMP)),
    Step("dmp.feed", _p(PATIENT_A),
         {"service": "dmp", "kind": "unavailable", "operation": "iti-65", "times": 1, "params": {"retry_after": 1}}),
    Step("dmp.retrieve", _p(PATIENT_A)),
)


def play(sim: DpiSimulator, steps: tuple[Step, ...] = SCENARIO) -> list[Record]:
    """Perform ``steps`` alone, scripting each driving fault through ``/sandbox/api`` first."""
    out = []
    for step in steps:
        if step.drive:
            spec = {"times": 1, "operation": "", "params": {}, **step.drive}
            r = sim.http.post(f"{sim.config.base_url}/sandbox/api/workspaces/{sim.config.workspace}/faults", json=spec)
            r.raise_for_status()
        out.append(sim.perform(step.action, step.params))
        if step.drive:
            sim.http.delete(f"{sim.config.base_url}/sandbox/api/workspaces/{sim.config.workspace}/faults",
                            params={"service": step.drive["service"]})
    return out
