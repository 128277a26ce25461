"""ITI-65 bad input, one test per class (issue 5 "Bad input"; FACTS §3.2, §3.4, §8.13)."""

from __future__ import annotations

import base64
import json

import pytest
from dmp_helpers import CDA, CLOSED, FHIR, NO_DMP, PAT1, PROV, TRE_A07, cr_bio_bundle, expressions, issue_texts


def _oo(r, status: int) -> dict:  # noqa: ANN001
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(FHIR)
    body = r.json()
    assert body["resourceType"] == "OperationOutcome"
    return body


def test_not_a_bundle(dmp) -> None:
    _oo(dmp.provide({"resourceType": "Patient"}), 400)


def test_wrong_bundle_type(dmp) -> None:
    b = cr_bio_bundle(PAT1)
    b["type"] = "document"
    r = dmp.provide(b)
    _oo(r, 400)
    assert "Bundle.type" in expressions(r)


def test_body_not_json(dmp) -> None:
    r = dmp.http.post("/dmp/fhir", content=b"{not json", headers={"Content-Type": FHIR, **dmp.headers(dmp.pro_token())})
    _oo(r, 400)


def test_unresolved_urn_uuid(dmp) -> None:
    b = cr_bio_bundle(PAT1)
    b["entry"][1]["resource"]["content"][0]["attachment"]["url"] = "urn:uuid:00000000-0000-0000-0000-000000000000"
    r = dmp.provide(b)
    _oo(r, 422)
    assert "Bundle.entry[1].resource.content[0].attachment.url" in expressions(r)


def test_unresolved_list_entry(dmp) -> None:
    b = cr_bio_bundle(PAT1)
    b["entry"][0]["resource"]["entry"][0]["item"]["reference"] = "urn:uuid:11111111-0000-0000-0000-000000000000"
    r = dmp.provide(b)
    _oo(r, 422)
    assert "non résolue" in issue_texts(r)


def test_hash_mismatch(dmp) -> None:
    b = cr_bio_bundle(PAT1)
    b["entry"][1]["resource"]["content"][0]["attachment"]["hash"] = base64.b64encode(b"x" * 20).decode()
    r = dmp.provide(b)
    _oo(r, 422)
    assert expressions(r) == ["Bundle.entry[1].resource.content[0].attachment.hash"]


def test_size_mismatch(dmp) -> None:
    b = cr_bio_bundle(PAT1)
    b["entry"][1]["resource"]["content"][0]["attachment"]["size"] = len(CDA) + 1
    r = dmp.provide(b)
    _oo(r, 422)
    assert expressions(r) == ["Bundle.entry[1].resource.content[0].attachment.size"]


def test_missing_patient(dmp) -> None:
    b = cr_bio_bundle(PAT1)
    del b["entry"][1]["resource"]["subject"]
    r = dmp.provide(b)
    _oo(r, 422)
    assert "Bundle.entry[1].resource.subject" in expressions(r)


def test_patient_without_qualified_ins(dmp) -> None:
    r = dmp.provide(cr_bio_bundle(PROV))
    _oo(r, 422)
    assert "dmp.acc.06" in issue_texts(r)


def test_patient_without_dmp_and_closed_dmp(dmp) -> None:
    _oo(dmp.provide(cr_bio_bundle(NO_DMP)), 404)
    _oo(dmp.provide(cr_bio_bundle(CLOSED)), 403)


def test_unknown_class_code(dmp) -> None:
    r = dmp.provide(cr_bio_bundle(PAT1, class_code="99"))
    _oo(r, 422)
    assert "Bundle.entry[1].resource.category[0].coding[0]" in expressions(r)


def test_invalid_type_code(dmp) -> None:
    r = dmp.provide(cr_bio_bundle(PAT1, type_code="CRBIO"))
    _oo(r, 422)
    assert "Bundle.entry[1].resource.type.coding[0]" in expressions(r)


