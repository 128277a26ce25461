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


class BundleTable:
    def __init__(self, bundle: dict[str, Any]) -> None:
        self.type = bundle.get("type")
        self.by_url: dict[str, str] = {}  # fullUrl -> resourceType
        self.by_rel: dict[str, str] = {}  # Type/id -> resourceType
        self.versions: dict[str, str | None] = {}  # fullUrl or Type/id -> meta.versionId
        self.resources: dict[str, dict[str, Any]] = {}  # fullUrl or Type/id -> resource
        entries = bundle.get("entry")
        self.entries = entries if isinstance(entries, list) else []
        for e in self.entries:
            if not isinstance(e, dict):
                continue
            res = e.get("resource")
            rt = res.get("resourceType") if isinstance(res, dict) else None
            fu = e.get("fullUrl")
            meta = res.get("meta") if isinstance(res, dict) else None
            vid = meta.get("versionId") if isinstance(meta, dict) else None
            if isinstance(fu, str) and isinstance(rt, str):
                self.by_url.setdefault(fu, rt)
                self.versions.setdefault(fu, vid)
                self.resources.setdefault(fu, res)  # type: ignore[arg-type]
            if isinstance(rt, str) and isinstance(res, dict) and isinstance(res.get("id"), str):
                self.by_rel.setdefault(f"{rt}/{res['id']}", rt)
                self.versions.setdefault(f"{rt}/{res['id']}", vid)
                self.resources.setdefault(f"{rt}/{res['id']}", res)

    def resolve(self, ref: str, entry_fullurl: str | None) -> str | None:
        """The type of the entry ``ref`` designates, or None. A versioned reference
        (``Type/id/_history/n``, FHIR R4 §2.36.4) designates the entry of that fullUrl or
        ``Type/id`` whose ``meta.versionId`` is ``n``."""
        if "/_history/" in ref and ref not in self.by_url:
            bare, version = ref.split("/_history/", 1)
            found = self._resolve(bare, entry_fullurl)
            if found is None:
                return None
            rt, key = found
            held = self.versions.get(key)  # an entry without versionId cannot contradict it
            return rt if held is None or held == version else None
        found = self._resolve(ref, entry_fullurl)
        return found[0] if found is not None else None

    def resource(self, ref: str, entry_fullurl: str | None) -> dict[str, Any] | None:
        """The entry resource ``ref`` designates (None if unresolved)."""
        found = self._resolve(ref.split("/_history/", 1)[0], entry_fullurl)
        return self.resources.get(found[1]) if found is not None else None

    def _resolve(self, ref: str, entry_fullurl: str | None) -> tuple[str, str] | None:
        if ref in self.by_url:
            return self.by_url[ref], ref
        m = _REL.match(ref)
        if m and not m.group(1):
            if entry_fullurl:
                fm = _REL.match(entry_fullurl)
                if fm and fm.group(1):
                    full = f"{fm.group(1)}/{ref}"
                    if full in self.by_url:
                        return self.by_url[full], full
            return (self.by_rel[ref], ref) if ref in self.by_rel else None
        return None


#: Bundle types whose urn: references must resolve inside the Bundle
_RESOLUTION_REQUIRED = frozenset(("document", "transaction"))


#: link relations a Bundle carries at most once: a reader follows "the" next page, "the" self link
#: (FHIR R4 §3.1.1.3 paging, RFC 8288 registered relations); others (alternate...) may repeat
_UNIQUE_RELATIONS = frozenset(("self", "first", "previous", "prev", "next", "last"))


def _unique_relations(ctx: Ctx, links: Any, at: str) -> None:
    """Each paging ``link.relation`` appears once in a Bundle's (or an entry's) links."""
    if not isinstance(links, list) or len(links) < 2:
        return
    seen: set[str] = set()
    for j, link in enumerate(links):
        rel = link.get("relation") if isinstance(link, dict) else None
        if isinstance(rel, str) and rel in _UNIQUE_RELATIONS:
            if rel in seen:
                ctx.error(IssueType.DUPLICATE, f"{at}[{j}].relation", MsgId.BUNDLE_LINK_DUPLICATE, relation=rel)
            seen.add(rel)


