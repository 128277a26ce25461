"""Public entry points: :func:`validate` a parsed FHIR R4 resource, optionally against a profile;
:func:`validate_bytes` the JSON text itself, decimals kept as written (:mod:`profiles.literals`).

Pipeline: base structure (:mod:`profiles.structure`), profiles — explicit ``profile`` argument
plus the resource's ``meta.profile`` entries we know (:mod:`profiles.profile_check`), then
Bundle-internal references (:mod:`profiles.bundles`). Never raises on content; returns issues in
a deterministic order, after the optional policy.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from profiles.bundles import resolve_references
from profiles.context import Ctx
from profiles.issues import Issue, IssueType, Severity, apply_policy, make_issue, sort_issues
from profiles.literals import parse_json
from profiles.messages import MsgId
from profiles.registry import Registry, default_registry
from profiles.structure import validate_resource


def validate(
    resource: Any,
    profile: str | None = None,
    *,
    policy: Mapping[str, str] | None = None,
    registry: Registry | None = None,
) -> list[Issue]:
    """Validate ``resource`` (a parsed JSON value) and return its issues.

    ``profile`` is a canonical URL (ours or the official one it mirrors). ``policy`` maps a
    message id (or ``INV_FAILED:<key>``) to a severity or ``"suppress"``; use
    :func:`validate_with_suppressed` to also get the suppressed issues.
    """
    kept, _ = validate_with_suppressed(resource, profile, policy=policy, registry=registry)
    return kept


def validate_with_suppressed(
    resource: Any,
    profile: str | None = None,
    *,
    policy: Mapping[str, str] | None = None,
    registry: Registry | None = None,
) -> tuple[list[Issue], list[Issue]]:
    reg = registry or default_registry()
    ctx = Ctx(reg)
    loc = resource.get("resourceType") if isinstance(resource, dict) and isinstance(
        resource.get("resourceType"), str) else ""
    try:
        if validate_resource(ctx, resource, loc):
            from profiles.profile_check import check_profiles

            check_profiles(ctx, resource, loc, profile)
            resolve_references(ctx)
            if reg.guides:  # an --ig guide whose dependencies were not given: say why profiles are unknown
                for guide, package, version in reg.missing_dependencies():
                    ctx.info(IssueType.NOT_FOUND, str(loc), MsgId.IG_DEPENDENCY_MISSING, url=guide, package=package,
                             version=version or "-")
    except RecursionError:
        ctx.error(IssueType.STRUCTURE, loc, MsgId.NOT_AN_OBJECT, found="too deeply nested")
    except Exception as exc:  # noqa: BLE001 - a validator bug must not become a 500 (DESIGN "Errors")
        ctx.issues.append(make_issue(Severity.FATAL, IssueType.EXCEPTION, loc, MsgId.INTERNAL_ERROR,
                                     error=type(exc).__name__))
    return apply_policy(sort_issues(ctx.issues), policy)


def validate_bytes(
    raw: bytes,
    profile: str | None = None,
    *,
    policy: Mapping[str, str] | None = None,
    registry: Registry | None = None,
) -> list[Issue]:
    """Parse and validate FHIR JSON ``raw`` (UTF-8), keeping decimal literals as written
    (``1.50`` stays ``1.50``; ``1.0`` is not an ``integer``). Unreadable JSON gives one fatal
    ``STRUCT_JSON_SYNTAX`` issue. Same arguments as :func:`validate`."""
    kept, _ = validate_bytes_with_suppressed(raw, profile, policy=policy, registry=registry)
    return kept


def validate_bytes_with_suppressed(
    raw: bytes,
    profile: str | None = None,
    *,
    policy: Mapping[str, str] | None = None,
    registry: Registry | None = None,
) -> tuple[list[Issue], list[Issue]]:
    doc, parse_issues = parse_json(raw)
    if parse_issues:
        return sort_issues(parse_issues), []
    return validate_with_suppressed(doc, profile, policy=policy, registry=registry)


def value_set_codes(url: str) -> frozenset[str]:
    """Codes of a bundled ValueSet (any system), for services that check a code list themselves
    (e.g. the DMP's feeding rules); empty if the value set is unknown or not enumerable."""
    index = default_registry().terminology.index(url)
    if index is None or not index.enumerable:
        return frozenset()
    return frozenset(index.codes)
