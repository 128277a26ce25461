"""The patient's view, Mon Espace Santé (FACTS §3.5; dmp/patient_view.py)."""

from __future__ import annotations

from dmp_helpers import MINOR, MINOR_REP, OTHER_PRO, PAT1, TRE_A07, cr_bio_bundle

INVISIBLE = [{"coding": [{"system": TRE_A07, "code": "INVISIBLE_PATIENT"}]}]
NO_REPS = [{"coding": [{"system": TRE_A07, "code": "INVISIBLE_REPRESENTANTS_LEGAUX"}]}]


def _feed(dmp, ins: str = PAT1, **kw) -> str:  # noqa: ANN001, ANN003
    r = dmp.provide(cr_bio_bundle(ins, **kw))
    assert r.status_code == 200, r.text
    return r.json()["entry"][1]["response"]["location"].split("/")[1]


def _get(dmp, path: str, token: str):  # noqa: ANN001, ANN202
    return dmp.http.get(f"/dmp/mes/api/{path}", headers=dmp.headers(token))


def test_patient_lists_documents_without_invisible_ones(dmp) -> None:
    visible = _feed(dmp)
    _feed(dmp, labels=INVISIBLE)
    token = dmp.patient_token("pat-0001")
    r = _get(dmp, "documents", token)
    assert r.status_code == 200, r.text
    assert [d["id"] for d in r.json()["documents"]] == [visible]
    # the FHIR face with the same token
    fhir = dmp.find(token, status="current").json()
    assert [e["resource"]["id"] for e in fhir["entry"]] == [visible]


def test_patient_cannot_read_another_patient(dmp) -> None:
    token = dmp.patient_token("pat-0002")
    r = dmp.find(token, patient=f"Patient/{PAT1}", status="current")
    assert r.status_code == 403 and "dmp.acc.03" in r.text


def test_patient_masks_and_unmasks(dmp) -> None:
    doc = _feed(dmp)
    token = dmp.patient_token(PAT1)  # by INS works too
    r = dmp.http.post(f"/dmp/mes/api/documents/{doc}/mask", headers=dmp.headers(token))
    assert r.status_code == 200 and r.json()["masked_from_professionals"] is True
    assert dmp.find(dmp.pro_token(OTHER_PRO), patient=f"Patient/{PAT1}", status="current").json()["total"] == 0
    r = dmp.http.post(f"/dmp/mes/api/documents/{doc}/unmask", headers=dmp.headers(token))
    assert r.status_code == 200 and r.json()["masked_from_professionals"] is False
    assert dmp.find(dmp.pro_token(OTHER_PRO), patient=f"Patient/{PAT1}", status="current").json()["total"] == 1


def test_patient_cannot_delete_through_patch(dmp) -> None:
    _feed(dmp, master="urn:oid:1.2.250.1.999.77")
    token = dmp.patient_token("pat-0001")
    r = dmp.patch("urn:ietf:rfc:3986|urn:oid:1.2.250.1.999.77",
                  [{"op": "replace", "path": "/status", "value": "entered-in-error"}], token)
    assert r.status_code == 403


def test_patient_blocks_a_professional(dmp) -> None:
    _feed(dmp)
    token = dmp.patient_token("pat-0001")
    r = dmp.http.put(f"/dmp/mes/api/blocked-professionals/{OTHER_PRO}", headers=dmp.headers(token))
    assert r.status_code == 200 and r.json()["blocked"] == [OTHER_PRO]
    r = dmp.find(dmp.pro_token(OTHER_PRO), headers={"X-DMP-Access-Mode": "bris_de_glace"},
                 patient=f"Patient/{PAT1}", status="current")
    assert r.status_code == 403 and "dmp.acc.05" in r.text
    assert _get(dmp, "blocked-professionals", token).json()["blocked"] == [OTHER_PRO]
    r = dmp.http.delete(f"/dmp/mes/api/blocked-professionals/{OTHER_PRO}", headers=dmp.headers(token))
    assert r.json()["blocked"] == []
    assert dmp.find(dmp.pro_token(OTHER_PRO), patient=f"Patient/{PAT1}", status="current").status_code == 200


def test_access_history_flags_emergency(dmp) -> None:
    _feed(dmp)
    dmp.find(dmp.pro_token(OTHER_PRO), headers={"X-DMP-Access-Mode": "bris_de_glace"},
             patient=f"Patient/{PAT1}", status="current")
    token = dmp.patient_token("pat-0001")
    h = _get(dmp, "history", token).json()
    assert h["emergency_accesses"] == 1
    ops = {e["operation"] for e in h["events"]}
    assert {"iti-65", "iti-67"} <= ops
    r = dmp.http.get("/dmp/fhir/AuditEvent", headers=dmp.headers(token))
    assert r.status_code == 200
    events = [e["resource"] for e in r.json()["entry"]]
    emergency = [e for e in events if e["extension"][0]["valueBoolean"]]
    assert len(emergency) == 1 and emergency[0]["purposeOfEvent"][0]["coding"][0]["code"] == "bris_de_glace"
    assert emergency[0]["agent"][0]["who"]["identifier"]["value"] == OTHER_PRO


def test_legal_representative(dmp) -> None:
    shown = _feed(dmp, ins=MINOR)
    _feed(dmp, ins=MINOR, labels=NO_REPS)
    _feed(dmp, ins=MINOR, labels=INVISIBLE)
    rep = dmp.patient_token(MINOR_REP, represents=MINOR)
    docs = dmp.http.get("/dmp/mes/api/documents", headers=dmp.headers(rep)).json()["documents"]
    assert [d["id"] for d in docs] == [shown]
    minor = dmp.patient_token("pat-0003")
    assert len(dmp.http.get("/dmp/mes/api/documents", headers=dmp.headers(minor)).json()["documents"]) == 2
    r = dmp.http.post(f"/sandbox/api/workspaces/{dmp.workspace}/dmp/patient-token",
                      json={"patient": "pat-0002", "represents": MINOR})
    assert r.status_code == 403


def test_professional_token_refused_on_patient_view(dmp) -> None:
    r = dmp.http.get("/dmp/mes/api/documents", headers=dmp.headers(dmp.pro_token()))
    assert r.status_code == 403