def check_bundle(ctx: Ctx, bundle: dict[str, Any], loc: str) -> BundleTable:
    table = BundleTable(bundle)
    seen: dict[str, int] = {}
    btype = table.type
    _unique_relations(ctx, bundle.get("link"), f"{loc}.link")
    for i, e in enumerate(table.entries):
        if not isinstance(e, dict):
            continue
        _unique_relations(ctx, e.get("link"), f"{loc}.entry[{i}].link")
        res = e.get("resource")
        fu = e.get("fullUrl")
        if isinstance(fu, str) and not _SCHEME.match(fu):
            # R4 §2.36.4: fullUrl is an absolute URL (or urn:uuid:/urn:oid:); a warning, as the HL7
            # validator says (the official PDSm4DMP searchset example uses relative ones)
            ctx.warn(IssueType.INVALID, f"{loc}.entry[{i}].fullUrl", MsgId.BUNDLE_FULLURL_RELATIVE, ref=fu)
        if isinstance(res, dict):
            rt, rid = res.get("resourceType"), res.get("id")
            if isinstance(fu, str):
                if fu in seen and btype != "history":
                    vid = (res.get("meta") or {}).get("versionId") if isinstance(res.get("meta"), dict) else None
                    if vid is None:
                        ctx.error(IssueType.DUPLICATE, f"{loc}.entry[{i}].fullUrl", MsgId.BUNDLE_FULLURL_DUPLICATE,
                                  ref=fu)
                seen[fu] = i
                # only an http(s) URL has a server base (urn:uuid: and urn:oid: ids do not)
                m = _REL.match(fu) if fu.startswith("http") else None
                if m and m.group(1) and isinstance(rid, str) and (m.group(2) != rt or m.group(3) != rid):
                    ctx.error(IssueType.INVALID, f"{loc}.entry[{i}].fullUrl", MsgId.BUNDLE_FULLURL_MISMATCH, ref=fu,
                              type=rt, id=rid)
            elif btype in ("document", "transaction", "batch", "message"):
                ctx.warn(IssueType.REQUIRED, f"{loc}.entry[{i}]", MsgId.BUNDLE_FULLURL_MISSING)
            req = e.get("request")
            if btype in ("transaction", "batch") and isinstance(req, dict) and isinstance(rt, str):
                method, url = req.get("method"), req.get("url")
                if isinstance(url, str) and method in ("POST", "PUT"):
                    path = url.split("?", 1)[0]
                    ok = path == rt if method == "POST" else (
                        path == rt and "?" in url) or re.fullmatch(rf"{re.escape(rt)}/[A-Za-z0-9\-.]{{1,64}}", path)
                    if not ok:
                        ctx.warn(IssueType.INVALID, f"{loc}.entry[{i}].request.url", MsgId.BUNDLE_REQUEST_URL,
                                 ref=url, method=method, type=rt)
    return table


def resolve_references(ctx: Ctx) -> None:
    """Check every Reference met: format, target type and in-Bundle resolution."""
    tables: dict[int, BundleTable] = {}
    for bid, (bundle, loc) in ctx.bundle_nodes.items():
        tables[bid] = check_bundle(ctx, bundle, loc)
    model = ctx.registry.model
    profile_targets = ctx.profile_targets
    forms: dict[str, tuple[int, str | None]] = {}  # a Bundle repeats its references: read each once
    for site in ctx.refs:
        ref = site.reference
        form = forms.get(ref)
        if form is None:
            form = forms[ref] = _form(ref, model)
        table = tables.get(site.bundle) if site.bundle is not None else None
        if form[0] == _LITERAL and table is not None:
            # the usual Bundle reference, an entry's fullUrl of an allowed type: nothing to report
            found = table.by_url.get(ref)
            if found is not None and (not site.targets or found in site.targets):
                for extra in profile_targets.get(site.location, ()):
                    if extra and found not in extra:
                        break
                else:
                    continue
        if form[0] != _CONTAINED:
            _check_ref(ctx, site, form, table)
    if ctx.target_profiles:
        _check_target_profiles(ctx, tables)


