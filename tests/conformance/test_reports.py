"""Reports from a real run: canonical JSON against its JSON Schema, JUnit against a JUnit XSD,
SARIF 2.1.0, HTML in French and English, and offline verification that names what was altered."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from lxml import etree
from runner_kit import Runner

from conformance import signing
from conformance.canonical import canonical_bytes
from conformance.verify import verify_report

HERE = Path(__file__).parent
SCHEMA = json.loads((Path(__file__).parents[2] / "conformance" / "schemas" / "report.schema.json").read_text())


@pytest.fixture(scope="module")
def finished(csb) -> dict[str, Any]:
    ws = f"r-{uuid.uuid4().hex[:8]}"
    with csb.client() as c:
        c.post("/sandbox/api/workspaces", json={"name": ws}).raise_for_status()
    runner = Runner(csb, ws)
    run = runner.run(vendor=runner.vendor(stubborn=True))
    base = f"/conformance/api/runs/{run['id']}"
    out = {"run": run, "signed": runner.get(f"{base}/report.json").content,
           "key": signing.import_public(runner.get("/conformance/api/signing-key").json())}
    for fmt in ("html", "junit.xml", "sarif"):
        out[fmt] = runner.get(f"{base}/report.{fmt}").content
    out["html_en"] = runner.get(f"{base}/report.html", params={"lang": "en"}).content
    out["evidence"] = {}
    report = json.loads(out["signed"])["report"]
    with csb.client() as c:
        for t in report["tests"]:
            for ex in t["exchanges"]:
                for which in ("request", "response"):
                    body = ex[f"{which}_body"]
                    if body:
                        out["evidence"][body["sha256"]] = c.get(
                            f"/sandbox/api/exchanges/{ex['id']}/{which}-body").content
    return out


def test_the_file_is_canonical_and_matches_its_schema(finished) -> None:
    doc = json.loads(finished["signed"])
    assert canonical_bytes(doc) == finished["signed"]
    jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker()).validate(doc)
    report = doc["report"]
    assert report["verdict"] == "fail" and report["totals"]["fail"] == 1 and report["totals"]["pass"] == 2
    assert set(report["versions"]) >= {"sandbox", "profiles", "terminology", "suite", "requirements"}
    reqs = {r["id"]: r for r in report["requirements"]}
    assert reqs["INS.INSI/04"]["outcome"] == "fail" and reqs["INS.INSI/04"]["tests"] == ["example.insi.02"]
    assert reqs["INS.INSI/01"]["outcome"] == "pass"
    assert reqs["INS.INSI/06"]["coverage"] == "not-tested" and reqs["PSC.OIDC/02"]["coverage"] == "gap"
    assert all(len(b["excerpt"]) <= 2048 for t in report["tests"] for e in t["exchanges"]
               for b in (e["request_body"], e["response_body"]) if b)
    assert set(report["evidence"]) == set(finished["evidence"])


def test_junit_is_valid_against_the_xsd(finished) -> None:
    schema = etree.XMLSchema(etree.parse(str(HERE / "junit.xsd")))
    doc = etree.fromstring(finished["junit.xml"])
    schema.assertValid(doc)
    failures = doc.findall(".//testcase/failure")
    assert len(failures) == 1 and failures[0].get("message").startswith("[example.insi.same-request]")
    assert doc.get("failures") == "1" and doc.get("tests") == "3"


def test_sarif_lists_the_findings(finished) -> None:
    sarif = json.loads(finished["sarif"])
    jsonschema.Draft202012Validator(json.loads((HERE / "sarif_subset.schema.json").read_text())).validate(sarif)
    [result] = sarif["runs"][0]["results"]
    assert result["ruleId"] == "example.insi.same-request" and result["level"] == "error"
    names = [loc["fullyQualifiedName"] for loc in result["locations"][0]["logicalLocations"]]
    assert names == ["example.insi.02", "example.insi.02/Body/RECSANSVITALE"]


def test_html_is_french_by_default_and_english_on_request(finished) -> None:
    fr, en = finished["html"].decode(), finished["html_en"].decode()
    assert '<html lang="fr">' in fr and "Rapport de conformité" in fr and "échec" in fr
    assert "Affinez la recherche" in fr and "INS.INSI/04" in fr and "RECSANSVITALE" in fr
    assert '<html lang="en">' in en and "Conformance report" in en and "Refine the search" in en
    assert "<script" not in fr  # excerpts are escaped, never markup


def test_a_signed_report_verifies_with_its_evidence(finished, tmp_path) -> None:
    for sha, data in finished["evidence"].items():
        (tmp_path / sha).write_bytes(data)
    v = verify_report(finished["signed"], finished["key"], tmp_path)
    assert v.ok, v.problems
    assert v.evidence_checked == len(finished["evidence"]) > 0


def test_every_one_byte_edit_is_caught(finished) -> None:
    data = finished["signed"]
    key = finished["key"]
    sig_start = data.index(b'"signature":')
    # every byte of the signature member (JWS, kid, manifest), and ~120 positions of the report
    # with two edits each (the next byte value, a space)
    for pos in range(sig_start, len(data)):
        edited = data[:pos] + bytes([(data[pos] + 1) % 256]) + data[pos + 1:]
        assert not verify_report(edited, key).ok, (pos, data[pos - 60:pos + 20])
    for pos in range(0, sig_start, max(1, sig_start // 120)):
        for new in {(data[pos] + 1) % 256, ord(" ")} - {data[pos]}:
            edited = data[:pos] + bytes([new]) + data[pos + 1:]
            assert not verify_report(edited, key).ok, (pos, data[pos - 60:pos + 20], new)
    inserted = data[:10] + b" " + data[10:]
    assert [p.id for p in verify_report(inserted, key).problems] == ["verify.not-canonical"]


def _edit(data: bytes, path: list[Any], value: Any) -> bytes:
    doc = json.loads(data)
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return canonical_bytes(doc)


def test_verify_names_exactly_what_was_altered(finished) -> None:
    data, key = finished["signed"], finished["key"]
    doc = json.loads(data)
    i = next(n for n, t in enumerate(doc["report"]["tests"]) if t["id"] == "example.insi.02")
    forged = _edit(data, ["report", "tests", i, "outcome"], "pass")
    problems = verify_report(forged, key).problems
    assert [(p.id, p.where) for p in problems] == [("verify.part-altered", "tests/example.insi.02")]
    assert "tests/example.insi.02" in problems[0].text.fr
    verdict = verify_report(_edit(data, ["report", "verdict"], "pass"), key).problems
    assert [(p.id, p.where) for p in verdict] == [("verify.part-altered", "verdict")]
    manifest_edit = _edit(data, ["signature", "manifest", "report_sha256"], "0" * 64)
    assert [p.id for p in verify_report(manifest_edit, key).problems] == ["verify.bad-signature",
                                                                          "verify.part-altered"]


def test_a_report_signed_by_another_key_is_refused(finished, tmp_path) -> None:
    doc = json.loads(finished["signed"])
    other = signing.generate()
    from conformance.report import seal

    resigned = seal(doc["report"], other)
    assert verify_report(resigned, other).ok  # valid for whoever trusts that key
    problems = verify_report(resigned, finished["key"]).problems
    assert [p.id for p in problems] == ["verify.other-key"]
    assert other.thumbprint() in problems[0].text.en
    # the other key claiming our kid: the signature itself fails
    doc2 = json.loads(resigned)
    doc2["signature"]["kid"] = finished["key"].thumbprint()
    head = json.loads(signing.urlsafe_b64decode(doc2["signature"]["jws"].split(".")[0].encode()))
    head["kid"] = finished["key"].thumbprint()
    forged_head = signing.urlsafe_b64encode(json.dumps(head).encode()).decode()
    doc2["signature"]["jws"] = forged_head + ".." + doc2["signature"]["jws"].split("..")[1]
    assert [p.id for p in verify_report(canonical_bytes(doc2), finished["key"]).problems] == ["verify.bad-signature"]


def test_a_truncated_or_garbled_file_is_named(finished) -> None:
    data, key = finished["signed"], finished["key"]
    cut = verify_report(data[: len(data) // 2], key).problems
    assert [p.id for p in cut] == ["verify.truncated"] and str(len(data) // 2) in cut[0].where
    assert [p.id for p in verify_report(b"", key).problems] == ["verify.truncated"]
    assert [p.id for p in verify_report(b"\xff\xfe", key).problems] == ["verify.not-utf8"]
    assert [p.id for p in verify_report(b'{"a": 1}', key).problems] == ["verify.not-a-report"]
    assert [p.id for p in verify_report(b"{]", key).problems] == ["verify.not-json"]
    assert [p.id for p in verify_report(data, None).problems] == ["verify.no-trusted-key"]


def test_an_altered_evidence_body_is_named(finished, tmp_path) -> None:
    shas = sorted(finished["evidence"])
    for sha in shas:
        (tmp_path / sha).write_bytes(finished["evidence"][sha])
    (tmp_path / shas[0]).write_bytes(finished["evidence"][shas[0]] + b" ")
    (tmp_path / shas[1]).unlink()
    problems = verify_report(finished["signed"], finished["key"], tmp_path).problems
    assert {(p.id, p.where) for p in problems} == {("verify.evidence-altered", f"evidence/{shas[0]}"),
                                                   ("verify.evidence-missing", f"evidence/{shas[1]}")}
