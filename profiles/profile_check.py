"""Apply compiled profiles to instances (FHIR R4 §5.1 profiling, §2.12 ElementDefinition).

Profiles come from the explicit argument and from ``meta.profile`` of every resource met
(top level, Bundle entries, contained). Checks: cardinality, types, fixed/pattern values,
bindings (required → error, extensible → warning, preferred → information), Reference target
profiles, constraints (FHIRPath or native: NIR key, UCUM), extensions by URL and slicing
(:mod:`profiles.slicing`), each rule compiled once (:mod:`profiles.rule_plan`).
"""

from __future__ import annotations

from typing import Any

from profiles import conformance_resources, datatype_limits, extensions, nir, questionnaires, rule_plan
from profiles.context import Ctx
from profiles.issues import IssueType, Severity
from profiles.messages import MsgId
from profiles.sdef import CompiledProfile

Located = tuple[dict[str, Any], str, dict[str, Any]]  # resource, location, %rootResource


def check_profiles(ctx: Ctx, resource: dict[str, Any], loc: str, explicit: str | None) -> None:
    reg = ctx.registry
    if explicit:
        target, _ = reg.resolve_url(explicit)
        if target is None:
            ctx.error(IssueType.NOT_FOUND, loc, MsgId.PROFILE_UNKNOWN, url=explicit)
        else:
            apply_profile(ctx, target, resource, loc, resource)
    datatype_limits.check_attachments(ctx)
    for res, rloc, root in _resources(resource, loc, resource, []) if isinstance(resource, dict) else ():
        if res.get("resourceType") == "Patient" and isinstance(res.get("identifier"), list):
            # national rule (FACTS §1.3): every INS/NIR matricule carries a valid key
            for i, ident in enumerate(res["identifier"]):
                nir.check(ctx, ident, f"{rloc}.identifier[{i}]")
        meta = res.get("meta")
        profs = meta.get("profile") if isinstance(meta, dict) else None
        for i, p in enumerate(profs if isinstance(profs, list) else ()):
            if not isinstance(p, str):
                continue
            target, _alias = reg.resolve_url(p)
            if target is None:
                ctx.info(IssueType.NOT_SUPPORTED, f"{rloc}.meta.profile[{i}]", MsgId.PROFILE_UNKNOWN, url=p)
                continue
            if explicit and reg.resolve_url(explicit)[0] == target and res is resource:
                continue
            apply_profile(ctx, target, res, rloc, root)
        if res.get("resourceType") == "Observation":
            for url in _by_content(reg, res):
                if not (isinstance(profs, list) and url in profs) and url != explicit:
                    apply_profile(ctx, url, res, rloc, root)
        elif res.get("resourceType") == "QuestionnaireResponse":
            questionnaires.check(ctx, res, rloc)
        for url in reg.global_profiles.get(str(res.get("resourceType")), ()) if reg.global_profiles else ():
            _apply_global(ctx, url, res, rloc, root, profs, explicit if res is resource else None)
        extensions.check_extensions(ctx, res, rloc, root)
        if isinstance(res.get("resourceType"), str) and res["resourceType"] in _CONFORMANCE:
            conformance_resources.check(ctx, res, rloc)


_CONFORMANCE = frozenset(("SearchParameter", "StructureDefinition"))


def _apply_global(ctx: Ctx, url: str, res: dict[str, Any], loc: str, root: dict[str, Any], profs: Any,
                  explicit: str | None) -> None:
    """An ImplementationGuide ``global`` profile (R4 ImplementationGuide.global: "a profile that
    all resources of the type must conform to"), unless the resource already claims it."""
    reg = ctx.registry
    target, _alias = reg.resolve_url(url)
    if target is None:
        ctx.error(IssueType.NOT_FOUND, loc, MsgId.PROFILE_UNKNOWN, url=url)
        return
    claimed = [reg.resolve_url(p)[0] for p in (profs if isinstance(profs, list) else ()) if isinstance(p, str)]
    if target in claimed or (explicit and reg.resolve_url(explicit)[0] == target):
        return
    apply_profile(ctx, target, res, loc, root)


