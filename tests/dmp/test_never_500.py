"""Bad input never yields a 500 (DESIGN "Errors"): deterministic mutations of a valid ITI-65 Bundle,
of PATCH bodies and of search parameters all answer 2xx/4xx with an OperationOutcome."""

from __future__ import annotations

import json
import random
from typing import Any

from dmp_helpers import FHIR, PAT1, cr_bio_bundle

JUNK: list[Any] = [None, 0, -1, 1.5, True, "", "x", "urn:uuid:zz", [], [1], {}, {"a": 1}, "Patient/", "#"]


def _paths(obj: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += _paths(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out += _paths(v, prefix + (i,))
    return out


def _set(obj: Any, path: tuple, value: Any) -> Any:
    if not path:
        return value
    target = obj
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return obj


def test_mutated_bundles_never_500(dmp) -> None:
    rnd = random.Random(5)
    base = cr_bio_bundle(PAT1)
    paths = _paths(base)
    statuses = set()
    for n in range(150):
        b = json.loads(json.dumps(base))
        b["entry"][1]["resource"]["masterIdentifier"]["value"] = f"urn:oid:1.2.250.1.999.5.{n}"
        path = rnd.choice(paths)
        b = _set(b, path, rnd.choice(JUNK))
        r = dmp.provide(b)
        statuses.add(r.status_code)
        assert r.status_code < 500, (path, r.text)
        assert r.headers["content-type"].startswith(FHIR)
    assert any(s >= 400 for s in statuses)


def test_junk_patch_bodies_never_500(dmp) -> None:
    assert dmp.provide(cr_bio_bundle(PAT1, master="urn:oid:1.2.250.1.999.6")).status_code == 200
    ident = "urn:ietf:rfc:3986|urn:oid:1.2.250.1.999.6"
    bodies = [None, 1, "x", {}, [], [1], [{"op": 1, "path": 2}],
              [{"op": "add", "path": "/securityLabel/x", "value": 1}],
              [{"op": "replace", "path": "/securityLabel/5", "value": {}}], [{"op": "add", "path": "/extension/0"}],
              [{"op": "test", "path": "/status", "value": "current"}],
              [{"op": "replace", "path": "/securityLabel", "value": "N"}]]
    for body in bodies:
        r = dmp.patch(ident, body)
        assert r.status_code < 500, (body, r.text)
    for params in ({"resourceType": "Parameters"}, {"resourceType": "Parameters", "parameter": [{"name": "operation"}]},
                   {"resourceType": "Parameters", "parameter": [{"name": "operation", "part": [
                       {"name": "type", "valueCode": "insert"},
                       {"name": "path", "valueString": "DocumentReference.securityLabel"},
                       {"name": "index", "valueInteger": 99}, {"name": "value", "valueCodeableConcept": {}}]}]}):
        r = dmp.patch(ident, params, content_type=FHIR)
        assert r.status_code < 500, (params, r.text)


def test_junk_search_parameters_never_500(dmp) -> None:
    for params in ({"patient": "", "status": "current"}, {"patient": PAT1, "status": ","},
                   {"patient": PAT1, "status": "current", "_count": "x"},
                   {"patient": PAT1, "status": "current", "_count": "-1"},
                   {"patient": PAT1, "status": "current", "period": "zz"},
                   {"patient": PAT1, "status": "current", "creation": "ge"},
                   {"patient": PAT1, "status": "current", "isArchived": "maybe"},
                   {"patient": PAT1, "status": "current", "_offset": "100000"}):
        r = dmp.find(**params)
        assert r.status_code < 500, (params, r.text)