def _check_target_profiles(ctx: Ctx, tables: dict[int, BundleTable]) -> None:
    """``Reference(profile)`` (targetProfile that is a profile): the Bundle entry a reference
    resolves to meets one of the listed profiles (FHIR R4 §2.12 ElementDefinition.type.targetProfile)."""
    from profiles.profile_check import conforms

    reg = ctx.registry
    for site in ctx.refs:
        groups = ctx.target_profiles.get(site.location)
        table = tables.get(site.bundle) if site.bundle is not None else None
        if not groups or table is None:
            continue
        res = table.resource(site.reference, site.entry_fullurl)
        if res is None:
            continue
        rt = res.get("resourceType")
        for urls in groups:
            of_type = [u for u in urls if reg.compiled(u) is not None and reg.compiled(u).type == rt]  # type: ignore[union-attr]
            if of_type and not any(conforms(ctx, u, res, rt, res, res) for u in of_type):
                ctx.error(IssueType.STRUCTURE, f"{site.location}.reference", MsgId.REFERENCE_TARGET_PROFILE,
                          ref=site.reference, urls=", ".join(of_type))


# what a reference's text says, whatever its context: (kind, resource type it names if any)
_CONTAINED, _CONDITIONAL, _MALFORMED, _LITERAL = range(4)


def _form(ref: str, model: Any) -> tuple[int, str | None]:
    if ref.startswith("#"):
        return _CONTAINED, None  # ref-1 (contained) is an invariant of Reference
    # neither pattern can match a lower-case scheme such as urn:uuid: (the usual Bundle reference)
    lower = ref[:1].islower() and not ref.startswith("http")
    cond = None if lower else _COND.match(ref)
    if cond:  # conditional reference (transactions, FHIR R4 §3.1.0.11.3)
        return _CONDITIONAL, cond.group(1)
    m = None if lower else _REL.match(ref)
    if m:
        found_type = m.group(2)
        return (_LITERAL, found_type) if found_type in model.resource_types else (_MALFORMED, None)
    if ref.startswith("urn:uuid:"):
        ok = _UUID.match(ref) is not None
    elif ref.startswith("urn:oid:"):
        ok = _OID.match(ref) is not None
    else:
        ok = not (_TYPED.match(ref) or (not _SCHEME.match(ref) and ("/" not in ref or " " in ref)))
    return (_LITERAL, None) if ok else (_MALFORMED, None)


def _check_ref(ctx: Ctx, site: RefSite, form: tuple[int, str | None], table: BundleTable | None) -> None:
    ref, targets = site.reference, site.targets
    kind, found_type = form
    if kind == _CONDITIONAL:
        if targets and found_type not in targets:
            ctx.error(IssueType.STRUCTURE, f"{site.location}.reference", MsgId.REFERENCE_TARGET, found=found_type,
                      expected=" | ".join(targets))
        return
    if kind == _MALFORMED:
        ctx.error(IssueType.INVALID, f"{site.location}.reference", MsgId.REFERENCE_FORMAT, ref=ref)
        return
    if table is not None:
        resolved = table.resolve(ref, site.entry_fullurl)
        if resolved is not None:
            found_type = resolved
        elif ref.startswith("urn:"):
            # FHIR R4 §3.3 (documents) and §3.1.0.11.2 (transactions) require urn: references to
            # resolve inside the Bundle; other Bundle types (collection, batch, searchset, message,
            # history...) do not: a warning there, as the HL7 validator says
            if table.type in _RESOLUTION_REQUIRED:
                ctx.error(IssueType.NOT_FOUND, f"{site.location}.reference", MsgId.REFERENCE_UNRESOLVED, ref=ref,
                          type=table.type)
            else:
                ctx.warn(IssueType.NOT_FOUND, f"{site.location}.reference", MsgId.REFERENCE_UNRESOLVED_LENIENT,
                         ref=ref, type=table.type)
            return
        elif table.type == "document":
            ctx.error(IssueType.NOT_FOUND, f"{site.location}.reference", MsgId.BUNDLE_DOCUMENT_REF, ref=ref)
    if found_type and targets and found_type not in targets:
        ctx.error(IssueType.STRUCTURE, f"{site.location}.reference", MsgId.REFERENCE_TARGET, found=found_type,
                  expected=" | ".join(targets))
        return
    for extra in ctx.profile_targets.get(site.location, ()):
        if found_type and extra and found_type not in extra:
            ctx.error(IssueType.STRUCTURE, f"{site.location}.reference", MsgId.REFERENCE_TARGET, found=found_type,
                      expected=" | ".join(extra))