def _by_content(reg: Any, obs: dict[str, Any]) -> list[str]:
    """Core profiles an Observation must meet by its code: the R4 vital-signs profiles ("if you
    use one of these LOINC codes, you SHALL conform", FHIR R4 §observation-vitalsigns)."""
    code = obs.get("code")
    codings = code.get("coding") if isinstance(code, dict) else None
    out: list[str] = []
    for c in codings if isinstance(codings, list) else ():
        if isinstance(c, dict) and c.get("system") == "http://loinc.org" and isinstance(c.get("code"), str):
            url = reg.content_profiles.get(c["code"])
            if url is not None and url not in out:
                out.append(url)
    return out


def _resources(res: dict[str, Any], loc: str, root: dict[str, Any], out: list[Located]) -> list[Located]:
    """``res`` and the resources within it (contained, Bundle entries) in document order, each
    with its location and %rootResource."""
    out.append((res, loc, root))
    contained = res.get("contained")
    if isinstance(contained, list):
        for i, c in enumerate(contained):
            if isinstance(c, dict):
                _resources(c, f"{loc}.contained[{i}]", root, out)
    if res.get("resourceType") == "Bundle":
        entries = res.get("entry")
        if isinstance(entries, list):
            for i, e in enumerate(entries):
                r = e.get("resource") if isinstance(e, dict) else None
                if isinstance(r, dict):
                    _resources(r, f"{loc}.entry[{i}].resource", r, out)
    return out


def apply_profile(ctx: Ctx, url: str, res: dict[str, Any], loc: str, root: dict[str, Any]) -> None:
    reg = ctx.registry
    prof = reg.compiled(url)
    if prof is None:
        if url in reg.broken:
            ctx.error(IssueType.PROCESSING, loc, MsgId.PROFILE_UNUSABLE, url=url, reason=reg.broken[url])
        else:
            ctx.error(IssueType.NOT_FOUND, loc, MsgId.PROFILE_UNKNOWN, url=url)
        return
    if prof.problems and url not in ctx.profile_problems:
        ctx.profile_problems.add(url)
        for eid in prof.problems:
            ctx.warn(IssueType.PROCESSING, loc, MsgId.PROFILE_ELEMENT_UNKNOWN, url=url, path=eid)
    of_resource = prof.type in reg.model.resource_types
    rt = res.get("resourceType") if of_resource else prof.type
    if of_resource and rt != prof.type:
        ctx.error(IssueType.INVALID, loc, MsgId.PROFILE_WRONG_TYPE, url=url, expected=prof.type, found=rt)
        return
    seen: set[str] = set()
    p: CompiledProfile | None = prof
    while p is not None and p.url not in seen:
        seen.add(p.url)
        rule_plan.apply_rule_item(ctx, p.root, res, loc, prof.type, res if rt == prof.type else root, root)
        p = reg.compiled(p.base) if p.base else None


def conforms(ctx: Ctx, url: str, value: Any, type_code: str, res: dict[str, Any], root: dict[str, Any]) -> bool:
    """Quiet check used by ``profile`` discriminators: no error issues for ``value``."""
    probe = Ctx(ctx.registry)
    probe.quiet = 1
    prof = ctx.registry.compiled(url)
    if prof is None:
        rt = value.get("resourceType") if isinstance(value, dict) else None
        return url.rsplit("/", 1)[-1] in (rt, type_code)
    if isinstance(value, dict) and prof.type in ctx.registry.model.resource_types:
        apply_profile(probe, url, value, "", value)
    else:
        rule_plan.apply_rule_item(probe, prof.root, value, "", type_code, res, root)
    return not any(i.severity in (Severity.ERROR, Severity.FATAL) for i in probe.issues)
