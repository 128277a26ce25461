"""Exact evidence labels for every DMP and INS FHIR operation (issue 18: a plain read of a
DocumentReference is not an ITI-67 search), and the exchanges API filtering by them."""

from __future__ import annotations

import json

from dmp_helpers import FHIR, INS_SYSTEM, PAT1, cr_bio_bundle


def _labels(dmp, **filters) -> list[str]:
    return [e["operation"] for e in dmp.sb.exchanges(workspace=dmp.workspace, **filters)]


def test_every_dmp_operation_has_its_own_label(dmp) -> None:
    token = dmp.pro_token()
    bundle = cr_bio_bundle(PAT1)
    r = dmp.provide(bundle)
    assert r.status_code == 200, r.text
    doc_id = r.json()["entry"][1]["response"]["location"].split("/")[1]
    list_id = r.json()["entry"][0]["response"]["location"].split("/")[1]
    master = bundle["entry"][1]["resource"]["masterIdentifier"]
    h = dmp.headers(token)
    calls = [
        ("dmp.iti-67", dmp.http.get("/dmp/fhir/DocumentReference", params={"patient.identifier": f"{INS_SYSTEM}|{PAT1}",
                                                                          "status": "current"}, headers=h)),
        ("dmp.documentreference.read", dmp.http.get(f"/dmp/fhir/DocumentReference/{doc_id}", headers=h)),
        ("dmp.iti-66", dmp.http.get("/dmp/fhir/List", params={"patient.identifier": f"{INS_SYSTEM}|{PAT1}"},
                                    headers=h)),
        ("dmp.list.read", dmp.http.get(f"/dmp/fhir/List/{list_id}", headers=h)),
        ("dmp.iti-68", dmp.http.get(f"/dmp/fhir/Binary/{doc_id}", headers=h)),
        ("dmp.td0.2", dmp.http.get("/dmp/fhir/Patient", params={"identifier": f"{INS_SYSTEM}|{PAT1}"}, headers=h)),
        ("dmp.pdsm-patch", dmp.patch(f"{master['system']}|{master['value']}", [
            {"op": "replace", "path": "/status", "value": "current"}], token)),
        ("dmp.metadata", dmp.http.get("/dmp/fhir/metadata")),
    ]
    for label, resp in calls:
        assert resp.status_code < 500, (label, resp.text)
    seen = _labels(dmp, service="dmp")
    assert "dmp.iti-65" in seen
    for label, _ in calls[:-1]:
        assert label in seen, (label, seen)
    # the read is never filed as a search, and the exchanges API filters on the label
    reads = dmp.sb.exchanges(workspace=dmp.workspace, operation="dmp.documentreference.read")
    assert [e["summary"]["path"] for e in reads] == [f"/dmp/fhir/DocumentReference/{doc_id}"]
    searches = dmp.sb.exchanges(workspace=dmp.workspace, operation="dmp.iti-67")
    assert searches and all(e["summary"]["path"] == "/dmp/fhir/DocumentReference" for e in searches)


def test_refused_calls_keep_their_label(dmp) -> None:
    # no token: still labelled by what was asked
    r = dmp.http.get("/dmp/fhir/DocumentReference/unknown")
    assert r.status_code == 401
    r = dmp.http.patch("/dmp/fhir/DocumentReference", content=json.dumps([]),
                       headers={"Content-Type": "application/json-patch+json", **dmp.headers(dmp.pro_token()),
                                "X-Sandbox-Workspace": dmp.workspace})
    assert r.status_code == 400
    assert r.headers["content-type"].startswith(FHIR)
    labels = [e["operation"] for e in dmp.sb.exchanges(service="dmp", status="401")
              if e["summary"]["path"] == "/dmp/fhir/DocumentReference/unknown"]
    assert labels and set(labels) == {"dmp.documentreference.read"}
    assert "dmp.pdsm-patch" in _labels(dmp, service="dmp", status="400")


def test_ins_fhir_labels(sandbox, workspace) -> None:
    with sandbox.client(headers={"X-Sandbox-Workspace": workspace}) as c:
        assert c.get("/ins/fhir/Patient", params={"family": "ADRTROIS"}).status_code == 200
        assert c.get("/ins/fhir/Patient/nobody").status_code == 404
    labels = {e["operation"] for e in sandbox.exchanges(workspace=workspace, service="ins")}
    assert {"Patient.search", "Patient.read"} <= labels
