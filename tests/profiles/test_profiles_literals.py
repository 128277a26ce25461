"""Decimals kept as written: :mod:`profiles.literals` and :func:`profiles.validate_bytes`.

Golden cases ``literal-*`` cover the integer/decimal forms; here: the parser's strictness, the
literal type, precision-sensitive fixed values, messages quoting the text, and the CLI/HTTP use.
"""

from __future__ import annotations

import io
import json
import tarfile

import orjson
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import profiles
from profiles.http import build_router
from profiles.literals import DecimalLiteral, dumps_default, parse_json
from profiles.registry import build_registry

NARRATIVE = {"status": "generated", "div": '<div xmlns="http://www.w3.org/1999/xhtml"><p>x</p></div>'}


def _obs(value_json: str) -> bytes:
    head = json.dumps({"resourceType": "Observation", "text": NARRATIVE, "status": "final",
                       "code": {"coding": [{"system": "http://loinc.org", "code": "2345-7"}]}})
    return (head[:-1] + ", " + value_json + "}").encode()


@pytest.mark.parametrize("raw", [
    b'{"a": 01.5}', b'{"a": .5}', b'{"a": 1.}', b'{"a": +1}', b'{"a": NaN}', b'{"a": Infinity}',
    b'{"a": -Infinity}', b'{"a": "\\ud800"}', b'\xef\xbb\xbf{"a": 1}', b'{"a": "\xff"}', b"[" * 100_000,
])
def test_parse_refuses_what_json_forbids(raw: bytes) -> None:
    doc, issues = parse_json(raw)
    assert doc is None
    assert [(i.severity.value, i.message_id) for i in issues] == [("fatal", "STRUCT_JSON_SYNTAX")]


def test_parse_keeps_decimal_text_and_exact_integers() -> None:
    doc, issues = parse_json(b'{"a": 1.50, "b": 0.010, "c": 1E2, "d": 12345678901234567890, "e": "\\ud83d\\ude00"}')
    assert issues == []
    assert [doc[k].text for k in "abc"] == ["1.50", "0.010", "1E2"]
    assert all(type(doc[k]) is DecimalLiteral for k in "abc")
    assert doc["d"] == 12345678901234567890 and type(doc["d"]) is int
    assert doc["e"] == "\U0001F600"


def test_decimal_literal_is_a_float_that_keeps_its_precision() -> None:
    a, b = DecimalLiteral("1.50"), DecimalLiteral("1.5")
    assert isinstance(a, float) and a + 1 == 2.5 and a < 2
    assert str(a) == repr(a) == "1.50"
    assert a != b and not a == b  # same value, different precision
    assert a == DecimalLiteral("0.150e1") and b == DecimalLiteral("15E-1")
    assert a == 1.5 and 1.5 == a and hash(a) == hash(1.5)  # plain floats carry no precision
    assert orjson.dumps({"v": a}, default=dumps_default) == b'{"v":1.50}'


def test_dict_path_unchanged_for_plain_floats() -> None:
    res = json.loads(_obs('"valueInteger": 1.0'))
    assert profiles.validate(res) == []
    assert [i.message_id for i in profiles.validate_bytes(_obs('"valueInteger": 1.0'))] == ["PRIM_FORMAT"]


def test_messages_quote_the_value_as_written() -> None:
    issues = profiles.validate_bytes(_obs('"valueInteger": 2.50'))
    assert [i.message_id for i in issues] == ["PRIM_FORMAT"]
    assert "'2.50'" in issues[0].text_en and "'2.50'" in issues[0].text_fr


def test_validate_bytes_bad_json_is_one_fatal_issue() -> None:
    issues = profiles.validate_bytes(b'{"resourceType": "Patient", "multipleBirthInteger": 01}')
    assert [(i.severity.value, i.message_id) for i in issues] == [("fatal", "STRUCT_JSON_SYNTAX")]


