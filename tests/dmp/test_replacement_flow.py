"""PDSm4DMP TD2.1 replacement (FACTS §3.3): a new version with ``relatesTo`` replaces, and the old one
PATCHed to ``superseded`` in the same Bundle. That is a replacement, not the ``superseded`` variant
of deletion (TD3.3c), and gets no deletion warning."""

from __future__ import annotations

import json

from dmp_helpers import PAT1, cr_bio_bundle

from dmp import pdsm_patch

DELETION_WARNING = "suppression par 'superseded'"


def _feed(dmp, bundle: dict) -> dict:  # noqa: ANN001
    r = dmp.provide(bundle)
    assert r.status_code == 200, r.text
    return r.json()


def test_replacement_with_patch_of_the_old_version_is_not_a_deletion(dmp) -> None:
    old = _feed(dmp, cr_bio_bundle(PAT1))["entry"][1]["response"]["location"].split("/")[1]
    bundle = cr_bio_bundle(PAT1, replaces=old)
    bundle["entry"].append({"resource": {"resourceType": "Parameters", "parameter": [{"name": "operation", "part": [
        {"name": "type", "valueCode": "replace"}, {"name": "path", "valueString": "DocumentReference.status"},
        {"name": "value", "valueCode": "superseded"}]}]},
        "request": {"method": "PATCH", "url": f"DocumentReference/{old}"}})
    body = _feed(dmp, bundle)
    assert DELETION_WARNING not in json.dumps(body, ensure_ascii=False)
    assert body["entry"][-1]["response"]["status"] == "200 OK"
    r = dmp.http.get(f"/dmp/fhir/DocumentReference/{old}", headers=dmp.headers(dmp.pro_token()))
    assert r.json()["status"] == "superseded"


def test_superseded_reads_as_deletion_only_without_a_replacement() -> None:
    doc = {"resourceType": "DocumentReference", "status": "current"}
    ops = pdsm_patch.parse_json_patch([{"op": "replace", "path": "/status", "value": "superseded"}], doc, [])
    warnings: list[dict] = []
    out = pdsm_patch.apply(doc, ops, warnings)
    assert out.deleted and DELETION_WARNING in json.dumps(warnings, ensure_ascii=False)
    warnings = []
    out = pdsm_patch.apply(doc, ops, warnings, replaced=True)
    assert not out.deleted and warnings == [] and out.resource["status"] == "superseded"
