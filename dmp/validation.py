"""Profile validation of each accepted DocumentReference (and SubmissionSet) through ``profiles/``
(DESIGN "Validation"; PDSm profiles, FACTS §3.2) and the workspace policy.

Policy: workspace option ``options["dmp"]["validation"]``: ``"reject"`` (default) refuses a
submission whose resources carry an error-level issue (422 + OperationOutcome listing every issue
with its FHIRPath location inside the Bundle); ``"warn"`` accepts it and returns the issues as
warnings in the response's ``entry.response.outcome``; ``"off"`` skips validation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import profiles
from dmp.fhir import PDSM_DR_PROFILE, PDSM_SUBMISSIONSET_PROFILE
from sandbox.errors import FhirError, issue


class Policy(StrEnum):
    REJECT = "reject"
    WARN = "warn"
    OFF = "off"


@dataclass
class Verdict:
    policy: Policy
    issues: list[dict[str, Any]] = field(default_factory=list)  # OperationOutcome.issue dicts

    @property
    def errors(self) -> int:
        return sum(1 for i in self.issues if i["severity"] in ("error", "fatal"))

    @property
    def warnings(self) -> int:
        return sum(1 for i in self.issues if i["severity"] == "warning")

    @property
    def rejected(self) -> bool:
        return self.policy is Policy.REJECT and self.errors > 0

    def summary(self) -> dict[str, Any]:
        return {"policy": self.policy.value, "errors": self.errors, "warnings": self.warnings,
                "verdict": "rejected" if self.rejected else "accepted"}


def policy_of(options: dict[str, Any] | None) -> Policy:
    dmp_options = (options or {}).get("dmp")
    value = dmp_options.get("validation") if isinstance(dmp_options, dict) else None
    try:
        return Policy(value)
    except (ValueError, TypeError):  # options are free JSON: anything else means the default
        return Policy.REJECT


def _default_profile(resource: dict[str, Any]) -> str | None:
    declared = (resource.get("meta") or {}).get("profile")
    if declared:
        return None  # the validator checks the declared profiles it knows
    return {"DocumentReference": PDSM_DR_PROFILE, "List": PDSM_SUBMISSIONSET_PROFILE}.get(
        resource.get("resourceType", ""))


def validate_resource(resource: dict[str, Any], at: str, lang: str = "fr") -> list[dict[str, Any]]:
    """Issues of one resource as OperationOutcome issues, expressions rebased on ``at``."""
    issues = profiles.validate(resource, _default_profile(resource))
    out = []
    if not issues:
        return out
    oo = profiles.to_operation_outcome(issues, lang)
    root = resource.get("resourceType", "")
    for i in oo.get("issue", []):
        exprs = [at + e[len(root):] if root and e.startswith(root) else f"{at}.{e}" for e in i.get("expression", [])]
        out.append({**i, **({"expression": exprs} if exprs else {})})
    return out


def validate_entries(resources: list[tuple[dict[str, Any], str]], policy: Policy, lang: str = "fr") -> Verdict:
    """Validate ``(resource, FHIRPath of the entry)`` pairs under ``policy``."""
    verdict = Verdict(policy)
    if policy is Policy.OFF:
        return verdict
    for resource, at in resources:
        verdict.issues.extend(validate_resource(resource, at, lang))
    return verdict


class ValidationRejected(FhirError):
    """422 under the ``reject`` policy: every issue, errors first, with its location in the Bundle."""

    def __init__(self, verdict: Verdict) -> None:
        errors = [i for i in verdict.issues if i["severity"] in ("error", "fatal")]
        others = [i for i in verdict.issues if i["severity"] not in ("error", "fatal")]
        head = issue("error", "processing", f"validation : {len(errors)} erreur(s) ; politique de l'espace de "
                                            "travail : reject (options.dmp.validation)")
        super().__init__(422, "processing", "lot refusé par la validation", issues=[head, *errors, *others])
        self.verdict = verdict