def _fixed_decimal_package(tmp_path) -> str:
    # raw JSON text so that the package itself carries the literal 1.50
    sd = (b'{"resourceType": "StructureDefinition", "url": "http://example.org/StructureDefinition/obs-150",'
          b' "name": "Obs150", "status": "draft", "kind": "resource", "abstract": false, "type": "Observation",'
          b' "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Observation", "derivation": "constraint",'
          b' "differential": {"element": [{"id": "Observation", "path": "Observation"},'
          b' {"id": "Observation.value[x]:valueQuantity.value", "path": "Observation.value[x].value",'
          b' "fixedDecimal": 1.50}]}}')
    p = tmp_path / "pkg.tgz"
    with tarfile.open(p, "w:gz") as tar:
        for name, raw in (("package/package.json", b'{"name": "x", "version": "1.0.0"}'),
                          ("package/StructureDefinition-obs-150.json", sd)):
            info = tarfile.TarInfo(name)
            info.size = len(raw)
            tar.addfile(info, io.BytesIO(raw))
    return str(p)


@pytest.mark.parametrize(("written", "ok"), [("1.50", True), ("1.500", False), ("1.5", False), ("0.150e1", True)])
def test_fixed_decimal_compares_precision_from_bytes(tmp_path, written: str, ok: bool) -> None:
    reg = build_registry([_fixed_decimal_package(tmp_path)])
    raw = _obs(f'"valueQuantity": {{"value": {written}}}')
    issues = profiles.validate_bytes(raw, "http://example.org/StructureDefinition/obs-150", registry=reg)
    fixed = [i for i in issues if i.message_id == "PROF_FIXED_VALUE"]
    assert (fixed == []) is ok
    if not ok:
        assert fixed[0].text_en == f"Value {written} differs from the fixed value 1.50"


def test_fixed_decimal_dict_path_compares_values(tmp_path) -> None:
    reg = build_registry([_fixed_decimal_package(tmp_path)])
    res = json.loads(_obs('"valueQuantity": {"value": 1.5}'))
    issues = profiles.validate(res, "http://example.org/StructureDefinition/obs-150", registry=reg)
    assert [i.message_id for i in issues if i.severity.value == "error"] == []


def test_cli_reads_decimals_as_written(tmp_path) -> None:
    import typer

    from profiles.cli import register

    app = typer.Typer()
    register(app)
    app.command("noop")(lambda: None)
    f = tmp_path / "obs.json"
    f.write_bytes(_obs('"valueInteger": 1.0'))
    r = CliRunner().invoke(app, ["validate", str(f), "--format", "json", "--lang", "en"])
    assert r.exit_code == 1
    assert [i["message_id"] for i in json.loads(r.output)[0]["issues"]] == ["PRIM_FORMAT"]


def test_http_reads_decimals_as_written() -> None:
    app = FastAPI()
    app.include_router(build_router(None))
    with TestClient(app) as c:
        r = c.post("/profiles/fhir/$validate?_lang=en", content=_obs('"valueInteger": 1.0'))
        r2 = c.post("/profiles/fhir/Observation/$validate", content=_obs('"valueQuantity": {"value": 1.50}'))
    assert r.status_code == 200
    assert [i["details"]["coding"][0]["code"] for i in r.json()["issue"]] == ["PRIM_FORMAT"]
    assert "'1.0'" in r.json()["issue"][0]["details"]["text"]
    assert r2.status_code == 200 and r2.json()["issue"][0]["severity"] == "information"


def test_literal_reported_with_the_same_words_as_a_float() -> None:
    raw = b'{"resourceType": "Patient", "maritalStatus": 1.50}'
    from_bytes = [(i.expression, i.message_id, i.text_en) for i in profiles.validate_bytes(raw)]
    from_dict = [(i.expression, i.message_id, i.text_en) for i in profiles.validate(json.loads(raw))]
    assert from_bytes == from_dict
    assert any(m == "STRUCT_OBJECT_EXPECTED" and "float" in t for _e, m, t in from_bytes)
