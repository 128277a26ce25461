"""Fault kinds, the runner's audit view, evidence annotations and the validation policy."""

from __future__ import annotations

from dmp_helpers import OTHER_PRO, PAT1, cr_bio_bundle


def test_unavailable_503_retry_after(dmp) -> None:
    dmp.fault("unavailable", operation="iti-67", params={"retry_after": 12})
    r = dmp.find(patient=f"Patient/{PAT1}", status="current")
    assert r.status_code == 503 and r.headers["retry-after"] == "12"
    assert r.json()["resourceType"] == "OperationOutcome"
    assert dmp.find(patient=f"Patient/{PAT1}", status="current").status_code == 200


def test_slow_answers_after_delay(dmp) -> None:
    dmp.fault("slow", operation="iti-67", params={"delay_ms": 300})
    r = dmp.find(patient=f"Patient/{PAT1}", status="current")
    assert r.status_code == 200
    faults = dmp.http.get(f"/sandbox/api/workspaces/{dmp.workspace}/faults").json()["faults"]
    assert faults[0]["fired"] == 1


def test_reject_next_with_chosen_outcome(dmp) -> None:
    outcome = {"resourceType": "OperationOutcome",
               "issue": [{"severity": "error", "code": "business-rule", "diagnostics": "DMP_REFUS_SIMULE"}]}
    dmp.fault("reject_next", operation="iti-65", params={"status": 400, "outcome": outcome})
    r = dmp.provide(cr_bio_bundle(PAT1))
    assert r.status_code == 400 and r.json() == outcome
    dmp.fault("reject_next", params={"diagnostics": "refus"})
    r = dmp.find(patient=f"Patient/{PAT1}", status="current")
    assert r.status_code == 422 and r.json()["issue"][0]["diagnostics"] == "refus"


def test_conflict_on_next_write(dmp) -> None:
    dmp.fault("conflict")
    assert dmp.find(patient=f"Patient/{PAT1}", status="current").status_code == 200  # reads unaffected
    assert dmp.provide(cr_bio_bundle(PAT1)).status_code == 409
    assert dmp.provide(cr_bio_bundle(PAT1)).status_code == 200


def test_unknown_fault_kind_422(dmp) -> None:
    r = dmp.http.post(f"/sandbox/api/workspaces/{dmp.workspace}/faults", json={"service": "dmp", "kind": "boom"})
    assert r.status_code == 422


def test_runner_audit_view_and_refusals_traced(dmp) -> None:
    assert dmp.provide(cr_bio_bundle(PAT1)).status_code == 200
    dmp.set_dmp(PAT1, medecin_traitant="899700218896", authorize_all=False)
    assert dmp.find(dmp.pro_token(OTHER_PRO), patient=f"Patient/{PAT1}", status="current").status_code == 403
    r = dmp.http.get(f"/sandbox/api/workspaces/{dmp.workspace}/dmp/audit", params={"patient": PAT1})
    events = [e["resource"] for e in r.json()["entry"]]
    outcomes = {(e["subtype"][0]["code"], e["outcome"]) for e in events}
    assert ("ITI-65", "0") in outcomes and ("ITI-67", "4") in outcomes
    refused = next(e for e in events if e["outcome"] == "4")
    assert "dmp.acc.14" in [x["valueString"] for x in refused["extension"] if "valueString" in x]


def test_professional_audit_read_rules(dmp) -> None:
    r = dmp.http.get("/dmp/fhir/AuditEvent", params={"patient": f"Patient/{PAT1}"},
                     headers=dmp.headers(dmp.pro_token()))  # médecin traitant of pat-0001
    assert r.status_code == 200
    r = dmp.http.get("/dmp/fhir/AuditEvent", params={"patient": f"Patient/{PAT1}"},
                     headers=dmp.headers(dmp.pro_token(OTHER_PRO)))
    assert r.status_code == 403


def test_evidence_annotated(dmp) -> None:
    assert dmp.provide(cr_bio_bundle(PAT1)).status_code == 200
    dmp.sb.call(dmp.sb.ctx.recorder.flush)
    ex = [e for e in dmp.sb.exchanges(workspace=dmp.workspace, service="dmp") if e["operation"] == "dmp.iti-65"]
    assert ex, "the ITI-65 exchange is recorded in the token's workspace"
    s = ex[0]["summary"]
    assert s["bundle_entries"] == 3 and s["validation"]["verdict"] == "accepted"
    assert s["response"] == ["201 Created"] * 3
    assert ex[0]["actor"] == "professional:899700218896"


def test_validation_policy_warn_accepts_with_issues(dmp) -> None:
    bad = cr_bio_bundle(PAT1)
    del bad["entry"][1]["resource"]["context"]["facilityType"]
    r = dmp.provide(bad)
    assert r.status_code == 422
    assert any("facilityType" in (i.get("details") or {}).get("text", "") for i in r.json()["issue"])
    name = dmp.workspace + "-w"
    assert dmp.http.post("/sandbox/api/workspaces", json={"name": name, "options": {"dmp": {"validation": "warn"}}}
                         ).status_code == 201
    try:
        from dmp_helpers import Dmp

        warn = Dmp(dmp.sb, name, dmp.http)
        r = warn.provide(bad)
        assert r.status_code == 200, r.text
        issues = r.json()["entry"][1]["response"]["outcome"]["issue"]
        assert any(i["severity"] == "error" and i["expression"][0].startswith("Bundle.entry[1].resource.context")
                   for i in issues)
    finally:
        dmp.http.delete(f"/sandbox/api/workspaces/{name}")
