"""Mutation tests: faults injected into valid instances are caught at the right location."""

from __future__ import annotations

import copy
import random

import pytest
from profiles_testutil import EXAMPLES, load

from profiles import validate

E = "Bundle.entry"


def _set(doc, path, value):
    cur = doc
    for p in path[:-1]:
        cur = cur[p]
    if value is None:
        del cur[path[-1]]
    else:
        cur[path[-1]] = value


MUTATIONS = [
    # (name, path, new value (None = delete), message id, expression)
    ("drop-required-dr-code", ["entry", 3, "resource", "code"], None, "CARD_MIN", f"{E}[3].resource"),
    ("drop-profile-required-effective", ["entry", 9, "resource", "effectiveDateTime"], None, "CARD_MIN",
     f"{E}[9].resource"),
    ("drop-patient-birthdate", ["entry", 0, "resource", "birthDate"], None, "CARD_MIN", f"{E}[0].resource"),
    ("wrong-code-status", ["entry", 4, "resource", "status"], "done", "TERM_CODE_NOT_IN_VS", f"{E}[4].resource.status"),
    ("wrong-code-gender", ["entry", 0, "resource", "gender"], "F", "TERM_CODE_NOT_IN_VS", f"{E}[0].resource.gender"),
    ("wrong-oid", ["entry", 0, "resource", "identifier", 0, "system"], "urn:oid:1.2.250.1.213.1.4.9",
     "PROF_FIXED_VALUE", f"{E}[0].resource.identifier[0].system"),
    ("broken-nir-key", ["entry", 0, "resource", "identifier", 0, "value"], "297022A02077877",
     "FR_NIR_KEY", f"{E}[0].resource.identifier[0].value"),
    ("bad-ucum", ["entry", 7, "resource", "valueQuantity", "code"], "mmol/l/",
     "TERM_UCUM_INVALID", f"{E}[7].resource.value.ofType(Quantity).code"),
    ("bad-ucum-range", ["entry", 8, "resource", "referenceRange", 0, "low", "code"], "g/dLL",
     "TERM_UCUM_INVALID", f"{E}[8].resource.referenceRange[0].low.code"),
    ("dangling-reference", ["entry", 12, "resource", "subject", "reference"],
     "urn:uuid:00000000-0000-4000-8000-000000000000", "REF_UNRESOLVED", f"{E}[12].resource.subject.reference"),
    ("wrong-reference-target", ["entry", 3, "resource", "specimen", 0, "reference"],
     "urn:uuid:00005a4d-b100-0000-0000-000000000001", "PROF_REFERENCE_TARGET",
     f"{E}[3].resource.specimen[0].reference"),
    ("impossible-date", ["entry", 0, "resource", "birthDate"], "1997-02-30", "PRIM_DATE_IMPOSSIBLE",
     f"{E}[0].resource.birthDate"),
    ("decimal-as-string", ["entry", 5, "resource", "valueQuantity", "value"], "4.6", "PRIM_JSON_TYPE",
     f"{E}[5].resource.value.ofType(Quantity).value"),
    ("unknown-element", ["entry", 6, "resource", "valeur"], 1, "STRUCT_UNKNOWN_ELEMENT", f"{E}[6].resource.valeur"),
    ("not-loinc", ["entry", 10, "resource", "code", "coding", 0, "system"], "http://snomed.info/sct",
     "INV_FAILED", f"{E}[10].resource.code"),
]


@pytest.mark.parametrize("name,path,value,msg,expr", MUTATIONS, ids=[m[0] for m in MUTATIONS])
def test_mutation_caught(cr_bio_bundle, name, path, value, msg, expr) -> None:
    doc = copy.deepcopy(cr_bio_bundle)
    _set(doc, path, value)
    found = {(i.message_id, i.expression) for i in validate(doc) if i.severity.value == "error"}
    assert (msg, expr) in found


def test_wrong_slice_cardinality(cr_bio_bundle) -> None:
    doc = copy.deepcopy(cr_bio_bundle)
    ids = doc["entry"][0]["resource"]["identifier"]
    ids.append(copy.deepcopy(ids[0]))
    found = {(i.message_id, i.expression) for i in validate(doc)}
    assert ("SLICE_MAX", f"{E}[0].resource.identifier[2]") in found


def test_valid_fixture_is_clean(cr_bio_bundle) -> None:
    assert validate(cr_bio_bundle) == []


EXAMPLE_MUTATIONS = [
    ("mhd/DocumentReference-ex-DocumentReferenceComprehensive.json", ["status"], None,
     "CARD_MIN", "DocumentReference"),
    ("mhd/DocumentReference-ex-DocumentReferenceComprehensive.json", ["status"], "active",
     "TERM_CODE_NOT_IN_VS", "DocumentReference.status"),
    ("pdsm/DocumentReference-exemple-pdsm-documentreference.json", ["content", 0, "attachment", "hash"], None,
     "CARD_MIN", "DocumentReference.content[0].attachment"),
    ("pdsm/DocumentReference-exemple-pdsm-documentreference.json", ["date"], "2025-13-01T00:00:00Z",
     "PRIM_FORMAT", "DocumentReference.date"),
    ("mhd/Bundle-ex-minimalProvideDocumentBundleSimple.json", ["type"], "transactions",
     "TERM_CODE_NOT_IN_VS", "Bundle.type"),
    ("annuaire/Practitioner-334081.json", ["identifier", 1, "system"], "urn:oid:1.2.250.1.71.4.2.9",
     "PROF_FIXED_VALUE", "Practitioner.identifier[1].system"),
    ("annuaire/Organization-158480.json", ["identifier", 1, "value"], "75456786",
     "INV_FAILED", "Organization.identifier[1]"),
]


@pytest.mark.parametrize("rel,path,value,msg,expr", EXAMPLE_MUTATIONS,
                         ids=[f"{m[0].split('/')[1]}:{'.'.join(map(str, m[1]))}" for m in EXAMPLE_MUTATIONS])
def test_example_mutation_caught(rel, path, value, msg, expr) -> None:
    doc = load(EXAMPLES / rel)
    _set(doc, path, value)
    found = {(i.message_id, i.expression) for i in validate(doc) if i.severity.value == "error"}
    assert (msg, expr) in found


def _random_mutations(doc, rng, n):
    """Yield structurally random variants (types swapped, nodes emptied) of a document."""
    paths = []

    def walk(node, path):
        paths.append(path)
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, path + [k])
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, path + [i])

    walk(doc, [])
    junk = [None, "", [], {}, 0, -1.5, True, "x" * 3, {"a": 1}, [None], "2023-02-30"]
    for _ in range(n):
        d = copy.deepcopy(doc)
        path = rng.choice(paths[1:])
        _set(d, path, rng.choice(junk[1:]))
        yield d


def test_never_raises_on_garbage(cr_bio_bundle) -> None:
    rng = random.Random(8)
    count = 0
    for doc in _random_mutations(cr_bio_bundle, rng, 600):
        issues = validate(doc)
        assert not [i for i in issues if i.message_id == "VALIDATOR_INTERNAL_ERROR"], doc
        count += 1
    assert count == 600
