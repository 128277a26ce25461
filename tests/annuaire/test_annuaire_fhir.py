"""/annuaire/fhir over a real socket: search parameters, Bundle searchset, errors as OperationOutcome,
every resource valid for ``profiles`` and mailboxes shaped as the official examples (FACTS §2.6)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import profiles
from mss.annuaire.resources import EXT_EMAIL_TYPE, EXT_MAILBOX_METADATA
from sandbox.testing import RunningSandbox

FIXTURES = Path(__file__).parent / "fixtures"
RPPS = "99700427885"  # DOC0042788 KIT, PSC test persona
FINESS = "0B0193488"  # HOPITAL GENERIQUE FIN VARI


@pytest.fixture()
def key(sandbox: RunningSandbox) -> dict[str, str]:
    """The operator key as the ESANTE-API-KEY (a workspace key works too: test_api_key_*)."""
    return {"ESANTE-API-KEY": sandbox.operator_key}


@pytest.fixture()
def fhir(sandbox: RunningSandbox, key: dict[str, str]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox.url("/annuaire/fhir"), headers=key, timeout=30) as c:
        yield c


@pytest.fixture()
def n_professionals(sandbox: RunningSandbox) -> int:
    """Every seeded professional has a PER mailbox and a Practitioner entry."""
    with sandbox.client() as c:
        return c.get("/sandbox/api/personas", params={"kind": "professional", "limit": 1}).json()["total"]


def entries(bundle: dict, mode: str = "match") -> list[dict]:
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "searchset"
    return [e["resource"] for e in bundle.get("entry", []) if e["search"]["mode"] == mode]


def outcome(r: httpx.Response, status: int) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/fhir+json")
    body = r.json()
    assert body["resourceType"] == "OperationOutcome" and body["issue"][0]["diagnostics"]
    return body


def test_practitioner_by_rpps_and_idnps(fhir: httpx.Client) -> None:
    for ident in (RPPS, f"https://rpps.esante.gouv.fr|{RPPS}", f"urn:oid:1.2.250.1.71.4.2.1|8{RPPS}"):
        found = entries(fhir.get("/Practitioner", params={"identifier": ident}).json())
        assert [p["id"] for p in found] == [f"8{RPPS}"], ident
    assert entries(fhir.get("/Practitioner", params={"identifier": f"urn:oid:9.9|{RPPS}"}).json()) == []
    p = fhir.get(f"/Practitioner/8{RPPS}").json()
    assert p["name"][0]["family"] == "DOC0042788"
    per = [t for t in p["telecom"] if t["system"] == "email"]
    assert per and per[0]["value"].endswith("@pro.sandbox.mssante.fr")


def test_name_search_modifiers(fhir: httpx.Client) -> None:
    starts = entries(fhir.get("/Practitioner", params={"name": "doc004"}).json())
    assert {p["id"] for p in starts} == {f"8{RPPS}"}
    assert entries(fhir.get("/Practitioner", params={"name:contains": "0042788"}).json())
    assert entries(fhir.get("/Practitioner", params={"name:exact": "DOC0042788"}).json())
    assert entries(fhir.get("/Practitioner", params={"name:exact": "doc0042788"}).json()) == []
    orgs = entries(fhir.get("/Organization", params={"name:contains": "générique"}).json())  # accents ignored
    assert [o["id"] for o in orgs] == [FINESS]


def test_mailbox_search(fhir: httpx.Client) -> None:
    p = fhir.get(f"/Practitioner/8{RPPS}").json()
    address = p["telecom"][0]["value"]
    exact = entries(fhir.get("/Practitioner", params={"mailbox-mss:exact": address}).json())
    assert [x["id"] for x in exact] == [f"8{RPPS}"]
    assert entries(fhir.get("/Practitioner", params={"mailbox-mss:exact": address.upper()}).json()) == []
    contains = entries(fhir.get("/Organization", params={"mailbox-mss:contains": "etab.sandbox.mssante.fr",
                                                         "_count": 1000}).json())
    assert len(contains) >= 20
    roles = entries(fhir.get("/PractitionerRole", params={"mailbox-mss": address}).json())
    assert roles and all(r["practitioner"]["reference"] == f"Practitioner/8{RPPS}" for r in roles)


def test_mailbox_type_search(fhir: httpx.Client, n_professionals: int) -> None:
    per = fhir.get("/Practitioner", params={"mailbox-mss-type": "PER", "_count": 1000}).json()
    assert per["total"] == n_professionals >= 60
    app = entries(fhir.get("/Organization", params={"mailbox-mss-type": "APP", "_count": 1000}).json())
    org = entries(fhir.get("/Organization", params={"mailbox-mss-type": "ORG", "_count": 1000}).json())
    assert app and len(org) > len(app)
    tre = "https://mos.esante.gouv.fr/NOS/TRE_R257-TypeBAL/FHIR/TRE-R257-TypeBAL"
    assert len(entries(fhir.get("/Organization", params={"mailbox-mss-type": f"{tre}|APP", "_count": 1000}).json())) \
        == len(app)
    assert entries(fhir.get("/Organization", params={"mailbox-mss-type": "CAB"}).json()) == []
    assert entries(fhir.get("/Practitioner", params={"mailbox-mss-type": "ORG"}).json()) == []
    body = outcome(fhir.get("/Organization", params={"mailbox-mss-type": "PAT"}), 400)
    assert body["issue"][0]["expression"] == ["mailbox-mss-type"]


def test_patient_addresses_are_not_in_the_directory(fhir: httpx.Client) -> None:
    for rtype in ("Practitioner", "PractitionerRole", "Organization"):
        found = fhir.get(f"/{rtype}", params={"mailbox-mss:contains": "patient.mssante.fr"}).json()
        assert found["total"] == 0


def test_organization_by_finess_and_roles_with_include(fhir: httpx.Client) -> None:
    orgs = entries(fhir.get("/Organization", params={"identifier": f"https://finess.esante.gouv.fr|{FINESS}"}).json())
    assert [o["id"] for o in orgs] == [FINESS]
    types = {t["extension"][1]["extension"][0]["valueCodeableConcept"]["coding"][0]["code"] for t in orgs[0]["telecom"]}
    assert types == {"ORG", "APP"}
    bundle = fhir.get("/PractitionerRole", params=[("organization", f"Organization/{FINESS}"),
                                                   ("_include", "PractitionerRole:practitioner"),
                                                   ("_include", "PractitionerRole:organization")]).json()
    roles = entries(bundle)
    assert len(roles) >= 3 and all(r["organization"]["reference"] == f"Organization/{FINESS}" for r in roles)
    included = entries(bundle, "include")
    assert {r["resourceType"] for r in included} == {"Practitioner", "Organization"}
    assert f"8{RPPS}" in {r["id"] for r in included}
    by_pract = entries(fhir.get("/PractitionerRole", params={"practitioner": f"8{RPPS}"}).json())
    assert by_pract and by_pract[0]["id"] == f"8{RPPS}-{FINESS}"


def test_paging(fhir: httpx.Client, n_professionals: int, key: dict[str, str]) -> None:
    first = fhir.get("/Practitioner", params={"_count": 7}).json()
    assert first["total"] == n_professionals and len(first["entry"]) == 7
    nxt = next(link["url"] for link in first["link"] if link["relation"] == "next")
    second = httpx.get(nxt, headers=key).json()
    assert len(second["entry"]) == 7
    assert not {e["resource"]["id"] for e in first["entry"]} & {e["resource"]["id"] for e in second["entry"]}
    last = fhir.get("/Practitioner", params={"_count": 7, "_offset": n_professionals - 4}).json()
    assert len(last["entry"]) == 4 and all(link["relation"] != "next" for link in last["link"])


def test_errors_are_operation_outcomes(fhir: httpx.Client, sandbox: RunningSandbox) -> None:
    body = outcome(fhir.get("/Practitioner", params={"family": "X"}), 400)
    assert body["issue"][0]["expression"] == ["family"]
    outcome(fhir.get("/Practitioner", params={"name:below": "X"}), 400)
    outcome(fhir.get("/Practitioner", params={"_count": "many"}), 400)
    outcome(fhir.get("/Practitioner", params={"_count": "-1"}), 400)
    outcome(fhir.get("/Practitioner", params={"identifier": ""}), 400)
    outcome(fhir.get("/Practitioner", params={"active": "yes"}), 400)
    outcome(fhir.get("/Practitioner", params={"_include": "Practitioner:organization"}), 400)
    outcome(fhir.get("/Practitioner/does-not-exist"), 404)
    outcome(fhir.get("/Patient"), 404)
    outcome(fhir.get("/Patient/1"), 404)
    outcome(fhir.get("", params={"_type": "Practitioner"}), 400)
    outcome(fhir.get("/Practitioner", headers={"X-Sandbox-Workspace": "no-such-workspace"}), 404)
    outcome(fhir.post("/Practitioner", json={}), 405)
    with httpx.Client(base_url=sandbox.url("/annuaire/fhir"), timeout=30) as bare:
        body = outcome(bare.get("/Practitioner"), 401)
        assert "ESANTE-API-KEY" in body["issue"][0]["diagnostics"]
    capability = fhir.get("/metadata").json()
    assert capability["resourceType"] == "CapabilityStatement"
    names = {p["name"] for r in capability["rest"][0]["resource"] for p in r["searchParam"]}
    assert {"mailbox-mss", "mailbox-mss-type", "identifier", "name"} <= names


def test_every_resource_is_valid(fhir: httpx.Client) -> None:
    for rtype in ("Practitioner", "PractitionerRole", "Organization"):
        bundle = fhir.get(f"/{rtype}", params={"_count": 1000}).json()
        assert bundle["total"] == len(bundle["entry"]) > 0
        for e in bundle["entry"]:
            issues = [i for i in profiles.validate(e["resource"]) if i.severity.value != "information"]
            assert issues == [], (e["resource"]["id"], [(i.expression, i.text_en) for i in issues])
            informations = {i.message_id for i in profiles.validate(e["resource"])}
            assert informations <= {"PROF_UNKNOWN"}  # annuaire/fr-core role profiles we do not carry


def test_mailbox_telecom_has_the_official_shape(fhir: httpx.Client) -> None:
    official = json.loads((FIXTURES / "Organization-481677.json").read_text(encoding="utf-8"))["telecom"][0]
    ours = entries(fhir.get("/Organization", params={"identifier": FINESS}).json())[0]["telecom"][0]

    def shape(t: dict) -> tuple:
        return (t["system"], [e["url"] for e in t["extension"]], t["extension"][0]["valueCoding"],
                t["extension"][1]["extension"][0]["url"],
                t["extension"][1]["extension"][0]["valueCodeableConcept"]["coding"][0]["system"])

    assert shape(ours) == shape(official)
    assert [e["url"] for e in ours["extension"]] == [EXT_EMAIL_TYPE, EXT_MAILBOX_METADATA]
    nancy = json.loads((FIXTURES / "Organization-example-organization-nancy.json").read_text(encoding="utf-8"))
    meta_urls = {e["url"] for e in nancy["telecom"][3]["extension"][1]["extension"]}
    assert {e["url"] for e in ours["extension"][1]["extension"]} <= meta_urls | {"service", "responsible"}


def test_exchanges_are_recorded(fhir: httpx.Client, sandbox: RunningSandbox) -> None:
    fhir.get("/Organization", params={"identifier": FINESS}).raise_for_status()
    recorded = sandbox.exchanges(service="annuaire")
    assert any(x.get("operation") == "annuaire.search.Organization" for x in recorded)


def test_api_key_is_required_and_chooses_the_workspace(sandbox: RunningSandbox, workspace: str) -> None:
    """A workspace key opens its workspace only; the operator key the one the header names; any
    other key is a 401 OperationOutcome (the real gateway checks its keys)."""
    with sandbox.client() as c:
        ws_key = c.post(f"/sandbox/api/workspaces/{workspace}/api-key").json()["api_key"]
    other = f"o-{workspace}"
    other_key = sandbox.create_workspace(other)
    try:
        with httpx.Client(base_url=sandbox.url("/annuaire/fhir"), timeout=30) as c:
            for bad in ("test-key", "sandbox", f"ws_{workspace}.forged", other_key + "x"):
                body = outcome(c.get("/Practitioner", params={"identifier": RPPS},
                                     headers={"ESANTE-API-KEY": bad}), 401)
                assert body["issue"][0]["code"] == "security"
                assert bad not in json.dumps(body)
            for path in ("/Practitioner", f"/Practitioner/8{RPPS}", "/Organization"):
                outcome(c.get(path, headers={"ESANTE-API-KEY": "test-key"}), 401)
            mine = c.get("/Practitioner", params={"identifier": RPPS}, headers={"ESANTE-API-KEY": ws_key})
            assert mine.status_code == 200 and len(entries(mine.json())) == 1
            named = c.get("/Practitioner", params={"identifier": RPPS},
                          headers={"ESANTE-API-KEY": ws_key, "X-Sandbox-Workspace": workspace})
            assert named.status_code == 200
            outcome(c.get("/Practitioner", headers={"ESANTE-API-KEY": ws_key, "X-Sandbox-Workspace": other}), 403)
            outcome(c.get("/Practitioner", headers={"ESANTE-API-KEY": ws_key, "X-Sandbox-Workspace": "default"}),
                    403)
            operator = {"ESANTE-API-KEY": sandbox.operator_key}
            for ws in (workspace, other, "default"):
                r = c.get("/Organization", params={"_count": 1}, headers={**operator, "X-Sandbox-Workspace": ws})
                assert r.status_code == 200, r.text
            outcome(c.get("/Organization", headers={**operator, "X-Sandbox-Workspace": "no-such-workspace"}), 404)
            assert c.get("/metadata").status_code == 200  # the capability statement needs no key
        searches = sandbox.exchanges(service="annuaire", workspace=workspace)
        assert any(x.get("operation") == "annuaire.search.Practitioner" and str(x.get("status")) == "200"
                   for x in searches)
    finally:
        with sandbox.client() as c:
            c.delete(f"/sandbox/api/workspaces/{other}")
