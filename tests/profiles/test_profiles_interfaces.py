"""CLI (exit codes 0/1/2, formats), HTTP $validate and the service registration."""

from __future__ import annotations

import io
import json
import tarfile

import typer
from fastapi import FastAPI
from fastapi.testclient import TestClient
from profiles_testutil import EXAMPLES, FIXTURES
from typer.testing import CliRunner

from profiles.cli import register
from profiles.http import build_router
from profiles.service import service

FX = FIXTURES / "cr-bio-transaction.json"
BAD_NIR = EXAMPLES / "pdsm4dmp" / "DocumentReference-doc-x-id.json"


def _app() -> typer.Typer:
    app = typer.Typer()
    register(app)

    @app.command("noop")
    def noop() -> None:  # a second command keeps typer in multi-command mode
        """Placeholder."""

    return app


def _run(*args: str):
    return CliRunner().invoke(_app(), ["validate", *args])


def test_cli_valid_file_exit_0() -> None:
    r = _run(str(FX))
    assert r.exit_code == 0
    assert "OK" in r.output


def test_cli_errors_exit_1_french_by_default() -> None:
    r = _run(str(BAD_NIR))
    assert r.exit_code == 1
    assert "Clé NIR invalide" in r.output


def test_cli_english_json_format() -> None:
    r = _run(str(BAD_NIR), "--format", "json", "--lang", "en")
    assert r.exit_code == 1
    data = json.loads(r.output)
    assert any(i["message_id"] == "FR_NIR_KEY" and "Invalid NIR key" in i["text"] for i in data[0]["issues"])


def test_cli_outcome_format() -> None:
    r = _run(str(FX), "--format", "outcome")
    assert r.exit_code == 0
    assert json.loads(r.output)["resourceType"] == "OperationOutcome"


def test_cli_missing_file_exit_2(tmp_path) -> None:
    assert _run(str(tmp_path / "absent.json")).exit_code == 2


def test_cli_bad_option_exit_2() -> None:
    assert _run(str(FX), "--format", "xml").exit_code == 2


def test_cli_bad_json_exit_1(tmp_path) -> None:
    f = tmp_path / "bad.json"
    f.write_text("{not json")
    r = _run(str(f))
    assert r.exit_code == 1
    assert "STRUCT_JSON_SYNTAX" in r.output


def test_cli_policy_suppresses_and_lists(tmp_path) -> None:
    pol = tmp_path / "policy.json"
    pol.write_text(json.dumps({"FR_NIR_KEY": "suppress", "INV_FAILED:dom-6": "information"}))
    r = _run(str(BAD_NIR), "--policy", str(pol))
    assert r.exit_code == 0
    assert "suppressed by policy: FR_NIR_KEY" in r.output


def test_cli_bad_policy_exit_2(tmp_path) -> None:
    pol = tmp_path / "policy.json"
    pol.write_text(json.dumps({"NO_SUCH_ID": "suppress"}))
    assert _run(str(FX), "--policy", str(pol)).exit_code == 2


def test_cli_explicit_profile(tmp_path) -> None:
    f = tmp_path / "p.json"
    f.write_text(json.dumps({"resourceType": "Patient", "gender": "female"}))
    r = _run(str(f), "--profile", "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-patient-ins")
    assert r.exit_code == 1
    assert "SLICE_MIN" in r.output


def _package(tmp_path) -> str:
    sd = {
        "resourceType": "StructureDefinition", "url": "http://example.org/StructureDefinition/pat-name",
        "name": "PatName", "status": "draft", "kind": "resource", "abstract": False, "type": "Patient",
        "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Patient", "derivation": "constraint",
        "snapshot": {"element": [
            {"id": "Patient", "path": "Patient", "min": 0, "max": "*", "base": {"path": "Patient", "min": 0, "max": "*"}},  # noqa: E501
            {"id": "Patient.name", "path": "Patient.name", "min": 1, "max": "*",
             "base": {"path": "Patient.name", "min": 0, "max": "*"}, "type": [{"code": "HumanName"}]},
        ]},
    }
    p = tmp_path / "pkg.tgz"
    with tarfile.open(p, "w:gz") as tar:
        for name, obj in (("package/package.json", {"name": "x", "version": "1.0.0"}),
                          ("package/StructureDefinition-pat-name.json", sd)):
            raw = json.dumps(obj).encode()
            info = tarfile.TarInfo(name)
            info.size = len(raw)
            tar.addfile(info, io.BytesIO(raw))
    return str(p)


