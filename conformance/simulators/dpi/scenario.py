"""The sequence of actions a full ``dpi-ldl`` run asks the DPI for, with the faults its driving
steps script (kept equal to the suite's by ``tests/conformance/test_dpi_simulator.py``), and
:func:`play`, which performs it alone: the simulator scripts those faults itself through the
sandbox's public fault API, so ``mes-sandbox simulate dpi`` does the exchanges a run judges,
without the runner (the baseline of ``bench/conformance_run.py``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from conformance.simulators.dpi.messaging import mailbox
from conformance.simulators.dpi.simulator import DpiSimulator, Record
from conformance.suites.dpi_ldl.inputs import (
    CORRESPONDENT,
    PATIENT_NO_DMP,
    PATIENT_PROV,
    PROFESSIONAL,
)
from conformance.suites.dpi_ldl.inputs import (
    PATIENT as PATIENT_A,
)
from conformance.suites.dpi_ldl.inputs import (
    PATIENT_HOMONYMS as PATIENT_B,
)
from conformance.suites.dpi_ldl.inputs import (
    PATIENT_TYPED as PATIENT_A_TYPED,
)


@dataclass(frozen=True)
class Step:
    action: str
    params: dict[str, Any]
    #: what the runner's driving step does first: a fault ``{"service", "kind", "operation", "times",
    #: "params"}``, or ``{"patient_masks": True}`` (the patient masks the DPI's latest letter in Mon
    #: espace santé), or ``{"mss_send": True}`` (the correspondent sends the DPI a message asking a receipt)
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
    Step("dmp.refresh", _p(PATIENT_A), {"patient_masks": True}),
    Step("mss.send_letter", {**_p(PATIENT_A), "correspondent": CORRESPONDENT}),
    Step("mss.receive", {"from": CORRESPONDENT}, {"mss_send": True}),
)


def play(sim: DpiSimulator, steps: tuple[Step, ...] = SCENARIO) -> list[Record]:
    """Perform ``steps`` alone, doing each driving step through the sandbox's public API first."""
    out = []
    for step in steps:
        if step.drive and "service" in step.drive:
            spec = {"times": 1, "operation": "", "params": {}, **step.drive}
            r = sim.http.post(f"{sim.config.base_url}/sandbox/api/workspaces/{sim.config.workspace}/faults", json=spec,
                              headers=sim.api_headers)
            r.raise_for_status()
        elif step.drive and step.drive.get("patient_masks"):
            _patient_masks_latest(sim)
        elif step.drive and step.drive.get("mss_send"):
            r = sim.http.post(f"{sim.config.base_url}/mss/api/send", headers=sim.api_headers, json={
                "from": CORRESPONDENT, "to": [mailbox(sim)], "subject": "Résultat de consultation",
                "text": "Merci d'accuser réception.", "disposition_notification": True})
            r.raise_for_status()
        out.append(sim.perform(step.action, step.params))
        if step.drive and "service" in step.drive:
            sim.http.delete(f"{sim.config.base_url}/sandbox/api/workspaces/{sim.config.workspace}/faults",
                            params={"service": step.drive["service"]}, headers=sim.api_headers)
    return out


def _patient_masks_latest(sim: DpiSimulator) -> None:
    """What test ``dmp.11`` drives: the patient masks the DPI's latest unmasked letter (Mon espace santé)."""
    base = sim.config.base_url
    ins = next(iter(sim.documents), "")
    r = sim.http.post(f"{base}/sandbox/api/workspaces/{sim.config.workspace}/dmp/patient-token",
                      json={"patient": ins}, headers=sim.api_headers)
    r.raise_for_status()
    auth = {"Authorization": f"Bearer {r.json()['access_token']}"}
    docs = sim.http.get(f"{base}/dmp/mes/api/documents", headers=auth).json().get("documents") or []
    unmasked = [d for d in docs if not d.get("masked_from_professionals")]
    if docs:
        latest = max(unmasked or docs, key=lambda d: (str(d.get("date") or ""), str(d.get("id"))))
        if not unmasked:
            sim.http.post(f"{base}/dmp/mes/api/documents/{latest['id']}/unmask", headers=auth).raise_for_status()
        sim.http.post(f"{base}/dmp/mes/api/documents/{latest['id']}/mask", headers=auth).raise_for_status()
