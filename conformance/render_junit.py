"""JUnit XML from the canonical report (STYLE §16: render, never re-judge). One ``testsuite``
per group, one ``testcase`` per test; ``fail`` → ``<failure>``, ``error`` → ``<error>``,
``skip``/``omit``/``cancel``/``wait`` → ``<skipped>`` with the outcome in its message. The shape
is the one CI servers read (Jenkins/GitLab/Ant); tests validate it against a JUnit XSD."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring


def _seconds(test: dict[str, Any]) -> str:
    try:
        start = datetime.fromisoformat(test["started_at"])
        end = datetime.fromisoformat(test["ended_at"])
        return f"{max((end - start).total_seconds(), 0):.3f}"
    except (KeyError, ValueError):
        return "0.000"


def _text(d: dict[str, str], lang: str) -> str:
    return d.get(lang) or d.get("fr", "")


def render_junit(report: dict[str, Any], lang: str = "fr") -> bytes:
    tests = {t["id"]: t for t in report["tests"]}
    root = Element("testsuites", name=f"{report['suite']['id']} {report['suite']['version']}",
                   tests=str(len(tests)))
    totals = {"failures": 0, "errors": 0, "skipped": 0}
    for g in report["groups"]:
        members = [tests[i] for i in g["tests"] if i in tests]
        counts = {"failures": sum(t["outcome"] == "fail" for t in members),
                  "errors": sum(t["outcome"] == "error" for t in members),
                  "skipped": sum(t["outcome"] in ("skip", "omit", "cancel", "wait") for t in members)}
        for k, v in counts.items():
            totals[k] += v
        suite_el = SubElement(root, "testsuite", name=g["id"], tests=str(len(members)),
                              failures=str(counts["failures"]), errors=str(counts["errors"]),
                              skipped=str(counts["skipped"]), timestamp=report["run"]["created_at"][:19],
                              time=f"{sum(float(_seconds(t)) for t in members):.3f}")
        props = SubElement(suite_el, "properties")
        SubElement(props, "property", name="run", value=report["run"]["id"])
        SubElement(props, "property", name="workspace", value=report["run"]["workspace"])
        for t in members:
            case = SubElement(suite_el, "testcase", name=f"{t['id']} {_text(t['title'], lang)}",
                              classname=g["id"], time=_seconds(t))
            lines = [f"[{f['id']}] {_text(f['text'], lang)}" + (f" @ {f['at']}" if f.get("at") else "")
                     + (f" — {_text(f['hint'], lang)}" if f.get("hint") else "") for f in t["findings"]]
            body = "\n".join(lines)
            first = lines[0] if lines else t["outcome"]
            if t["outcome"] == "fail":
                SubElement(case, "failure", message=first[:500], type="fail").text = body
            elif t["outcome"] == "error":
                SubElement(case, "error", message=first[:500], type="error").text = body
            elif t["outcome"] in ("skip", "omit", "cancel", "wait"):
                SubElement(case, "skipped", message=f"{t['outcome']}: {first}"[:500])
            if t["verifies"]:
                SubElement(case, "system-out").text = "verifies: " + ", ".join(t["verifies"])
    for k, v in totals.items():
        root.set(k, str(v))
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(root, encoding="utf-8")
