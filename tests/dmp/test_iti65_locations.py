"""Every ``location`` an ITI-65 transaction-response gives can be read back with the same token
(FHIR R4 Bundle.entry.response.location: where the created resource now lives). A versioned
location ``X/id/_history/n`` is followed as a read of ``X/id`` whose ``meta.versionId`` is ``n``
(the DMP's CapabilityStatement offers read, not vread)."""

from __future__ import annotations

import copy
import uuid
from typing import Any

from dmp_helpers import CDA, PAT1, cr_bio_bundle

BASE = "/dmp/fhir/"


def _follow_every_location(dmp: Any, bundle: dict[str, Any]) -> list[str]:
    r = dmp.provide(bundle)
    assert r.status_code == 200, r.text
    locations = [e["response"]["location"] for e in r.json()["entry"] if "location" in e["response"]]
    assert locations
    for loc in locations:
        path, _, version = loc.partition("/_history/")
        got = dmp.http.get(BASE + path, headers=dmp.headers(dmp.pro_token()))
        assert got.status_code == 200, f"{loc}: {got.status_code} {got.text[:200]}"
        if version:
            assert got.json()["meta"]["versionId"] == version, loc
    return locations


def test_binary_location_is_the_stored_content(dmp) -> None:
    bundle = cr_bio_bundle(PAT1)
    locations = _follow_every_location(dmp, bundle)
    binary = next(loc for loc in locations if loc.startswith("Binary/"))
    r = dmp.http.get(BASE + binary, headers=dmp.headers(dmp.pro_token()))
    assert r.content == CDA
    doc = next(loc for loc in locations if loc.startswith("DocumentReference/"))
    dr = dmp.http.get(BASE + doc.partition("/_history/")[0], headers=dmp.headers(dmp.pro_token())).json()
    assert dr["content"][0]["attachment"]["url"].endswith("/" + binary)


def test_two_documents_each_with_its_binary(dmp) -> None:
    one, two = cr_bio_bundle(PAT1), cr_bio_bundle(PAT1, data=CDA.replace(b"CR-BIO", b"CR-BIO 2"))
    bundle = copy.deepcopy(one)
    bundle["entry"][0]["resource"]["entry"].append(two["entry"][0]["resource"]["entry"][0])
    bundle["entry"] += two["entry"][1:]
    locations = _follow_every_location(dmp, bundle)
    assert sum(loc.startswith("Binary/") for loc in locations) == 2


def test_unreferenced_binary_gets_no_location_and_a_warning(dmp) -> None:
    bundle = cr_bio_bundle(PAT1)
    bundle["entry"].append({"fullUrl": f"urn:uuid:{uuid.uuid4()}",
                            "resource": {"resourceType": "Binary", "contentType": "text/plain", "data": "eA=="},
                            "request": {"method": "POST", "url": "Binary"}})
    r = dmp.provide(bundle)
    assert r.status_code == 200, r.text
    last = r.json()["entry"][-1]["response"]
    assert last["status"] == "200 OK" and "location" not in last
    assert "non conservé" in str(last["outcome"])
    _follow_every_location(dmp, cr_bio_bundle(PAT1))
