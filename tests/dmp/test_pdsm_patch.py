"""PDSm PATCH, Flux 03 (FACTS §3.2, §3.3 TD3.3a–d, appendix A.5, appendix C deletion choice)."""

from __future__ import annotations

from dmp_helpers import FHIR, OTHER_PRO, PAT1, TRE_A07, cr_bio_bundle

ARCHIVE = "https://interop.esante.gouv.fr/ig/fhir/pdsm/StructureDefinition/pdsm-ext-is-archived"
MASK = {"coding": [{"system": TRE_A07, "code": "MASQUE_PS"}]}
UNMASK = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "N"}]}


def _doc(dmp, master: str = "urn:oid:1.2.250.1.999.7") -> str:  # noqa: ANN001
    r = dmp.provide(cr_bio_bundle(PAT1, master=master))
    assert r.status_code == 200, r.text
    return "urn:ietf:rfc:3986|" + master


def test_mask_archive_and_version(dmp) -> None:
    ident = _doc(dmp)
    r = dmp.patch(ident, [{"op": "replace", "path": "/securityLabel/0", "value": MASK},
                          {"op": "replace", "path": f"/extension[url:'{ARCHIVE}']/valueBoolean", "value": True}])
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == 'W/"2"'
    doc = r.json()
    assert doc["meta"]["versionId"] == "2"
    assert doc["securityLabel"] == [MASK]
    assert {"url": ARCHIVE, "valueBoolean": True} in doc["extension"]
    found = dmp.find(patient=f"Patient/{PAT1}", status="current", isArchived="true").json()
    assert found["total"] == 1
    hidden = dmp.find(dmp.pro_token(OTHER_PRO), patient=f"Patient/{PAT1}", status="current").json()
    assert hidden["total"] == 0  # masked from a professional who is not the médecin traitant
    r = dmp.patch(ident, [{"op": "replace", "path": "/securityLabel/0", "value": UNMASK}], **{"If-Match": 'W/"2"'})
    assert r.status_code == 200 and r.headers["etag"] == 'W/"3"'
    assert dmp.find(dmp.pro_token(OTHER_PRO), patient=f"Patient/{PAT1}", status="current").json()["total"] == 1


def test_fhirpath_patch(dmp) -> None:
    ident = _doc(dmp)
    params = {"resourceType": "Parameters", "parameter": [
        {"name": "operation", "part": [{"name": "type", "valueCode": "replace"},
                                       {"name": "path", "valueString": "DocumentReference.securityLabel[0]"},
                                       {"name": "value", "valueCodeableConcept": MASK}]},
        {"name": "operation", "part": [{"name": "type", "valueCode": "add"},
                                       {"name": "path", "valueString": "DocumentReference"},
                                       {"name": "name", "valueString": "extension"},
                                       {"name": "value", "part": [{"name": "url", "valueUri": ARCHIVE},
                                                                  {"name": "valueBoolean", "valueBoolean": True}]}]}]}
    r = dmp.patch(ident, params, content_type=FHIR)
    assert r.status_code == 200, r.text
    assert r.json()["securityLabel"] == [MASK]


def test_forbidden_paths_are_405(dmp) -> None:
    ident = _doc(dmp)
    for op in ({"op": "replace", "path": "/type", "value": {}}, {"op": "remove", "path": "/subject"},
               {"op": "replace", "path": "/content/0/attachment/url", "value": "x"},
               {"op": "move", "from": "/status", "path": "/description"}):
        r = dmp.patch(ident, [op])
        assert r.status_code == 405, (op, r.text)
        assert r.json()["resourceType"] == "OperationOutcome"
    params = {"resourceType": "Parameters", "parameter": [{"name": "operation", "part": [
        {"name": "type", "valueCode": "replace"}, {"name": "path", "valueString": "DocumentReference.description"},
        {"name": "value", "valueString": "x"}]}]}
    assert dmp.patch(ident, params, content_type=FHIR).status_code == 405


def test_unknown_404_several_412_if_match_412(dmp) -> None:
    assert dmp.patch("urn:ietf:rfc:3986|urn:oid:9.9.9", [{"op": "replace", "path": "/status",
                                                          "value": "entered-in-error"}]).status_code == 404
    _doc(dmp, "urn:oid:1.2.250.1.999.8")
    r = dmp.provide(cr_bio_bundle(PAT1, master="urn:oid:1.2.250.1.999.8") | {})
    assert r.status_code == 409
    other = cr_bio_bundle(PAT1, master="urn:oid:1.2.250.1.999.8")
    other["entry"][1]["resource"]["masterIdentifier"]["system"] = "urn:other"
    assert dmp.provide(other).status_code == 200
    r = dmp.patch("urn:oid:1.2.250.1.999.8", [{"op": "replace", "path": "/securityLabel/0", "value": MASK}])
    assert r.status_code == 412, r.text
    r = dmp.patch("urn:ietf:rfc:3986|urn:oid:1.2.250.1.999.8", [{"op": "replace", "path": "/securityLabel/0",
                                                                 "value": MASK}], **{"If-Match": 'W/"7"'})
    assert r.status_code == 412


def test_delete_by_author_only_never_physical(dmp) -> None:
    ident = _doc(dmp)
    op = [{"op": "replace", "path": "/status", "value": "entered-in-error"}]
    r = dmp.patch(ident, op, dmp.pro_token(OTHER_PRO))
    assert r.status_code == 403 and "dmp.acc.08" in r.text
    r = dmp.patch(ident, op)
    assert r.status_code == 200 and r.json()["status"] == "entered-in-error"
    assert dmp.find(patient=f"Patient/{PAT1}", status="current").json()["total"] == 0
    assert dmp.find(patient=f"Patient/{PAT1}", status="entered-in-error").json()["total"] == 1
    r = dmp.patch(ident, [{"op": "replace", "path": "/status", "value": "current"}])
    assert r.status_code == 422


def test_superseded_deletion_variant_warns(dmp) -> None:
    ident = _doc(dmp)
    r = dmp.patch(ident, [{"op": "replace", "path": "/status", "value": "superseded"}])
    assert r.status_code == 200 and r.json()["status"] == "superseded"


def test_archive_extension_url_trap_accepted(dmp) -> None:
    ident = _doc(dmp)
    trap = "https://interop.esante.gouv.fr/ig/fhir/pdsm/SearchParameter/PDSm-isArchived"
    r = dmp.patch(ident, [{"op": "add", "path": "/extension/-", "value": {"url": trap, "valueBoolean": True}}])
    assert r.status_code == 200, r.text
    assert {"url": ARCHIVE, "valueBoolean": True} in r.json()["extension"]


def test_patch_wrong_content_type_415_and_bad_body_400(dmp) -> None:
    ident = _doc(dmp)
    assert dmp.patch(ident, [{"op": "replace", "path": "/status", "value": "x"}],
                     content_type="text/plain").status_code == 415
    assert dmp.patch(ident, {"op": "replace"}).status_code == 400
    assert dmp.patch(ident, [{"op": "replace", "path": "/status", "value": "bogus"}]).status_code == 422
