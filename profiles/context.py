"""Validation context: accumulates issues (``rule()`` records and returns a bool, never throws).

STYLE §5 "accumulate, don't throw". One context per :func:`profiles.validate` call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from profiles.invariants import NotEvaluable, compiled
from profiles.issues import Issue, IssueType, Severity, make_issue
from profiles.messages import MsgId

if TYPE_CHECKING:
    from profiles.registry import Registry


@dataclass(slots=True)
class RefSite:
    """A Reference seen while walking, resolved later against its Bundle (if any)."""

    reference: str
    location: str
    targets: tuple[str, ...]  # allowed resource types, empty for any
    entry_fullurl: str | None
    bundle: int | None  # id() of the enclosing Bundle's entry table


@dataclass
class Ctx:
    registry: Registry
    issues: list[Issue] = field(default_factory=list)
    refs: list[RefSite] = field(default_factory=list)
    not_evaluated: set[str] = field(default_factory=set)
    #: fullUrl of the Bundle entry being walked, and the Bundle's table id
    entry_fullurl: str | None = None
    bundle: int | None = None
    #: Bundles met while walking: id -> (bundle, location)
    bundle_nodes: dict[int, tuple[dict[str, Any], str]] = field(default_factory=dict)
    #: id(entry resource) -> id(its Bundle)
    entry_bundle: dict[int, int | None] = field(default_factory=dict)
    #: Reference location -> allowed target types added by profiles (targetProfile)
    profile_targets: dict[str, list[tuple[str, ...]]] = field(default_factory=dict)
    #: Reference location -> target profiles (any one will do) the resolved resource must meet
    target_profiles: dict[str, list[tuple[str, ...]]] = field(default_factory=dict)
    #: per-validation memo of datatype subtrees (see structure._item)
    memo: dict[tuple[int, bytes], Any] = field(default_factory=dict)
    #: profiles whose own problems (elements R4 does not define) were reported in this validation
    profile_problems: set[str] = field(default_factory=set)
    #: id() of the resources whose base walk met an extension (profiles.extensions looks at those only)
    ext_resources: set[int] = field(default_factory=set)
    #: Attachment values met by the base walk, with their locations (profiles.datatype_limits)
    attachments: list[tuple[dict[str, Any], str]] = field(default_factory=list)
    #: id() of the extensions a profile already checked against their definition (type profile)
    checked_extensions: set[int] = field(default_factory=set)
    quiet: int = 0  # >0 while probing slices/profiles: issues are collected elsewhere

    def rule(self, ok: bool, severity: Severity, itype: IssueType, at: str, msg: MsgId,
             inv_key: str = "", **args: object) -> bool:
        if not ok:
            self.issues.append(make_issue(severity, itype, at, msg, inv_key, **args))
        return ok

    def error(self, itype: IssueType, at: str, msg: MsgId, **args: object) -> None:
        self.issues.append(make_issue(Severity.ERROR, itype, at, msg, **args))

    def warn(self, itype: IssueType, at: str, msg: MsgId, **args: object) -> None:
        self.issues.append(make_issue(Severity.WARNING, itype, at, msg, **args))

    def info(self, itype: IssueType, at: str, msg: MsgId, **args: object) -> None:
        self.issues.append(make_issue(Severity.INFORMATION, itype, at, msg, **args))

    def run_checks(self, checks: tuple[tuple[str, str, str, Any], ...], node: Any, type_path: str,
                   resource: dict[str, Any], root: dict[str, Any], at: str) -> None:
        """Fast path for precompiled base constraints (natives called directly)."""
        for key, sev, expr, comp in checks:
            native = comp.native
            if native is not None:
                if not native(node, resource, root):
                    self.failed(key, sev, expr, at)
            else:
                self.invariant(key, sev, expr, "", node, type_path, resource, root, at)

    def failed(self, key: str, severity: str, expression: str, at: str, human: str = "") -> None:
        """A constraint does not hold (without human text, its expression stands for it)."""
        s = Severity.WARNING if severity == "warning" else Severity.ERROR
        self.issues.append(make_issue(s, IssueType.INVARIANT, at, MsgId.INVARIANT_FAILED, key,
                                      key=key, human=human or expression, expr=expression))

    def invariant(self, key: str, severity: str, expression: str, human: str, node: Any,
                  type_path: str, resource: dict[str, Any], root: dict[str, Any], at: str) -> bool:
        """Evaluate one constraint; unsupported expressions are reported once, as information."""
        try:
            ok = compiled(expression)(node, type_path, resource, root)
        except NotEvaluable as exc:
            if key not in self.not_evaluated:
                self.not_evaluated.add(key)
                self.info(IssueType.INFORMATIONAL, at, MsgId.INVARIANT_NOT_EVALUATED, key=key,
                          reason=str(exc))
            return True
        if not ok:
            self.failed(key, severity, expression, at, human)
        return ok
