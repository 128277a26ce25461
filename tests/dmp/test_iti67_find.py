"""ITI-67 Find Document References and ITI-66 Find Document Lists (FACTS §3.2, §8.13)."""

from __future__ import annotations

from dmp_helpers import FHIR, INS_SYSTEM, ONLY_MT, ONLY_MT_DOCTOR, OTHER_PRO, PAT1, REGULATOR, TRE_A07, cr_bio_bundle


def _feed(dmp, n: int = 1, **kw) -> list[str]:  # noqa: ANN001, ANN003
    ids = []
    for _ in range(n):
        r = dmp.provide(cr_bio_bundle(kw.pop("ins", PAT1), **kw))
        assert r.status_code == 200, r.text
        ids.append(r.json()["entry"][1]["response"]["location"].split("/")[1])
    return ids


def test_patient_and_status_are_required(dmp) -> None:
    for params in ({"status": "current"}, {"patient": f"Patient/{PAT1}"}, {}):
        r = dmp.find(**params)
        assert r.status_code == 400, params
        assert r.headers["content-type"].startswith(FHIR)
        assert r.json()["resourceType"] == "OperationOutcome"


def test_bad_status_and_sort_are_400(dmp) -> None:
    assert dmp.find(patient=f"Patient/{PAT1}", status="approved").status_code == 400
    assert dmp.find(patient=f"Patient/{PAT1}", status="current", _sort="title").status_code == 400
    assert dmp.find(patient=f"Patient/{PAT1}", status="current", date="yesterday").status_code == 400


def test_filters(dmp) -> None:
    bio = _feed(dmp)[0]
    img = _feed(dmp, type_code="18748-4", class_code="31",
                format_code="urn:ihe:rad:CDA:ImagingReportStructuredHeadings:2013")[0]
    base = {"patient.identifier": f"{INS_SYSTEM}|{PAT1}", "status": "current"}

    def ids(**params) -> set[str]:  # noqa: ANN003
        r = dmp.find(**base, **params)
        assert r.status_code == 200, r.text
        return {e["resource"]["id"] for e in r.json()["entry"] if e["resource"]["resourceType"] == "DocumentReference"}

    assert ids() == {bio, img}
    assert ids(type="http://loinc.org|11502-2") == {bio}
    assert ids(type="18748-4") == {img}
    assert ids(category="31") == {img}
    assert ids(format="urn:ihe:lab:xd-lab:2008") == {bio}
    assert ids(setting="ETABLISSEMENT", facility="SA01") == {bio, img}
    assert ids(date="ge2026-11-20") == {bio, img}
    assert ids(date="lt2026-11-20") == set()
    assert ids(creation="2026-11-20") == {bio, img}
    assert ids(**{"period-start": "ge2026-11-19"}) == {bio, img}
    assert ids(**{"author.family": "bio"}) == {bio, img}
    assert ids(**{"author.given": "zz"}) == set()
    assert ids(isArchived="false") == {bio, img}
    assert ids(**{"security-label": "N"}) == {bio, img}
    assert ids(**{"security-label": "MASQUE_PS"}) == set()


def test_identifier_search(dmp) -> None:
    _feed(dmp, master="urn:oid:1.2.250.1.999.42")
    r = dmp.find(patient=f"Patient/{PAT1}", status="current", identifier="urn:ietf:rfc:3986|urn:oid:1.2.250.1.999.42")
    assert r.json()["total"] == 1


def test_paging_and_sort(dmp) -> None:
    _feed(dmp, 3)
    r = dmp.find(patient=f"Patient/{PAT1}", status="current", _count=2, _sort="-date")
    b = r.json()
    assert b["total"] == 3 and len(b["entry"]) == 2
    links = {ln["relation"]: ln["url"] for ln in b["link"]}
    assert "next" in links and "self" in links
    nxt = dmp.http.get(links["next"], headers=dmp.headers(dmp.pro_token())).json()
    assert len(nxt["entry"]) == 1
    assert {ln["relation"] for ln in nxt["link"]} >= {"previous", "first"}


def test_unknown_parameter_reported(dmp) -> None:
    r = dmp.find(patient=f"Patient/{PAT1}", status="current", foo="bar")
    outcome = [e for e in r.json()["entry"] if e["search"]["mode"] == "outcome"]
    assert outcome and "foo" in outcome[0]["resource"]["issue"][0]["diagnostics"]