def test_cli_package_snapshot_profile(tmp_path) -> None:
    f = tmp_path / "p.json"
    f.write_text(json.dumps({"resourceType": "Patient", "gender": "female",
                             "meta": {"profile": ["http://example.org/StructureDefinition/pat-name"]}}))
    r = _run(str(f), "--package", _package(tmp_path), "--format", "json", "--lang", "en")
    assert r.exit_code == 1
    issues = json.loads(r.output)[0]["issues"]
    assert any(i["message_id"] == "CARD_MIN" and "'name'" in i["text"] for i in issues)


def test_cli_bad_package_exit_2(tmp_path) -> None:
    bad = tmp_path / "bad.tgz"
    bad.write_bytes(b"nope")
    assert _run(str(FX), "--package", str(bad)).exit_code == 2


def _client() -> TestClient:
    app = FastAPI()
    app.include_router(build_router(None))
    return TestClient(app)


def test_http_validate_resource() -> None:
    r = _client().post("/profiles/fhir/$validate", content=FX.read_bytes())
    assert r.status_code == 200
    oo = r.json()
    assert oo["resourceType"] == "OperationOutcome"
    assert oo["issue"][0]["severity"] == "information"


def test_http_validate_parameters_with_profile() -> None:
    body = {"resourceType": "Parameters", "parameter": [
        {"name": "resource", "resource": {"resourceType": "Patient", "gender": "female"}},
        {"name": "profile", "valueCanonical": "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-patient-ins"}]}
    r = _client().post("/profiles/fhir/$validate?_lang=en", json=body)
    assert r.status_code == 200
    codes = {i["details"]["coding"][0]["code"] for i in r.json()["issue"]}
    assert {"CARD_MIN", "SLICE_MIN"} <= codes


def test_http_bad_json_400() -> None:
    r = _client().post("/profiles/fhir/$validate", content=b"{oops")
    assert r.status_code == 400
    assert r.json()["resourceType"] == "OperationOutcome"
    assert r.headers["content-type"].startswith("application/fhir+json")


def test_service_declaration() -> None:
    assert service.name == "profiles"
    assert service.fhir_bases == ("/profiles/fhir",)
    from sandbox.services import discover_commands  # the validate command is registered lazily

    assert {c.name: c.target for c in discover_commands()}["validate"] == "profiles.cli:register"
    routers = service.routers(None)
    assert any("/profiles/fhir/$validate" in r.path for r in routers[0].routes)


def test_core_does_not_import_fastapi() -> None:
    import subprocess
    import sys

    code = "import sys, profiles; profiles.validate({'resourceType': 'Patient'}); print('fastapi' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_cli_outcome_lists_suppressions(tmp_path) -> None:
    pol = tmp_path / "policy.json"
    pol.write_text(json.dumps({"FR_NIR_KEY": "suppress"}))
    r = _run(str(BAD_NIR), "--policy", str(pol), "--format", "outcome", "--lang", "en")
    oo = json.loads(r.output)
    notes = [i for i in oo["issue"] if i["details"].get("coding", [{}])[0].get("code") == "POLICY_SUPPRESSED"]
    assert len(notes) == 1
    assert notes[0]["severity"] == "information"
    assert notes[0]["details"]["text"].endswith("issue(s) 'FR_NIR_KEY' suppressed by the workspace policy")


def test_policy_from_workspace_options() -> None:
    from profiles.issues import policy_from_options

    assert policy_from_options({}) == ({}, [])
    assert policy_from_options({"profiles": {"policy": {"FR_NIR_KEY": "warning"}}}) == ({"FR_NIR_KEY": "warning"}, [])
    policy, problems = policy_from_options({"profiles": {"policy": {"FR_NIR_KEY": 3, "X": "suppress"}}})
    assert policy == {}
    assert [p.message_id for p in problems] == ["POLICY_INVALID", "POLICY_INVALID"]
    policy, problems = policy_from_options({"profiles": {"policy": ["FR_NIR_KEY"]}})
    assert policy == {} and "not an object" in problems[0].text_en


def test_suppression_summary_counts_per_policy_entry() -> None:
    from profiles import apply_policy, validate
    from profiles.issues import suppression_summary

    res = {"resourceType": "Patient", "gender": "M", "foo": 1, "bar": 2}
    policy = {"STRUCT_UNKNOWN_ELEMENT": "suppress", "INV_FAILED:dom-6": "suppress"}
    _kept, suppressed = apply_policy(validate(res), policy)
    notes = suppression_summary(suppressed, policy)
    assert [n.text_en for n in notes] == [
        "1 issue(s) 'INV_FAILED:dom-6' suppressed by the workspace policy",
        "2 issue(s) 'STRUCT_UNKNOWN_ELEMENT' suppressed by the workspace policy",
    ]
