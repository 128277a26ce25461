"""Problem answers of the sandbox's own APIs (/sandbox/api, /mss/api, /conformance/api) speak the
user's language: French by default, English with ``Accept-Language: en``, said in
``Content-Language``; the command line asks for its own language (``MES_SANDBOX_LANGUAGE``)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from sandbox import problem_texts
from sandbox.user_language import Text, negotiate

ROOT = Path(__file__).resolve().parents[2]
RAISE = re.compile(r"ProblemError\(\s*\d+,\s*f?\"([^\"]+)\",\s*(\w*)", re.S)
EN = {"Accept-Language": "en-GB,en;q=0.9"}


def test_negotiation() -> None:
    assert negotiate("", "fr") == "fr" and negotiate("", "en") == "en"
    assert negotiate("en-US,en;q=0.9,fr;q=0.8", "fr") == "en"
    assert negotiate("de-DE, fr;q=0.5, en;q=0.4", "en") == "fr"
    assert negotiate("en;q=0, fr-CA", "en") == "fr"
    assert negotiate("de, it;q=0.5", "fr") == "fr"
    assert negotiate("en;q=abc", "fr") == "fr"


def test_text_carries_both_languages() -> None:
    t = Text("aucun espace {n!r}", "no workspace {n!r}", n="x")
    assert str(t) == "aucun espace 'x'" and t.in_language("en") == "no workspace 'x'"


def test_every_problem_kind_raised_has_both_languages() -> None:
    """A raise site gives a Text, or its kind is in the catalogue (sandbox/problem_texts.py)."""
    missing = []
    for pkg in ("sandbox", "psc", "ins", "dmp", "mss", "conformance"):
        for path in sorted((ROOT / pkg).rglob("*.py")):
            source = path.read_text(encoding="utf-8")
            for kind, first in RAISE.findall(source):
                if first == "Text" or "{" in kind:
                    continue
                if kind not in problem_texts.BY_KIND:
                    missing.append(f"{path.relative_to(ROOT)}: {kind}")
    assert {"unknown-mailbox", "unknown-message", "unknown-suite", "unknown-test"} <= set(problem_texts.BY_KIND)
    assert missing == []
    for kind, (fr, en) in problem_texts.BY_KIND.items():
        assert fr or en, kind


def _detail(r) -> str:  # noqa: ANN001
    assert r.headers["content-type"].startswith("application/problem+json"), r.text
    return r.json()["detail"]


def test_sandbox_api_answers_in_french_by_default_and_english_on_request(sandbox) -> None:
    with sandbox.client(key=None) as anon:
        fr, en = anon.get("/sandbox/api/workspaces"), anon.get("/sandbox/api/workspaces", headers=EN)
    assert fr.status_code == en.status_code == 401
    assert "demande" in _detail(fr) and fr.headers["content-language"] == "fr"
    assert "needs" in _detail(en) and en.headers["content-language"] == "en"
    with sandbox.client() as c:
        cases = [("GET", "/sandbox/api/workspaces/nowhere-x", None, "aucun espace de travail", "no workspace"),
                 ("GET", "/sandbox/api/exchanges?colour=red", None, "filtre(s) inconnu(s)", "unknown filter"),
                 ("GET", "/sandbox/api/no-such-thing", None, "point d'accès inconnu", "no such endpoint"),
                 ("POST", "/sandbox/api/workspaces", {"name": "Bad Name!"}, "un nom d'espace", "a workspace name"),
                 ("POST", "/sandbox/api/workspaces", {}, "champ obligatoire", "Field required"),
                 ("POST", "/sandbox/api/workspaces/default/faults", {"service": "nope", "kind": "x"},
                  "n'accepte pas", "supports no fault"),
                 ("GET", "/mss/api/mailboxes/nobody@nowhere.invalid", None, "BAL", "no mailbox"),
                 ("GET", "/conformance/api/suites/no-such-suite", None, "suite inconnue", "unknown suite")]
        for method, path, body, french, english in cases:
            fr = c.request(method, path, json=body)
            en = c.request(method, path, json=body, headers=EN)
            assert fr.status_code == en.status_code and fr.status_code >= 400, (path, fr.text)
            assert french in _detail(fr), (path, fr.text)
            assert english in _detail(en), (path, en.text)
            assert " / " not in _detail(fr), path  # one language per answer, not both glued together


def test_operator_can_make_english_the_default() -> None:
    from sandbox.testing import running_sandbox

    with running_sandbox(language="en") as sb, sb.client(key=None) as anon:
        assert "needs" in _detail(anon.get("/sandbox/api/workspaces"))
        assert "demande" in _detail(anon.get("/sandbox/api/workspaces", headers={"Accept-Language": "fr"}))


@pytest.mark.parametrize(("language", "expected"), [("fr", "aucun échange"), ("en", "no exchange")])
def test_cli_shows_the_server_text_in_its_language(sandbox, language, expected) -> None:
    p = subprocess.run([sys.executable, "-c", "from sandbox.cli import main; main()", "exchanges", "show",
                        "no-such-id", "--url", sandbox.base_url],
                       env={**os.environ, "MES_SANDBOX_OPERATOR_KEY": sandbox.operator_key,
                            "MES_SANDBOX_LANGUAGE": language},
                       capture_output=True, text=True, timeout=120)
    assert p.returncode != 0 and expected in p.stderr, p.stderr