def test_masked_document_hidden_except_from_medecin_traitant(dmp) -> None:
    masked = _feed(dmp, labels=[{"coding": [{"system": TRE_A07, "code": "MASQUE_PS"}]}])[0]
    visible = _feed(dmp)[0]
    other = dmp.find(dmp.pro_token(OTHER_PRO), patient=f"Patient/{PAT1}", status="current").json()
    assert {e["resource"]["id"] for e in other["entry"]} == {visible}
    mt = dmp.find(patient=f"Patient/{PAT1}", status="current").json()  # 899700218896 = médecin traitant
    assert {e["resource"]["id"] for e in mt["entry"]} == {visible, masked}
    r = dmp.http.get(f"/dmp/fhir/DocumentReference/{masked}", headers=dmp.headers(dmp.pro_token(OTHER_PRO)))
    assert r.status_code == 404


def test_unauthorized_professional_refused_unless_emergency(dmp) -> None:
    _feed(dmp, ins=ONLY_MT)
    r = dmp.find(dmp.pro_token(OTHER_PRO), patient=f"Patient/{ONLY_MT}", status="current")
    assert r.status_code == 403 and "dmp.acc.14" in r.text
    assert dmp.find(dmp.pro_token(ONLY_MT_DOCTOR), patient=f"Patient/{ONLY_MT}", status="current").status_code == 200
    r = dmp.find(dmp.pro_token(OTHER_PRO), headers={"X-DMP-Access-Mode": "bris_de_glace"},
                 patient=f"Patient/{ONLY_MT}", status="current")
    assert r.status_code == 200 and r.json()["total"] == 1
    r = dmp.find(dmp.pro_token(OTHER_PRO), headers={"X-DMP-Access-Mode": "centre_15"},
                 patient=f"Patient/{ONLY_MT}", status="current")
    assert r.status_code == 403 and "dmp.acc.18" in r.text  # not a regulator
    r = dmp.find(dmp.pro_token(REGULATOR), headers={"X-DMP-Access-Mode": "centre_15"},
                 patient=f"Patient/{ONLY_MT}", status="current")
    assert r.status_code == 200
    r = dmp.find(dmp.pro_token(OTHER_PRO), headers={"X-DMP-Access-Mode": "urgence"},
                 patient=f"Patient/{ONLY_MT}", status="current")
    assert r.status_code == 400


def test_iti66_lists(dmp) -> None:
    _feed(dmp)
    r = dmp.http.get("/dmp/fhir/List", params={"patient": f"Patient/{PAT1}", "code": "submissionset"},
                     headers=dmp.headers(dmp.pro_token()))
    assert r.status_code == 200, r.text
    b = r.json()
    assert b["total"] == 1
    ss = b["entry"][0]["resource"]
    assert ss["entry"][0]["item"]["reference"].startswith("DocumentReference/")
    one = dmp.http.get(f"/dmp/fhir/List/{ss['id']}", headers=dmp.headers(dmp.pro_token()))
    assert one.status_code == 200 and one.json()["id"] == ss["id"]
    assert dmp.http.get("/dmp/fhir/List", headers=dmp.headers(dmp.pro_token())).status_code == 400


def test_iti68_binary_resource_form(dmp) -> None:
    doc_id = _feed(dmp)[0]
    doc = dmp.http.get(f"/dmp/fhir/DocumentReference/{doc_id}", headers=dmp.headers(dmp.pro_token())).json()
    url = doc["content"][0]["attachment"]["url"]
    r = dmp.http.get(url, headers={**dmp.headers(dmp.pro_token()), "Accept": FHIR})
    assert r.json()["resourceType"] == "Binary" and r.json()["contentType"] == "text/xml"
    assert dmp.http.get("/dmp/fhir/Binary/unknown", headers=dmp.headers(dmp.pro_token())).status_code == 404


def test_out_of_range_paging_is_a_400_outcome(dmp) -> None:
    # a 30-digit _offset overflowed the database integer (500) before it was bounded
    for params in ({"_offset": "9" * 30}, {"_offset": "-1"}, {"_count": "abc"}):
        r = dmp.find(patient=f"Patient/{PAT1}", status="current", **params)
        assert r.status_code == 400, (params, r.text)
        assert r.json()["resourceType"] == "OperationOutcome"
    r = dmp.find(patient=f"Patient/{PAT1}", status="current", _count="9" * 30)  # capped, not refused
    assert r.status_code == 200, r.text
