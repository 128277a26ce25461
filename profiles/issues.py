"""Validation issues in FHIR's own vocabulary, OperationOutcome rendering and policies.

``Issue`` mirrors ``OperationOutcome.issue`` (FHIR R4 §OperationOutcome: severity from
``issue-severity``, code from ``issue-type``, expression as a FHIRPath location) plus a stable
message id and both languages (STYLE §4). Policies (per workspace) change the severity of, or
suppress, message ids; suppressions are returned so reports can list them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from profiles.messages import CATALOGUE, MsgId


class Severity(StrEnum):
    FATAL = "fatal"
    ERROR = "error"
    WARNING = "warning"
    INFORMATION = "information"


_SEV_RANK = {Severity.FATAL: 0, Severity.ERROR: 1, Severity.WARNING: 2, Severity.INFORMATION: 3}


class IssueType(StrEnum):
    """Subset of the R4 ``issue-type`` code system used here."""

    STRUCTURE = "structure"
    REQUIRED = "required"
    VALUE = "value"
    INVARIANT = "invariant"
    INVALID = "invalid"
    CODE_INVALID = "code-invalid"
    NOT_SUPPORTED = "not-supported"
    NOT_FOUND = "not-found"
    BUSINESS_RULE = "business-rule"
    INFORMATIONAL = "informational"
    DUPLICATE = "duplicate"
    EXCEPTION = "exception"
    PROCESSING = "processing"


@dataclass(frozen=True, slots=True)
class Issue:
    severity: Severity
    code: IssueType
    expression: str
    message_id: str
    text_fr: str
    text_en: str
    hint: str
    #: constraint key for invariant issues ("dom-6"), used by policies; empty otherwise
    key: str = ""

    def text(self, lang: str = "fr") -> str:
        return self.text_fr if lang == "fr" else self.text_en

    def sort_key(self) -> tuple[str, int, str, str]:
        return (self.expression, _SEV_RANK[self.severity], self.message_id, self.text_en)


def make_issue(
    severity: Severity, itype: IssueType, expression: str, msg: MsgId, inv_key: str = "", **args: object
) -> Issue:
    fr, en, hint = CATALOGUE[msg]
    return Issue(
        severity=severity,
        code=itype,
        expression=expression,
        message_id=msg.value,
        text_fr=fr.format(**args),
        text_en=en.format(**args),
        hint=hint.format(**args),
        key=inv_key,
    )


def sort_issues(issues: Iterable[Issue]) -> list[Issue]:
    """Deterministic order, duplicates removed."""
    seen: set[tuple[object, ...]] = set()
    out: list[Issue] = []
    for i in sorted(issues, key=Issue.sort_key):
        k = (i.severity, i.code, i.expression, i.message_id, i.text_en)
        if k not in seen:
            seen.add(k)
            out.append(i)
    return out


SUPPRESS = "suppress"


def apply_policy(
    issues: Iterable[Issue], policy: Mapping[str, str] | None
) -> tuple[list[Issue], list[Issue]]:
    """Apply a policy ``{message_id or "INV_FAILED:<key>": severity | "suppress"}``.

    Returns ``(kept, suppressed)``; kept issues carry their new severity. A key of the form
    ``INV_FAILED:dom-6`` targets one constraint only and wins over the plain message id.
    """
    issues = list(issues)
    if not policy:
        return issues, []
    kept: list[Issue] = []
    suppressed: list[Issue] = []
    for i in issues:
        action = policy.get(f"{i.message_id}:{i.key}") if i.key else None
        if action is None:
            action = policy.get(i.message_id)
        if action is None:
            kept.append(i)
        elif action == SUPPRESS:
            suppressed.append(i)
        else:
            sev = Severity(action)
            kept.append(
                Issue(sev, i.code, i.expression, i.message_id, i.text_fr, i.text_en, i.hint, i.key)
            )
    return sort_issues(kept), sort_issues(suppressed)


def validate_policy(policy: Mapping[str, str]) -> list[str]:
    """Problems in a policy mapping (unknown ids or actions); empty when fine."""
    known = {m.value for m in MsgId}
    actions = {s.value for s in Severity} | {SUPPRESS}
    problems = []
    for k, v in policy.items():
        if k.split(":", 1)[0] not in known:
            problems.append(f"unknown message id {k!r}")
        if v not in actions:
            problems.append(f"unknown action {v!r} for {k!r}")
    return problems


def policy_from_options(options: Mapping[str, object] | None) -> tuple[dict[str, str], list[Issue]]:
    """The validation policy of a workspace (``options["profiles"]["policy"]``).

    Returns the usable entries and one ``POLICY_INVALID`` warning per entry left out (unknown
    message id or action, non-string values, a policy that is not an object), so a bad workspace
    option never breaks validation and is still visible in the answer.
    """
    section = options.get("profiles") if isinstance(options, Mapping) else None
    raw = section.get("policy") if isinstance(section, Mapping) else None
    if raw is None:
        return {}, []
    if not isinstance(raw, Mapping):
        return {}, [make_issue(Severity.WARNING, IssueType.INVALID, "", MsgId.POLICY_INVALID,
                               problem="profiles.policy is not an object")]
    policy: dict[str, str] = {}
    problems: list[Issue] = []
    for k, v in raw.items():
        found = validate_policy({k: v}) if isinstance(v, str) else [f"action of {k!r} is not a string"]
        if found:
            problems += [make_issue(Severity.WARNING, IssueType.INVALID, "", MsgId.POLICY_INVALID, problem=p)
                         for p in found]
        else:
            policy[k] = v
    return policy, problems


def suppression_summary(suppressed: Iterable[Issue], policy: Mapping[str, str]) -> list[Issue]:
    """One information issue per policy entry that suppressed something, with the count."""
    counts: dict[str, int] = {}
    for i in suppressed:
        scoped = f"{i.message_id}:{i.key}" if i.key else ""
        entry = scoped if scoped and scoped in policy else i.message_id
        counts[entry] = counts.get(entry, 0) + 1
    return [make_issue(Severity.INFORMATION, IssueType.INFORMATIONAL, "", MsgId.POLICY_SUPPRESSED,
                       count=n, id=entry) for entry, n in sorted(counts.items())]


def to_operation_outcome(issues: Iterable[Issue], lang: str = "fr",
                         notes: Iterable[Issue] = ()) -> dict[str, object]:
    """Render issues as a FHIR R4 OperationOutcome (an 'all OK' information issue when empty).

    ``notes`` (policy summaries: suppressions, ignored policy entries) follow the issues and do
    not count for the 'all OK' line."""
    out = _entries(issues, lang)
    if not out:
        out.append(
            {
                "severity": "information",
                "code": "informational",
                "details": {"text": "Aucun problème détecté" if lang == "fr" else "No issues detected"},
            }
        )
    out += _entries(notes, lang)
    return {"resourceType": "OperationOutcome", "issue": out}


def _entries(issues: Iterable[Issue], lang: str) -> list[dict[str, object]]:
    out = []
    for i in issues:
        entry: dict[str, object] = {
            "severity": i.severity.value,
            "code": i.code.value,
            "details": {
                "coding": [
                    {"system": "https://mes-sandbox.invalid/fhir/CodeSystem/validation-messages",
                     "code": i.message_id}
                ],
                "text": i.text(lang),
            },
            "diagnostics": i.hint,
        }
        if i.expression:
            entry["expression"] = [i.expression]
        out.append(entry)
    return out
