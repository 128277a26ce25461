"""ITI-65 Provide Document Bundle — PDSm Flux 1/2 "AjoutLotDocument", DMP TD2.1/TD2.2 (FACTS §3.2,
§3.3, §8.13; IHE MHD ITI-65).

:func:`parse` turns a ``transaction`` Bundle into a :class:`Submission` without touching the
database: SubmissionSet ``List``, ``DocumentReference``\\ s, ``Binary`` (or inline ``attachment.data``,
or an embedded FHIR document ``Bundle``), optional Folder ``List``, ``Patient`` by INS, and the
PDSm4DMP replacement variant's ``Parameters`` PATCH entry (TD2.1). Every ``urn:uuid`` reference must
resolve inside the Bundle; size and SHA-1 hash (base64, FHIR ``Attachment.hash``) must match the
bytes; metadata codes are checked against the FACTS §3.4 value sets (:mod:`dmp.terminology`).
:mod:`dmp.feed` stores the submission atomically.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dmp import document_urls, pdsm_patch, terminology
from dmp.fhir import (
    MHD_LIST_TYPES,
    bad_request,
    copied,
    first_token,
    instant,
    parse_datetime,
    token,
)
from dmp.format_content import check_format_content
from dmp.iti65_resolve import Resolver, author_of, check_integrity, content_of, patient_ins, patient_resource_ins
from ins import InsIdentifier
from sandbox.errors import FhirError, issue

SUPPORTED_RELATES = ("replaces",)
_ID_RE = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")


@dataclass
class NewDocument:
    row: dict[str, Any]
    at: str
    replaces: str = ""  # target DocumentReference id


@dataclass
class TargetPatch:
    target: str
    ops: list[pdsm_patch.Op]
    at: str


@dataclass
class Submission:
    patient_ins: str
    patient_system: str  # the INS system as the vendor sent it (never rewritten)
    documents: list[NewDocument] = field(default_factory=list)
    binaries: list[dict[str, Any]] = field(default_factory=list)
    lists: list[dict[str, Any]] = field(default_factory=list)
    patches: list[TargetPatch] = field(default_factory=list)
    responses: list[dict[str, Any]] = field(default_factory=list)  # one per entry, in order
    to_validate: list[tuple[dict[str, Any], str]] = field(default_factory=list)
    #: folder id -> index of its response (MHD addToFolder: PUT List/<id> updates an existing folder)
    folder_puts: dict[str, int] = field(default_factory=dict)
    warnings: list[dict[str, Any]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {"patient": self.patient_ins, "documents": [d.row["id"] for d in self.documents],
                "masterIdentifiers": [d.row["master_id"] for d in self.documents],
                "replaces": [d.replaces for d in self.documents if d.replaces],
                "binaries": len(self.binaries), "lists": [row["kind"] for row in self.lists]}


def _fail(status: int, code: str, text: str, at: str | None = None) -> FhirError:
    return FhirError(status, code, text, expression=at)


def _list_kind(res: dict[str, Any]) -> str:
    for c in (res.get("code") or {}).get("coding") or []:
        if isinstance(c, dict) and c.get("system") in (MHD_LIST_TYPES, None) \
                and c.get("code") in ("submissionset", "folder"):
            return c["code"]
    return ""


def parse(bundle: Any, *, now: datetime, caller_id: str, caller_family: str = "",
          caller_given: str = "", workspace: str) -> Submission:
    """Check and translate an ITI-65 Bundle; raises :class:`FhirError` (400/422) on bad input. Content
    URLs are stored relative to the FHIR base (:mod:`dmp.document_urls`, issue 19)."""
    try:
        return _parse(bundle, now=now, caller_id=caller_id, caller_family=caller_family,
                      caller_given=caller_given, workspace=workspace)
    except (TypeError, AttributeError, KeyError, IndexError, ValueError) as exc:
        # an element of an unexpected JSON type deep inside a resource: bad input, never a 500
        raise bad_request(f"Bundle mal formé : élément de type JSON inattendu ({type(exc).__name__}: "
                          f"{str(exc)[:120]})", "Bundle") from None


def _parse(bundle: Any, *, now: datetime, caller_id: str, caller_family: str,
           caller_given: str, workspace: str) -> Submission:
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        found = bundle.get("resourceType") if isinstance(bundle, dict) else type(bundle).__name__
        raise bad_request(f"ITI-65 attend une ressource Bundle, reçu {found!r}", "Bundle")
    if bundle.get("type") != "transaction":
        raise bad_request(f"Bundle.type {bundle.get('type')!r} : 'transaction' attendu (ITI-65)", "Bundle.type")
    entries = bundle.get("entry")
    if not isinstance(entries, list) or not entries or not all(isinstance(e, dict) for e in entries):
        raise bad_request("Bundle.entry vide ou invalide", "Bundle.entry")
    resolver = Resolver(entries)
    errors: list[dict[str, Any]] = []
    for i, e in enumerate(entries):
        res, req = e.get("resource"), e.get("request")
        if not isinstance(res, dict) or not isinstance(res.get("resourceType"), str):
            raise bad_request("entrée sans ressource", f"Bundle.entry[{i}].resource")
        if not isinstance(req, dict) or req.get("method") not in ("POST", "PUT", "PATCH"):
            raise bad_request("entry.request.method POST/PUT/PATCH requis", f"Bundle.entry[{i}].request")
        if req["method"] == "PUT":
            rtype, _, rid = str(req.get("url") or "").partition("/")
            rid = rid or str(e["resource"].get("id") or "")  # MHD's addToFolder example PUTs to "List"
            if rtype != "List" or not _ID_RE.match(rid):
                raise bad_request("PUT n'est admis que pour un dossier : List/<id>", f"Bundle.entry[{i}].request.url")
            resolver.new_ids[e.get("fullUrl") or f"#entry{i}"] = rid
        elif req["method"] == "POST":
            resolver.new_ids[e.get("fullUrl") or f"#entry{i}"] = uuid.uuid4().hex
    kinds = [(i, _list_kind(e["resource"])) for i, e in enumerate(entries) if e["resource"]["resourceType"] == "List"]
    if not any(k == "submissionset" for _, k in kinds):
        raise _fail(422, "required", "SubmissionSet (List code=submissionset) manquant (ITI-65)", "Bundle.entry")
    # the patient: every DocumentReference and List must name the same INS
    patients: dict[str, InsIdentifier] = {}
    for i, e in enumerate(entries):
        res = e["resource"]
        if res["resourceType"] in ("DocumentReference", "List") and _list_kind(res) != "folder":
            at = f"Bundle.entry[{i}].resource.subject"
            ins = patient_ins(res.get("subject"), res, resolver, at)
            if ins is None:
                raise _fail(422, "required", "patient absent ou non identifié par son INS (subject : "
                                             "Patient?identifier=urn:oid:1.2.250.1.213.1.4.8|<INS>)", at)
            patients[at] = ins
    if len({p.value for p in patients.values()}) != 1:
        raise _fail(422, "invalid", "les ressources du lot désignent des patients différents",
                    next(iter(patients)) if patients else "Bundle")
    first = next(iter(patients.values()))
    sub = Submission(first.value, first.system)
    stamp = instant(now)

    def new_id(i: int) -> str:
        return resolver.new_ids[entries[i].get("fullUrl") or f"#entry{i}"]

    def ref_of(r: str, at: str) -> str:
        idx, target = resolver.entry(r, at)
        return f"{target['resourceType']}/{new_id(idx)}"

    masters: set[str] = set()
    for i, e in enumerate(entries):
        res, method = e["resource"], e["request"]["method"]
        at = f"Bundle.entry[{i}].resource"
        rtype = res["resourceType"]
        if method == "PATCH":
            url = str(e["request"].get("url") or "")
            if rtype != "Parameters" or not url.startswith("DocumentReference/"):
                raise _fail(422, "not-supported", "seul un PATCH FHIRPath (Parameters) d'un DocumentReference est "
                                                  "admis dans un lot (PDSm4DMP TD2.1)", f"Bundle.entry[{i}]")
            try:
                ops = pdsm_patch.parse_fhirpath_patch(res, sub.warnings)
            except pdsm_patch.PatchError as exc:
                raise _fail(exc.status, exc.code, exc.text, at) from None
            sub.patches.append(TargetPatch(url.split("/", 1)[1].split("/")[0], ops, at))
            sub.responses.append({})  # filled when applied
            continue
        nid = new_id(i)
        if rtype == "Patient":
            ins = patient_resource_ins(res, f"{at}.identifier")
            sub.responses.append({"status": "200 OK", "location": f"Patient/{ins.value}"})
            continue
        if rtype == "Binary":
            sub.responses.append({"status": "201 Created", "location": f"Binary/{nid}", "etag": 'W/"1"',
                                  "lastModified": stamp})
            continue
        if rtype == "Bundle":  # a FHIR document carried as the content of a DocumentReference
            sub.responses.append({"status": "201 Created", "location": f"Binary/{nid}", "etag": 'W/"1"',
                                  "lastModified": stamp})
            continue
        if rtype == "DocumentReference":
            doc = _document(res, at, nid, i, sub, resolver, ref_of, now, workspace, caller_id,
                            caller_family, caller_given, errors)
            if doc.row["master_id"] in masters:
                raise _fail(409, "duplicate", f"masterIdentifier en double dans le lot : {doc.row['master_id']}",
                            f"{at}.masterIdentifier")
            masters.add(doc.row["master_id"])
            sub.documents.append(doc)
            sub.to_validate.append((res, at))
        elif rtype == "List":
            sub.lists.append(_list_row(res, at, nid, sub, resolver, ref_of, now, workspace, caller_id))
            if method == "PUT":
                sub.folder_puts[nid] = len(sub.responses)
            if _list_kind(res) == "submissionset":
                sub.to_validate.append((res, at))
        else:
            raise _fail(422, "not-supported", f"ressource {rtype} non admise dans un lot ITI-65", at)
        sub.responses.append({"status": "201 Created", "location": f"{rtype}/{nid}/_history/1", "etag": 'W/"1"',
                              "lastModified": stamp})
    if errors:
        raise FhirError(422, "invalid", "lot refusé", issues=errors + sub.warnings)
    if not sub.documents:
        raise _fail(422, "required", "aucun DocumentReference dans le lot", "Bundle.entry")
    # binaries are stored for what the documents reference (content resolved per document), under
    # the id their entry's location announces; one no document references is not kept
    stored = {b["id"] for b in sub.binaries}
    for i, e in enumerate(entries):
        if e["resource"]["resourceType"] in ("Binary", "Bundle") and new_id(i) not in stored:
            sub.responses[i] = {"status": "200 OK"}
            sub.warnings.append(issue("warning", "not-supported", "contenu qu'aucun DocumentReference ne référence "
                                                                  "(attachment.url) : non conservé",
                                      f"Bundle.entry[{i}].resource"))
    return sub


def _document(res: dict[str, Any], at: str, nid: str, i: int, sub: Submission, resolver: Resolver, ref_of: Any,
              now: datetime, workspace: str, caller_id: str, caller_family: str,
              caller_given: str, errors: list[dict[str, Any]]) -> NewDocument:
    mi = res.get("masterIdentifier")
    if not isinstance(mi, dict) or not isinstance(mi.get("value"), str) or not mi["value"]:
        raise _fail(422, "required", "masterIdentifier (uniqueId du document) manquant", f"{at}.masterIdentifier")
    master = f"{mi.get('system') or ''}|{mi['value']}"
    contents = res.get("content")
    if not isinstance(contents, list) or not contents or not isinstance(contents[0], dict) \
            or not isinstance(contents[0].get("attachment"), dict):
        raise _fail(422, "required", "content.attachment manquant", f"{at}.content")
    att_at = f"{at}.content[0].attachment"
    att = contents[0]["attachment"]
    data, ctype = content_of(att, resolver, att_at)
    size, digest = check_integrity(att, data, att_at)
    if att.get("contentType") and att["contentType"] != ctype:
        sub.warnings.append(issue("warning", "value", f"attachment.contentType {att['contentType']!r} ≠ "
                                                      f"Binary.contentType {ctype!r}", f"{att_at}.contentType"))
    ctype = att.get("contentType") or ctype
    found = terminology.check_class(res.get("category"), f"{at}.category")
    found += terminology.check_type(res.get("type"), f"{at}.type")
    fmt = contents[0].get("format")
    found += terminology.check_format(fmt, f"{at}.content[0].format")
    if isinstance(fmt, dict) and isinstance(fmt.get("code"), str):
        found += check_format_content(fmt["code"], ctype, data, f"{at}.content[0].format")
    vis = terminology.visibility(res.get("securityLabel"), f"{at}.securityLabel")
    found += vis.findings
    for f in found:
        (errors if f.severity == "error" else sub.warnings).append(issue(f.severity, f.code, f.text, f.expression))
    replaces = ""
    stored = copied(res)
    for j, rel in enumerate(res.get("relatesTo") or []):
        target = ((rel or {}).get("target") or {}).get("reference")
        rat = f"{at}.relatesTo[{j}]"
        if isinstance(target, str) and target.startswith("urn:uuid:"):
            stored["relatesTo"][j]["target"]["reference"] = ref_of(target, f"{rat}.target")
            continue
        if rel.get("code") not in SUPPORTED_RELATES:
            sub.warnings.append(issue("warning", "not-supported", f"relatesTo.code {rel.get('code')!r} non traité "
                                                                  "(seul 'replaces' l'est) : lien conservé", rat))
            continue
        if not isinstance(target, str) or not target.startswith("DocumentReference/"):
            raise _fail(422, "invalid", "relatesTo.target : DocumentReference/<id> attendu", f"{rat}.target")
        replaces = target.split("/")[1]
    # content given as a Bundle entry is stored under that entry's id (its response's location)
    bid = ref_of(att["url"], f"{att_at}.url").split("/", 1)[1] if not isinstance(att.get("data"), str) \
        else uuid.uuid4().hex
    if all(b["id"] != bid for b in sub.binaries):
        sub.binaries.append({"id": bid, "workspace": workspace, "content_type": ctype, "data": data})
    stored["id"] = nid
    stored["meta"] = {**(res.get("meta") or {}), "versionId": "1", "lastUpdated": instant(now)}
    stored["status"] = "current"
    stored["subject"] = _subject(res.get("subject"), sub)
    new_att = {k: v for k, v in att.items() if k != "data"}
    new_att.update({"url": document_urls.stored(bid), "size": size, "hash": digest, "contentType": ctype})
    stored["content"] = [{**contents[0], "attachment": new_att}] + contents[1:]
    if "date" not in stored:
        stored["date"] = instant(now)
    _, family, given = author_of(res, resolver)
    period = (res.get("context") or {}).get("period") or {}
    ctx = res.get("context") or {}
    row = {
        "id": nid, "workspace": workspace, "patient_ins": sub.patient_ins, "master_id": master,
        "status": "current", "version": 1, "date": parse_datetime(res.get("date")) or now,
        "creation": parse_datetime(att.get("creation")), "period_start": parse_datetime(period.get("start")),
        "period_end": parse_datetime(period.get("end")), "type_code": first_token(res.get("type")),
        "class_code": first_token((res.get("category") or [None])[0]),
        "format_code": token(contents[0].get("format")), "facility_code": first_token(ctx.get("facilityType")),
        "setting_code": first_token(ctx.get("practiceSetting")),
        "security": _tokens(c for lab in res.get("securityLabel") or [] for c in (lab or {}).get("coding") or []),
        "events": _tokens(c for ev in ctx.get("event") or [] for c in (ev or {}).get("coding") or []),
        "related": _tokens({"system": (r.get("identifier") or {}).get("system"),
                             "code": (r.get("identifier") or {}).get("value")} for r in ctx.get("related") or []
                            if isinstance(r, dict)),
        "masked_ps": vis.masked_ps, "invisible_patient": vis.invisible_patient, "invisible_rl": vis.invisible_rl,
        "is_archived": pdsm_patch.is_archived(res), "author_id": caller_id,
        "author_family": (family or caller_family)[:100], "author_given": (given or caller_given)[:100],
        "relates_to": replaces, "submission_set": "", "binary_id": bid, "content_type": ctype[:100], "size": size,
        "hash": digest, "last_updated": now, "resource": stored,
    }
    return NewDocument(row, at, replaces)


def _tokens(codings: Any) -> str:
    toks = [token(c) for c in codings if isinstance(c, dict)]
    toks = [t for t in toks if t]
    return ("," + ",".join(toks) + ",")[:600] if toks else ""


def _subject(sent: Any, sub: Submission) -> Any:
    """The subject as the vendor sent it (FACTS §8.1: a TEST OID stays a TEST OID; judged, never
    rewritten). Only the references a server resolves in a transaction are resolved: a ``urn:uuid``
    naming a Patient entry (the name dies with the transaction) and a conditional
    ``Patient?identifier=`` become ``Patient/<INS>``, with the identifier system the vendor used."""
    ref = sent.get("reference") if isinstance(sent, dict) else None
    if isinstance(ref, str) and (ref.startswith("urn:uuid:") or ref.startswith("Patient?")):
        return {**sent, "reference": f"Patient/{sub.patient_ins}",
                "identifier": {"system": sub.patient_system, "value": sub.patient_ins}}
    return copied(sent)


def _list_row(res: dict[str, Any], at: str, nid: str, sub: Submission, resolver: Resolver, ref_of: Any,
              now: datetime, workspace: str, caller_id: str) -> dict[str, Any]:
    ins = sub.patient_ins
    stored = copied(res)
    for j, entry in enumerate(stored.get("entry") or []):
        item = (entry or {}).get("item") or {}
        ref = item.get("reference")
        if isinstance(ref, str) and ref.startswith("urn:uuid:"):
            item["reference"] = ref_of(ref, f"{at}.entry[{j}].item")
    stored["id"] = nid
    stored["meta"] = {**(res.get("meta") or {}), "versionId": "1", "lastUpdated": instant(now)}
    stored["subject"] = _subject(res.get("subject"), sub)
    ident = next((x for x in res.get("identifier") or [] if isinstance(x, dict) and x.get("value")), {})
    designation = next((first_token(x.get("valueCodeableConcept")) for x in res.get("extension") or []
                        if isinstance(x, dict) and str(x.get("url", "")).endswith("ihe-designationType")), "")
    return {"id": nid, "workspace": workspace, "patient_ins": ins, "kind": _list_kind(res),
            "status": res.get("status") or "current", "date": parse_datetime(res.get("date")) or now,
            "identifier": f"{ident.get('system') or ''}|{ident.get('value')}" if ident else "",
            "source_id": caller_id, "designation": designation[:200], "last_updated": now, "resource": stored}