def test_unknown_format_code(dmp) -> None:
    r = dmp.provide(cr_bio_bundle(PAT1, format_code="urn:ihe:lab:xd-lab:1999"))
    _oo(r, 422)
    assert "Bundle.entry[1].resource.content[0].format" in expressions(r)


def test_spelling_traps_accepted_with_warning(dmp) -> None:
    trap = TRE_A07.replace("Statut", "Status")
    r = dmp.provide(cr_bio_bundle(PAT1, labels=[{"coding": [{"system": trap, "code": "MASQUE_PS"}]},
                                                 {"coding": [{"system": TRE_A07, "code": "N"}]}]))
    assert r.status_code == 200, r.text
    outcome = r.json()["entry"][1]["response"]["outcome"]
    texts = " ".join(i["diagnostics"] for i in outcome["issue"])
    assert "StatusVisibilite" in texts and "TRE_A08" in texts
    assert all(i["severity"] in ("warning", "information") for i in outcome["issue"])


def test_duplicate_master_identifier(dmp) -> None:
    assert dmp.provide(cr_bio_bundle(PAT1, master="urn:oid:1.2.3.4.5")).status_code == 200
    r = dmp.provide(cr_bio_bundle(PAT1, master="urn:oid:1.2.3.4.5"))
    _oo(r, 409)
    assert r.json()["issue"][0]["code"] == "duplicate"


def test_payload_over_dmp_limit(dmp) -> None:
    # the workspace option lowers the DMP limit (the platform's MES_SANDBOX_MAX_REQUEST_BYTES stays above)
    ws = dmp.http.post("/sandbox/api/workspaces", json={"name": dmp.workspace + "-s",
                                                       "options": {"dmp": {"max_bundle_bytes": 2048}}})
    assert ws.status_code == 201, ws.text
    try:
        from dmp_helpers import Dmp

        small = Dmp(dmp.sb, dmp.workspace + "-s", dmp.http)
        r = small.provide(cr_bio_bundle(PAT1, data=CDA * 40))
        _oo(r, 413)
    finally:
        dmp.http.delete(f"/sandbox/api/workspaces/{dmp.workspace}-s")
    assert r.status_code == 413


def test_payload_over_platform_limit(dmp) -> None:
    limit = dmp.sb.settings.max_request_bytes
    r = dmp.http.post("/dmp/fhir", content=b" " * (limit + 1),
                      headers={"Content-Type": FHIR, **dmp.headers(dmp.pro_token())})
    _oo(r, 413)


def test_wrong_content_type(dmp) -> None:
    r = dmp.http.post("/dmp/fhir", content=json.dumps(cr_bio_bundle(PAT1)),
                      headers={"Content-Type": "application/xml", **dmp.headers(dmp.pro_token())})
    _oo(r, 415)


def test_atomic_nothing_stored_on_failure(dmp) -> None:
    b = cr_bio_bundle(PAT1)
    second = cr_bio_bundle(PAT1)["entry"][1]
    second["resource"]["content"][0]["attachment"]["hash"] = "AAAA"
    b["entry"].append(second)
    assert dmp.provide(b).status_code == 422
    r = dmp.find(patient=f"Patient/{PAT1}", status="current")
    assert r.json()["total"] == 0


@pytest.mark.parametrize("options", [
    {"dmp": "junk"},
    {"dmp": {"max_bundle_bytes": "big", "validation": ["reject"]}},
    {"dmp": {"max_bundle_bytes": -5, "validation": {"x": 1}}},
])
def test_malformed_workspace_options_fall_back_to_defaults(dmp, options) -> None:
    # workspace options are free JSON: odd values must not turn every submission into a 500
    name = dmp.workspace + "-o"
    assert dmp.http.post("/sandbox/api/workspaces", json={"name": name, "options": options}).status_code == 201
    try:
        from dmp_helpers import Dmp

        odd = Dmp(dmp.sb, name, dmp.http)
        r = odd.provide(cr_bio_bundle(PAT1))
        assert r.status_code == 200, r.text
    finally:
        dmp.http.delete(f"/sandbox/api/workspaces/{name}")
