"""ITI-67 Find Document References — PDSm Flux 5/6 "RechercheDocument", DMP TD3.1 (FACTS §3.2,
§8.13): ``GET [base]/DocumentReference`` requires ``patient`` or ``patient.identifier`` **and**
``status`` (400 OperationOutcome otherwise).

Parameters: ``status, identifier, type, category, facility, setting, format, security-label, event,
related, relatesTo, date, creation, period, period-start, period-end, isArchived, author.family,
author.given, _count, _offset, _sort`` (``date``, ``-date``, ``creation``, ``-creation``,
``period-start``, ``-period-start``). Unknown parameters are ignored and reported in an
``OperationOutcome`` entry (search mode ``outcome``). The query is one range scan of
``ix_dmp_documents_find`` plus the caller's visibility filters (:mod:`dmp.access_rules`).
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dmp import store
from dmp.access_rules import Decision
from dmp.fhir import BASE_PATH, bad_request
from dmp.models import DmpDocumentRow as D
from dmp.search_params import (
    SearchQuery,
    count_offset,
    date_clause,
    like_escape,
    multi_token_clause,
    patient_ins,
    string_clause,
    token_clause,
)
from sandbox.errors import issue

STATUSES = ("current", "superseded", "entered-in-error")
TOKENS = {"type": D.type_code, "category": D.class_code,
          "class": D.class_code, "facility": D.facility_code, "setting": D.setting_code, "format": D.format_code}
MULTI_TOKENS = {"security-label": D.security, "event": D.events, "related": D.related}
DATES = {"date": D.date, "creation": D.creation, "period-start": D.period_start, "period-end": D.period_end}
STRINGS = {"author.family": D.author_family, "author.given": D.author_given}
SORTS = {"date": D.date, "creation": D.creation, "period-start": D.period_start}
CONTROL = ("patient", "patient.identifier", "patient:identifier", "status", "_count", "_offset", "_sort",
           "_format", "_total", "identifier", "isArchived", "relatesTo", "period")




def parse(params: dict[str, list[str]], workspace: str) -> SearchQuery:
    ins = patient_ins(params)
    statuses = [s for v in params.get("status", []) for s in v.split(",") if s]
    if not ins or not statuses:
        raise bad_request("ITI-67 : les paramètres patient (ou patient.identifier) ET status sont obligatoires",
                          "patient" if not ins else "status")
    bad = [s for s in statuses if s not in STATUSES]
    if bad:
        raise bad_request(f"status inconnu : {bad[0]!r} ({', '.join(STATUSES)})", "status")
    q = select(*store.DOC_COLUMNS).where(D.workspace == workspace, D.patient_ins == ins,
                                         D.status.in_(statuses) if len(statuses) > 1 else D.status == statuses[0])
    ignored = []
    for name, values in params.items():
        for v in values:
            if name in TOKENS:
                q = q.where(token_clause(TOKENS[name], v))
            elif name in MULTI_TOKENS:
                q = q.where(multi_token_clause(MULTI_TOKENS[name], v))
            elif name in DATES:
                q = q.where(date_clause(DATES[name], v, name))
            elif name == "period":
                # overlap of the service period with the searched date
                q = q.where(date_clause(D.period_start, "le" + v.removeprefix("eq"), name))
            elif name in STRINGS:
                q = q.where(string_clause(STRINGS[name], v))
            elif name == "identifier":
                system, sep, value = v.rpartition("|")
                q = q.where(D.master_id == v if sep and system
                            else D.master_id.like(f"%|{like_escape(value or v)}", escape="\\"))
            elif name == "isArchived":
                if v not in ("true", "false"):
                    raise bad_request("isArchived : true ou false", "isArchived")
                q = q.where(D.is_archived.is_(v == "true"))
            elif name == "relatesTo":
                q = q.where(D.relates_to == v.rsplit("/", 1)[-1])
            elif name not in CONTROL:
                ignored.append(name)
    sort = (params.get("_sort") or ["-date"])[0]
    orders = []
    for key in sort.split(","):
        col = SORTS.get(key.lstrip("-"))
        if col is None:
            raise bad_request(f"_sort non supporté : {key!r} ({', '.join(SORTS)})", "_sort")
        orders.append(col.desc() if key.startswith("-") else col.asc())
    count, offset = count_offset(params)
    return SearchQuery(ins, q.order_by(*orders, D.id), count, offset, ignored)


def visible(q: Select, decision: Decision) -> Select:
    if decision.hide_masked_ps:
        q = q.where(D.masked_ps.is_(False))
    if decision.hide_invisible_patient:
        q = q.where(D.invisible_patient.is_(False))
    if decision.hide_invisible_rl:
        q = q.where(D.invisible_rl.is_(False))
    return q


async def run(s: AsyncSession, fq: SearchQuery, decision: Decision) -> tuple[list[store.Document], int]:
    q = visible(fq.select, decision)
    if not fq.count:
        return [], await store.count(s, q)
    # one round trip: the page and the total (window count over the same index range scan)
    rows = (await s.execute(q.add_columns(func.count().over()).limit(fq.count).offset(fq.offset))).all()
    if rows:
        total = int(rows[0][-1])
    else:
        total = 0 if fq.offset == 0 else await store.count(s, q)
    return [store.document_of(r) for r in rows], total


def searchset(base_url: str, resource_type: str, resources: list[dict[str, Any]], total: int,
              params: list[tuple[str, str]], count: int, offset: int, ignored: list[str]) -> dict[str, Any]:
    """A ``searchset`` Bundle with self/first/previous/next links (offset paging)."""
    here = f"{base_url}{BASE_PATH}/{resource_type}"
    kept = [(k, v) for k, v in params if k not in ("_offset", "_count")]

    def link(relation: str, off: int) -> dict[str, str]:
        query = urlencode(kept + [("_count", str(count)), ("_offset", str(off))])
        return {"relation": relation, "url": f"{here}?{query}"}

    links = [link("self", offset), link("first", 0)]
    if offset > 0:
        links.append(link("previous", max(0, offset - count)))
    if count and offset + count < total:
        links.append(link("next", offset + count))
    entries: list[dict[str, Any]] = [{"fullUrl": f"{here}/{r['id']}", "resource": r, "search": {"mode": "match"}}
                                     for r in resources]
    if ignored:
        entries.append({"resource": {"resourceType": "OperationOutcome", "issue": [
            issue("warning", "not-supported", f"paramètre de recherche ignoré : {n}", n)
            for n in sorted(set(ignored))]},
            "search": {"mode": "outcome"}})
    return {"resourceType": "Bundle", "id": uuid.uuid4().hex, "type": "searchset", "total": total, "link": links,
            "entry": entries}
