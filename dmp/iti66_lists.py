"""ITI-66 Find Document Lists — PDSm Flux 5/6 on ``List`` (SubmissionSets and Folders; FACTS §3.2,
IHE MHD ITI-66): ``GET [base]/List`` requires ``patient`` or ``patient.identifier``; supports
``code`` (``submissionset`` | ``folder``), ``status``, ``date``, ``identifier``, ``designationType``,
``source`` (author IDNPS), ``_count``, ``_offset``, ``_sort`` (``date``/``-date``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dmp import store
from dmp.fhir import bad_request
from dmp.models import DmpListRow as L
from dmp.search_params import SearchQuery, count_offset, date_clause, like_escape, patient_ins, token_clause

CONTROL = ("patient", "patient.identifier", "patient:identifier", "_count", "_offset", "_sort", "_format")




def parse(params: dict[str, list[str]], workspace: str) -> SearchQuery:
    ins = patient_ins(params)
    if not ins:
        raise bad_request("ITI-66 : le paramètre patient (ou patient.identifier) est obligatoire", "patient")
    q = select(L).where(L.workspace == workspace, L.patient_ins == ins)
    ignored = []
    for name, values in params.items():
        for v in values:
            if name == "code":
                kinds = [c.rsplit("|", 1)[-1] for c in v.split(",")]
                q = q.where(L.kind.in_(kinds))
            elif name == "status":
                q = q.where(L.status.in_(v.split(",")))
            elif name == "date":
                q = q.where(date_clause(L.date, v, name))
            elif name == "identifier":
                q = q.where(L.identifier == v if "|" in v else L.identifier.like(f"%|{like_escape(v)}", escape="\\"))
            elif name == "designationType":
                q = q.where(token_clause(L.designation, v))
            elif name == "source":
                q = q.where(L.source_id == v.rsplit("/", 1)[-1])
            elif name not in CONTROL:
                ignored.append(name)
    sort = (params.get("_sort") or ["-date"])[0]
    if sort not in ("date", "-date"):
        raise bad_request(f"_sort non supporté : {sort!r} (date, -date)", "_sort")
    count, offset = count_offset(params)
    ordered = q.order_by(L.date.desc() if sort == "-date" else L.date.asc(), L.id)
    return SearchQuery(ins, ordered, count, offset, ignored)


async def run(s: AsyncSession, lq: SearchQuery) -> tuple[list[dict[str, Any]], int]:
    rows = (await s.scalars(lq.select.limit(lq.count).offset(lq.offset))).all() if lq.count else []
    return [r.resource for r in rows], await store.count(s, lq.select)
