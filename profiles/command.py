"""The ``validate`` command's logic, without any CLI framework (DESIGN "Public surface").

Shared by ``mes-sandbox validate`` (typer, :mod:`profiles.cli`) and ``python -m profiles
validate`` (stdlib argparse, :mod:`profiles.__main__`). It imports the validator and nothing of
the server stack, so the command starts fast. Many files in one call share one registry: profiles
and value sets are compiled once, on first use, and reused for every file.

Exit codes: 0 no error, 1 at least one error or fatal issue, 2 usage problem (unreadable file,
package, supporting definition or policy). Output formats: ``text`` (one line per issue),
``json`` (issues as objects), ``outcome`` (one OperationOutcome per file).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from enum import IntEnum, StrEnum
from pathlib import Path
from typing import Any

import orjson

from profiles.api import validate_bytes_with_suppressed
from profiles.issues import Issue, Severity, suppression_summary, to_operation_outcome, validate_policy
from profiles.registry import PackageError, Registry, build_registry


class ExitCode(IntEnum):
    OK = 0
    ERRORS = 1
    USAGE = 2


class Format(StrEnum):
    TEXT = "text"
    JSON = "json"
    OUTCOME = "outcome"


class Lang(StrEnum):
    FR = "fr"
    EN = "en"


def _issue_dict(i: Issue, lang: str) -> dict[str, str]:
    return {"severity": i.severity.value, "code": i.code.value, "expression": i.expression,
            "message_id": i.message_id, "text": i.text(lang), "hint": i.hint}


def _is_url(s: str) -> bool:
    return "://" in s or s.startswith(("urn:", "http:", "https:"))


def profile_from_file(registry: Registry, path: Path) -> str:
    """Load the StructureDefinition in ``path`` and return its canonical URL."""
    try:
        sd = json.loads(path.read_bytes())
    except OSError as exc:
        raise PackageError(f"{path}: {exc.strerror or exc}") from exc
    except ValueError as exc:
        raise PackageError(f"{path}: not JSON ({exc})") from exc
    if not isinstance(sd, dict) or sd.get("resourceType") != "StructureDefinition" or not isinstance(
            sd.get("url"), str):
        raise PackageError(f"{path}: not a StructureDefinition with a url")
    registry.load_source(path)
    return str(sd["url"])


def run(files: Sequence[Path], profile: str | None, sources: Sequence[Path], fmt: Format, lang: Lang,
        policy_file: Path | None) -> tuple[int, str]:
    """The command: (exit code, output). ``profile`` is a canonical URL or a StructureDefinition
    file; ``sources`` are FHIR packages (``.tgz``), folders or JSON files of conformance resources."""
    try:
        registry = build_registry(list(sources))
        if profile is not None and not _is_url(profile):
            profile = profile_from_file(registry, Path(profile))
    except PackageError as exc:
        return ExitCode.USAGE, f"definitions: {exc}"
    policy: dict[str, str] | None = None
    if policy_file is not None:
        try:
            policy = json.loads(policy_file.read_text("utf-8"))
        except (OSError, ValueError) as exc:
            return ExitCode.USAGE, f"policy: {exc}"
        if not isinstance(policy, dict) or (problems := validate_policy(policy)):
            return ExitCode.USAGE, "policy: " + ("; ".join(problems) if isinstance(policy, dict) else "not an object")
    out: list[str] = []
    results: list[dict[str, Any]] = []
    failed = False
    for f in files:
        try:
            raw = f.read_bytes()
        except OSError as exc:
            return ExitCode.USAGE, f"{f}: {exc.strerror or exc}"
        kept, suppressed = validate_bytes_with_suppressed(raw, profile, policy=policy, registry=registry)
        failed = failed or any(i.severity in (Severity.ERROR, Severity.FATAL) for i in kept)
        if fmt is Format.TEXT:
            for i in kept:
                out.append(f"{f}: {i.severity.value.upper()} {i.expression or '-'} [{i.message_id}] {i.text(lang)}")
            if suppressed:
                out.append(f"{f}: {len(suppressed)} suppressed by policy: "
                           + ", ".join(sorted({i.message_id for i in suppressed})))
            if not kept:
                out.append(f"{f}: OK")
        elif fmt is Format.JSON:
            results.append({"file": str(f), "issues": [_issue_dict(i, lang) for i in kept],
                            "suppressed": [_issue_dict(i, lang) for i in suppressed]})
        else:
            results.append(to_operation_outcome(kept, lang, suppression_summary(suppressed, policy or {})))
    if fmt is not Format.TEXT:
        body: Any = results[0] if fmt is Format.OUTCOME and len(results) == 1 else results
        out.append(orjson.dumps(body, option=orjson.OPT_INDENT_2).decode())
    return (ExitCode.ERRORS if failed else ExitCode.OK), "\n".join(out)
