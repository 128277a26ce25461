"""``mes-sandbox validate``: validate FHIR JSON files (DESIGN "Public surface").

Exit codes: 0 no error, 1 at least one error or fatal issue, 2 usage problem (unreadable file,
package or policy). Output formats: ``text`` (one line per issue), ``json`` (issues as objects),
``outcome`` (one OperationOutcome per file).
"""

from __future__ import annotations

import json
from enum import IntEnum, StrEnum
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer

from profiles.api import validate_bytes_with_suppressed
from profiles.issues import Issue, Severity, suppression_summary, to_operation_outcome, validate_policy
from profiles.registry import PackageError, build_registry


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


def run(files: list[Path], profile: str | None, packages: list[Path], fmt: Format, lang: Lang,
        policy_file: Path | None) -> tuple[int, str]:
    """The command's logic, returning (exit code, output) — testable without a terminal."""
    try:
        registry = build_registry(list(packages))
    except PackageError as exc:
        return ExitCode.USAGE, f"package: {exc}"
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


def register(app: typer.Typer) -> None:
    """Add the ``validate`` command to the ``mes-sandbox`` typer app."""

    @app.command("validate")
    def validate_cmd(
        files: Annotated[list[Path], typer.Argument(help="FHIR JSON files (resources or Bundles)")],
        profile: Annotated[str | None, typer.Option("--profile", help="canonical URL of a profile")] = None,
        package: Annotated[list[Path] | None, typer.Option("--package", help="FHIR package .tgz to load")] = None,
        fmt: Annotated[Format, typer.Option("--format", help="text, json or outcome")] = Format.TEXT,
        lang: Annotated[Lang, typer.Option("--lang", help="language of the messages")] = Lang.FR,
        policy: Annotated[Path | None, typer.Option(
            "--policy", help="JSON policy: message id -> severity|suppress")] = None,
    ) -> None:
        """Validate FHIR R4 resources against the base spec and the French profiles."""
        code, output = run(files, profile, package or [], fmt, lang, policy)
        if output:
            typer.echo(output, err=code == ExitCode.USAGE)
        raise typer.Exit(int(code))
