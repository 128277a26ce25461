"""The canonical report: built once from a run's results, the one place verdicts are computed
(per test, per group, per requirement, for the run); HTML, JUnit and SARIF only render it (STYLE
§16). Then sealed: the signed file is the RFC 8785 form of ``{"report": …, "signature": …}``.

What is signed. The signature (detached JWS, :mod:`conformance.signing`) covers the canonical bytes
of a *manifest*: the SHA-256 of the canonical form of the whole report and of each of its parts
(``run``, ``versions``, ``requirements``, each test result ``tests/<id>``…). The whole-report digest
binds every byte of the report; the part digests let ``verify`` name exactly which part was altered.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from joserfc.jwk import OKPKey

from conformance.canonical import canonical_bytes
from conformance.catalogue import Catalogue
from conformance.model import Suite
from conformance.outcome import Outcome, roll_up, roll_up_results
from conformance.results import TestResult
from conformance.signing import ALG, sign_detached

REPORT_FORMAT = "mes-sandbox/conformance-report/1"


@dataclass(frozen=True)
class RunFacts:
    """What the report says about the run besides its results."""

    id: str
    workspace: str
    lang: str
    state: str
    created_at: str
    finished_at: str
    inputs: dict[str, Any]
    selected: list[str]
    rerun_of: str | None
    carried: list[str]
    versions: dict[str, str]
    workspace_options: dict[str, Any]


def _counts(outcomes: list[Outcome]) -> dict[str, int]:
    return {str(o): sum(1 for x in outcomes if x is o) for o in Outcome}


def build_report(facts: RunFacts, suite: Suite, results: list[TestResult], catalogue: Catalogue) -> dict[str, Any]:
    """The report as plain data (every verdict computed here, once)."""
    by_id = {r.test_id: r for r in results}
    groups = []
    for g in suite.groups:
        ids = [f"{suite.id}.{g.id}.{t.id}" for t in g.tests]
        ran = [by_id[i] for i in ids if i in by_id]
        if not ran:
            continue
        groups.append({"id": f"{suite.id}.{g.id}", "title": g.title.to_dict(),
                       "outcome": str(roll_up_results((r.outcome, r.optional) for r in ran)),
                       "tests": [r.test_id for r in ran]})
    verdict = roll_up_results((r.outcome, r.optional) for r in results)

    verifying: dict[str, list[TestResult]] = {}
    for r in results:
        for rid in r.verifies:
            verifying.setdefault(rid, []).append(r)
    scope = {req.id: req for req in catalogue.in_scope(suite)}
    for rid in verifying:
        req = catalogue.get(rid)
        if req is not None:
            scope.setdefault(rid, req)
    requirements = []
    for rid in sorted(scope):
        req = scope[rid]
        tests = verifying.get(rid, [])
        requirements.append({
            **req.to_dict(),
            "tests": [t.test_id for t in tests],
            "outcome": str(roll_up(t.outcome for t in tests)) if tests else None,
            "coverage": "tested" if tests else ("not-tested" if req.not_tested else "gap"),
        })

    evidence: dict[str, dict[str, Any]] = {}
    for r in results:
        for ex in r.exchanges:
            for body in (ex.request, ex.response):
                if body is not None:
                    evidence[body.sha256] = {"size": body.size, "content_type": body.content_type,
                                             "cut_in_store": body.cut_in_store}
    return {
        "format": REPORT_FORMAT,
        "run": {"id": facts.id, "workspace": facts.workspace, "lang": facts.lang, "state": facts.state,
                "created_at": facts.created_at, "finished_at": facts.finished_at, "inputs": facts.inputs,
                "selected": facts.selected, "rerun_of": facts.rerun_of, "carried": facts.carried},
        "suite": {"id": suite.id, "version": suite.version, "title": suite.title.to_dict(),
                  "description": suite.description.to_dict(), "scope": list(suite.scope)},
        "versions": facts.versions,
        "workspace_options": facts.workspace_options,
        "verdict": str(verdict),
        "totals": _counts([r.outcome for r in results]),
        "groups": groups,
        "requirements": requirements,
        "tests": [r.to_dict() for r in results],
        "evidence": dict(sorted(evidence.items())),
    }


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def manifest(report: dict[str, Any]) -> dict[str, Any]:
    """The digests the signature covers (see the module docstring)."""
    parts = {key: sha256_hex(canonical_bytes(value)) for key, value in report.items() if key != "tests"}
    for t in report.get("tests", []):
        parts[f"tests/{t.get('id', '?')}"] = sha256_hex(canonical_bytes(t))
    return {"report_sha256": sha256_hex(canonical_bytes(report)), "parts": parts}


def seal(report: dict[str, Any], key: OKPKey) -> bytes:
    """The signed report file: canonical bytes of the report and its signature."""
    m = manifest(report)
    signature = {"alg": ALG, "kid": key.thumbprint(), "manifest": m,
                 "jws": sign_detached(canonical_bytes(m), key)}
    return canonical_bytes({"report": report, "signature": signature})
