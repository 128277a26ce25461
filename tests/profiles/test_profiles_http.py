"""HTTP $validate: workspace policies end to end (real sandbox, STYLE §14) and the type-level
``[type]/$validate`` router for any FHIR base."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from profiles_testutil import FIXTURES

from profiles.http import type_validate_router

FX = FIXTURES / "cr-bio-transaction.json"
HEADER = "X-Sandbox-Workspace"
# Patient with an unknown gender code (TERM_CODE_NOT_IN_VS error) and no narrative (dom-6 warning)
PATIENT = {"resourceType": "Patient", "gender": "M"}


def _codes(oo: dict) -> list[tuple[str, str]]:
    return [(i["severity"], i.get("details", {}).get("coding", [{}])[0].get("code", "")) for i in oo["issue"]]


@pytest.fixture()
def policy_workspace(client) -> Iterator[str]:
    name = f"t-{uuid.uuid4().hex[:10]}"
    policy = {"TERM_CODE_NOT_IN_VS": "warning", "INV_FAILED:dom-6": "suppress"}
    r = client.post("/sandbox/api/workspaces", json={"name": name, "options": {"profiles": {"policy": policy}}})
    assert r.status_code == 201
    assert r.json()["options"]["profiles"]["policy"] == policy
    yield name
    client.delete(f"/sandbox/api/workspaces/{name}")


def test_policy_of_the_workspace_applies_and_lists_suppressions(client, policy_workspace) -> None:
    r = client.post("/profiles/fhir/$validate?_lang=en", json=PATIENT, headers={HEADER: policy_workspace})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/fhir+json")
    oo = r.json()
    assert _codes(oo) == [("warning", "TERM_CODE_NOT_IN_VS"), ("information", "POLICY_SUPPRESSED")]
    assert oo["issue"][1]["details"]["text"] == "1 issue(s) 'INV_FAILED:dom-6' suppressed by the workspace policy"


def test_default_workspace_has_no_policy(client) -> None:
    r = client.post("/profiles/fhir/$validate", json=PATIENT)
    assert r.status_code == 200
    assert _codes(r.json()) == [("warning", "INV_FAILED"), ("error", "TERM_CODE_NOT_IN_VS")]


def test_type_level_route_mounted_with_policy(client, policy_workspace) -> None:
    r = client.post("/profiles/fhir/Patient/$validate", json=PATIENT, headers={HEADER: policy_workspace})
    assert r.status_code == 200
    assert _codes(r.json()) == [("warning", "TERM_CODE_NOT_IN_VS"), ("information", "POLICY_SUPPRESSED")]
    r = client.post("/profiles/fhir/Observation/$validate", json=PATIENT, headers={HEADER: policy_workspace})
    assert r.status_code == 400
    assert _codes(r.json()) == [("error", "OP_TYPE_MISMATCH")]


def test_suppressions_are_counted(client) -> None:
    name = f"t-{uuid.uuid4().hex[:10]}"
    r = client.post("/sandbox/api/workspaces",
                    json={"name": name, "options": {"profiles": {"policy": {"STRUCT_UNKNOWN_ELEMENT": "suppress"}}}})
    assert r.status_code == 201
    try:
        body = {"resourceType": "Patient", "text": {"status": "generated",
                "div": '<div xmlns="http://www.w3.org/1999/xhtml"><p>x</p></div>'}, "foo": 1, "bar": 2}
        r = client.post("/profiles/fhir/$validate?_lang=fr", json=body, headers={HEADER: name})
        assert r.status_code == 200
        oo = r.json()
        # nothing left but the suppression summary: the 'no issue' line stays first
        assert [i["severity"] for i in oo["issue"]] == ["information", "information"]
        assert oo["issue"][0]["details"]["text"] == "Aucun problème détecté"
        assert oo["issue"][1]["details"]["coding"][0]["code"] == "POLICY_SUPPRESSED"
        assert oo["issue"][1]["details"]["text"].startswith("2 problème(s) 'STRUCT_UNKNOWN_ELEMENT'")
    finally:
        client.delete(f"/sandbox/api/workspaces/{name}")


def test_invalid_policy_entries_are_ignored_and_reported(client) -> None:
    name = f"t-{uuid.uuid4().hex[:10]}"
    policy = {"NO_SUCH_ID": "suppress", "TERM_CODE_NOT_IN_VS": "loud", "INV_FAILED:dom-6": "information"}
    r = client.post("/sandbox/api/workspaces", json={"name": name, "options": {"profiles": {"policy": policy}}})
    assert r.status_code == 201
    try:
        r = client.post("/profiles/fhir/$validate", json=PATIENT, headers={HEADER: name})
        assert r.status_code == 200
        oo = r.json()
        assert _codes(oo) == [("information", "INV_FAILED"), ("error", "TERM_CODE_NOT_IN_VS"),
                              ("warning", "POLICY_INVALID"), ("warning", "POLICY_INVALID")]
        assert "NO_SUCH_ID" in oo["issue"][2]["details"]["text"] and "loud" in oo["issue"][3]["details"]["text"]
    finally:
        client.delete(f"/sandbox/api/workspaces/{name}")


def test_unknown_workspace_is_a_404_operation_outcome(client) -> None:
    r = client.post("/profiles/fhir/$validate", json=PATIENT, headers={HEADER: "no-such-workspace"})
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/fhir+json")
    oo = r.json()
    assert oo["resourceType"] == "OperationOutcome"
    assert oo["issue"][0]["code"] == "not-found" and "no-such-workspace" in oo["issue"][0]["diagnostics"]


def test_bad_json_is_400_even_with_a_policy(client, policy_workspace) -> None:
    r = client.post("/profiles/fhir/Patient/$validate", content=b"{oops", headers={HEADER: policy_workspace})
    assert r.status_code == 400
    assert _codes(r.json()) == [("fatal", "STRUCT_JSON_SYNTAX")]


# --- the router factory on any base, outside the sandbox app (no workspace, no policy) ----------

def _client(base: str = "/other/fhir") -> TestClient:
    app = FastAPI()
    app.include_router(type_validate_router(base))
    return TestClient(app)


def test_type_router_validates_matching_type() -> None:
    r = _client().post("/other/fhir/Bundle/$validate", content=FX.read_bytes())
    assert r.status_code == 200
    assert _codes(r.json()) == [("information", "")]


def test_type_router_refuses_mismatch_and_unknown_type() -> None:
    c = _client()
    r = c.post("/other/fhir/Observation/$validate?_lang=en", json=PATIENT)
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("application/fhir+json")
    assert r.json()["issue"][0]["details"]["text"] == \
        "The resource type in the URL (Observation) does not match the body (Patient)"
    r = c.post("/other/fhir/Observation/$validate", json=[1, 2])
    assert r.status_code == 400
    assert _codes(r.json()) == [("error", "OP_TYPE_MISMATCH")]
    r = c.post("/other/fhir/Nonsense/$validate", json={"resourceType": "Nonsense"})
    assert r.status_code == 404
    assert _codes(r.json()) == [("error", "OP_UNKNOWN_TYPE")]


def test_type_router_profile_query_and_parameters_body() -> None:
    c = _client("/x/fhir/")
    ins = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-patient-ins"
    r = c.post(f"/x/fhir/Patient/$validate?profile={ins}", json={"resourceType": "Patient", "gender": "female"})
    assert r.status_code == 200
    assert {"CARD_MIN", "SLICE_MIN"} <= {code for _, code in _codes(r.json())}
    params = {"resourceType": "Parameters", "parameter": [
        {"name": "resource", "resource": {"resourceType": "Patient", "gender": "female"}},
        {"name": "profile", "valueCanonical": ins}]}
    r = c.post("/x/fhir/Patient/$validate", json=params)
    assert r.status_code == 200
    assert {"CARD_MIN", "SLICE_MIN"} <= {code for _, code in _codes(r.json())}
    r = c.post("/x/fhir/Observation/$validate", json=params)
    assert r.status_code == 400


def test_default_language_follows_the_sandbox_setting():
    from sandbox.testing import running_sandbox

    patient = {"resourceType": "Patient", "gender": "robot"}
    with running_sandbox(language="en") as sb, sb.client() as c:
        english = c.post("/profiles/fhir/$validate", json=patient).json()
        french = c.post("/profiles/fhir/$validate", json=patient, headers={"Accept-Language": "fr"}).json()
    def texts(outcome):
        return [i.get("details", {}).get("text", "") + i.get("diagnostics", "") for i in outcome["issue"]]

    assert texts(english) != texts(french)
    assert len(english["issue"]) == len(french["issue"])
