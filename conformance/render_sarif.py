"""SARIF 2.1.0 from the canonical report: one result per finding of a failed or crashed test
(rule = the finding's stable message id), located logically at the test and, when the finding
names one, at its FHIRPath/element location. Render only: nothing is re-judged here."""

from __future__ import annotations

from typing import Any

import orjson

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {"fail": "error", "error": "error", "info": "note"}


def _text(d: dict[str, str], lang: str) -> str:
    return d.get(lang) or d.get("fr", "")


def render_sarif(report: dict[str, Any], lang: str = "fr") -> bytes:
    rules: dict[str, dict[str, Any]] = {}
    results = []
    for t in report["tests"]:
        for f in t["findings"]:
            if f["level"] == "info" and t["outcome"] not in ("fail", "error"):
                continue
            rule = rules.setdefault(f["id"], {"id": f["id"], "shortDescription": {"text": _text(f["text"], lang)}})
            if f.get("hint"):
                rule.setdefault("help", {"text": _text(f["hint"], lang)})
            locations = [{"kind": "member", "fullyQualifiedName": t["id"], "name": t["id"].rsplit(".", 1)[-1]}]
            if f.get("at"):
                locations.append({"kind": "element", "fullyQualifiedName": f"{t['id']}/{f['at']}", "name": f["at"]})
            results.append({
                "ruleId": f["id"],
                "level": _LEVEL.get(f["level"], "warning"),
                "message": {"text": _text(f["text"], lang)},
                "locations": [{"logicalLocations": locations}],
                "properties": {"test": t["id"], "outcome": t["outcome"], "verifies": t["verifies"],
                               "exchanges": f.get("exchanges", [])},
            })
    ordered = [rules[k] for k in sorted(rules)]
    index = {r["id"]: i for i, r in enumerate(ordered)}
    for r in results:
        r["ruleIndex"] = index[r["ruleId"]]
    doc = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "mes-sandbox conformance", "version": report["versions"].get("sandbox", ""),
                                "informationUri": "https://mes-sandbox.invalid/conformance", "rules": ordered}},
            "automationDetails": {"id": f"{report['suite']['id']}/{report['run']['id']}"},
            "results": results,
            "properties": {"verdict": report["verdict"], "suite": report["suite"]["id"],
                           "suiteVersion": report["suite"]["version"]},
        }],
    }
    return orjson.dumps(doc, option=orjson.OPT_INDENT_2)
