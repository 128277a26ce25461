"""Bundle-internal reference resolution and document/transaction rules.

FHIR R4 §2.36.4 (resolving references in Bundles: fullUrl, ``urn:uuid``/``urn:oid``, relative
references against the entry's base), §3.3 (documents: every reference resolves inside the
Bundle), §3.1.0.11 (transactions: request.method/url consistent with the entry's resource).
Reference target types (``Reference(Patient|Group)``) are checked for every literal reference.
"""

from __future__ import annotations

import re
from typing import Any

from profiles.context import Ctx, RefSite
from profiles.issues import IssueType
from profiles.messages import MsgId

_REL = re.compile(r"^(?:(https?://.+)/)?([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})(?:/_history/[A-Za-z0-9\-.]{1,64})?$")
_UUID = re.compile(r"^urn:uuid:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_OID = re.compile(r"^urn:oid:[0-2](\.(0|[1-9][0-9]*))+$")
_COND = re.compile(r"^([A-Z][A-Za-z]+)\?\S+$")
_TYPED = re.compile(r"^[A-Z][A-Za-z]+/")
_SCHEME = re.compile(r"^[a-z][a-z0-9+.\-]*:")
_ABSTRACT = ("Resource", "DomainResource")
#: Reference target types of an element, minus the abstract ones (computed once per tuple)
_TARGETS: dict[tuple[str, ...], tuple[str, ...]] = {}


class BundleTable:
    def __init__(self, bundle: dict[str, Any]) -> None:
        self.type = bundle.get("type")
        self.by_url: dict[str, str] = {}  # fullUrl -> resourceType
        self.by_rel: dict[str, str] = {}  # Type/id -> resourceType
        entries = bundle.get("entry")
        self.entries = entries if isinstance(entries, list) else []
        for e in self.entries:
            if not isinstance(e, dict):
                continue
            res = e.get("resource")
            rt = res.get("resourceType") if isinstance(res, dict) else None
            fu = e.get("fullUrl")
            if isinstance(fu, str) and isinstance(rt, str):
                self.by_url.setdefault(fu, rt)
            if isinstance(rt, str) and isinstance(res, dict) and isinstance(res.get("id"), str):
                self.by_rel.setdefault(f"{rt}/{res['id']}", rt)

    def resolve(self, ref: str, entry_fullurl: str | None) -> str | None:
        if ref in self.by_url:
            return self.by_url[ref]
        m = _REL.match(ref)
        if m and not m.group(1):
            if entry_fullurl:
                fm = _REL.match(entry_fullurl)
                if fm and fm.group(1):
                    full = f"{fm.group(1)}/{ref}"
                    if full in self.by_url:
                        return self.by_url[full]
            return self.by_rel.get(ref)
        return None


def check_bundle(ctx: Ctx, bundle: dict[str, Any], loc: str) -> BundleTable:
    table = BundleTable(bundle)
    seen: dict[str, int] = {}
    btype = table.type
    for i, e in enumerate(table.entries):
        if not isinstance(e, dict):
            continue
        at = f"{loc}.entry[{i}]"
        res = e.get("resource")
        fu = e.get("fullUrl")
        if isinstance(res, dict):
            rt, rid = res.get("resourceType"), res.get("id")
            if isinstance(fu, str):
                if fu in seen and btype != "history":
                    vid = (res.get("meta") or {}).get("versionId") if isinstance(res.get("meta"), dict) else None
                    if vid is None:
                        ctx.error(IssueType.DUPLICATE, f"{at}.fullUrl", MsgId.BUNDLE_FULLURL_DUPLICATE, ref=fu)
                seen[fu] = i
                m = _REL.match(fu)
                if m and m.group(1) and isinstance(rid, str) and (m.group(2) != rt or m.group(3) != rid):
                    ctx.error(IssueType.INVALID, f"{at}.fullUrl", MsgId.BUNDLE_FULLURL_MISMATCH, ref=fu,
                              type=rt, id=rid)
            elif btype in ("document", "transaction", "batch", "message"):
                ctx.warn(IssueType.REQUIRED, at, MsgId.BUNDLE_FULLURL_MISSING)
            req = e.get("request")
            if btype in ("transaction", "batch") and isinstance(req, dict) and isinstance(rt, str):
                method, url = req.get("method"), req.get("url")
                if isinstance(url, str) and method in ("POST", "PUT"):
                    path = url.split("?", 1)[0]
                    ok = path == rt if method == "POST" else (
                        path == rt and "?" in url) or re.fullmatch(rf"{re.escape(rt)}/[A-Za-z0-9\-.]{{1,64}}", path)
                    if not ok:
                        ctx.warn(IssueType.INVALID, f"{at}.request.url", MsgId.BUNDLE_REQUEST_URL, ref=url,
                                  method=method, type=rt)
    return table


def resolve_references(ctx: Ctx) -> None:
    """Check every Reference met: format, target type and in-Bundle resolution."""
    tables: dict[int, BundleTable] = {}
    for bid, (bundle, loc) in ctx.bundle_nodes.items():
        tables[bid] = check_bundle(ctx, bundle, loc)
    model = ctx.registry.model
    for site in ctx.refs:
        _check_ref(ctx, site, tables.get(site.bundle) if site.bundle is not None else None, model)


def _check_ref(ctx: Ctx, site: RefSite, table: BundleTable | None, model: Any) -> None:
    ref = site.reference
    at = f"{site.location}.reference"
    if ref.startswith("#"):
        return  # ref-1 (contained) is an invariant of Reference
    targets = _TARGETS.get(site.targets)
    if targets is None:
        targets = _TARGETS[site.targets] = tuple(t for t in site.targets if t not in _ABSTRACT)
    # neither pattern can match a lower-case scheme such as urn:uuid: (the usual Bundle reference)
    lower = ref[:1].islower() and not ref.startswith("http")
    m = None if lower else _REL.match(ref)
    found_type: str | None = None
    cond = None if lower else _COND.match(ref)
    if cond:  # conditional reference (transactions, FHIR R4 §3.1.0.11.3)
        if targets and cond.group(1) not in targets:
            ctx.error(IssueType.STRUCTURE, at, MsgId.REFERENCE_TARGET, found=cond.group(1),
                      expected=" | ".join(targets))
        return
    if m:
        found_type = m.group(2)
        if found_type not in model.resource_types:
            ctx.error(IssueType.INVALID, at, MsgId.REFERENCE_FORMAT, ref=ref)
            return
    elif ref.startswith("urn:uuid:"):
        if not _UUID.match(ref):
            ctx.error(IssueType.INVALID, at, MsgId.REFERENCE_FORMAT, ref=ref)
            return
    elif ref.startswith("urn:oid:"):
        if not _OID.match(ref):
            ctx.error(IssueType.INVALID, at, MsgId.REFERENCE_FORMAT, ref=ref)
            return
    elif _TYPED.match(ref) or (not _SCHEME.match(ref) and ("/" not in ref or " " in ref)):
        ctx.error(IssueType.INVALID, at, MsgId.REFERENCE_FORMAT, ref=ref)
        return
    if table is not None:
        resolved = table.resolve(ref, site.entry_fullurl)
        if resolved is not None:
            found_type = resolved
        elif ref.startswith("urn:"):
            ctx.error(IssueType.NOT_FOUND, at, MsgId.REFERENCE_UNRESOLVED, ref=ref)
            return
        elif table.type == "document":
            ctx.error(IssueType.NOT_FOUND, at, MsgId.BUNDLE_DOCUMENT_REF, ref=ref)
    if found_type and targets and found_type not in targets:
        ctx.error(IssueType.STRUCTURE, at, MsgId.REFERENCE_TARGET, found=found_type,
                  expected=" | ".join(targets))
        return
    for extra in ctx.profile_targets.get(site.location, ()):
        if found_type and extra and found_type not in extra:
            ctx.error(IssueType.STRUCTURE, at, MsgId.REFERENCE_TARGET, found=found_type,
                      expected=" | ".join(extra))
