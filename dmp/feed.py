"""Storing an ITI-65 submission atomically (FACTS §3.2 "ITI-65 processed atomically", §3.3 TD2.1
replacement, §8.13): access rules, duplicate ``masterIdentifier``, replacement targets superseded in
the same transaction, audit trace, ``transaction-response`` with one ``201`` per created entry."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from dmp import audit, guard, identity, pdsm_patch, store, validation
from dmp.access_rules import Action
from dmp.auth import Caller
from dmp.fhir import instant, now
from dmp.iti65_provide import Submission, parse
from ins import Qualification
from sandbox.errors import FhirError, issue

if TYPE_CHECKING:
    from sandbox.context import SandboxContext
    from sandbox.evidence import Exchange
    from sandbox.evidence import Rows as EvidenceRows


@dataclass
class FeedResult:
    response: dict[str, Any]
    submission: Submission
    verdict: validation.Verdict
    emergency: bool = False


async def provide(ctx: SandboxContext, caller: Caller, bundle: Any, options: dict[str, Any],
                  size: int | None = None, evidence: Callable[[FeedResult], Exchange | None] | None = None,
                  ) -> FeedResult:
    """Store a parsed ITI-65 ``bundle`` (``size``: its bytes as received, for :mod:`sandbox.cpu`).
    ``evidence`` builds the exchange recording the result: it is written in the submission's own
    transaction (:meth:`sandbox.evidence.EvidenceRepository.write_in`)."""
    t = now()
    pro = caller.name.split(" ", 1)
    sub = parse(bundle, now=t, caller_id=caller.actor_id,
                caller_given=pro[0] if len(pro) > 1 else "", caller_family=pro[-1], workspace=caller.workspace)
    # validation is the CPU-heavy part of a submission: off the event loop when large (sandbox.cpu)
    verdict = await ctx.cpu.run(validation.validate_entries, sub.to_validate, validation.policy_of(options),
                                ctx.settings.language, size=size)
    if verdict.rejected:
        raise validation.ValidationRejected(verdict)
    ws, ins = caller.workspace, sub.patient_ins
    q = await identity.patient_qualification(
        ctx, ws, ins, persona_of=lambda: ctx.db.run(lambda c: store.persona_of(c, ws, ins), write=False))
    evidence_rows = None
    if evidence is not None:
        repo = ctx.recorder.repo

        def evidence_rows(result: FeedResult) -> EvidenceRows | None:
            exchange = evidence(result)
            return repo.parts([exchange]) if exchange is not None else None

    try:
        return await ctx.db.run(functools.partial(_store, caller, sub, t, q, verdict, evidence_rows))
    except IntegrityError:
        raise FhirError(409, "duplicate",
                        "masterIdentifier déjà présent dans le DMP (soumission concurrente)") from None


def _store(caller: Caller, sub: Submission, t: datetime, q: Qualification, verdict: validation.Verdict,
           evidence_rows: Callable[[FeedResult], EvidenceRows | None] | None, conn: Connection) -> FeedResult:
    """The submission's transaction, as one synchronous function (:meth:`sandbox.db.Database.run`:
    on SQLite its statements skip aiosqlite's thread trips, ≈ 2 ms of CPU per submission): the DMP
    and the access decision, the checks needing the database, the rows, the exchange recording the
    answer. Any exception rolls it back."""
    dmp, duplicates = store.dmp_for_feed(conn, caller.workspace, sub.patient_ins,
                                         [d.row["master_id"] for d in sub.documents])
    decision = guard.allowed(caller, sub.patient_ins, Action.FEED, "iti-65", dmp, ins_qualified=q.qualified)
    _judge_oid(sub, q.oid)
    new_lists = _prepare(conn, caller, sub, t, duplicates)
    trace = guard.audit_record(caller, sub.patient_ins, "iti-65", "0", decision,
                               entity=",".join(f"DocumentReference/{d.row['id']}" for d in sub.documents)[:300],
                               documents=[d.row["master_id"] for d in sub.documents])
    # the answer is known once the checks above have run: its exchange goes in with the rows
    result = FeedResult(_response(sub, verdict), sub, verdict, decision.emergency)
    store.insert_submission(conn, sub.binaries, [d.row for d in sub.documents], new_lists, [audit.row_of(trace)],
                            evidence_rows(result) if evidence_rows is not None else None)
    return result


def _prepare(conn: Connection, caller: Caller, sub: Submission, t: datetime, duplicates: int) -> list[dict[str, Any]]:
    """Checks needing the database (duplicates, replacement targets), supersede the targets, update
    existing folders; returns the List rows still to insert."""
    if duplicates:
        taken = store.existing_masters(conn, caller.workspace, [d.row["master_id"] for d in sub.documents])
        d = next(d for d in sub.documents if d.row["master_id"] in taken)
        raise FhirError(409, "duplicate", f"masterIdentifier déjà présent dans le DMP : {d.row['master_id']}",
                        expression=f"{d.at}.masterIdentifier")
    targets: dict[str, store.Document] = {}
    for d in sub.documents:
        if not d.replaces:
            continue
        target = store.document_in(conn, caller.workspace, d.replaces)
        where = f"{d.at}.relatesTo"
        if target is None:
            raise FhirError(422, "not-found", f"document remplacé inconnu : DocumentReference/{d.replaces}",
                            expression=where)
        if target.patient_ins != sub.patient_ins:
            raise FhirError(422, "invalid", "le document remplacé appartient à un autre patient", expression=where)
        if target.status != "current":
            raise FhirError(409, "conflict", f"le document remplacé est au statut {target.status!r}",
                            expression=where)
        targets[target.id] = target
    patched: dict[str, dict[str, Any]] = {tid: t.resource for tid, t in targets.items()}
    for p in sub.patches:
        if p.target not in targets:
            raise FhirError(422, "business-rule", "PATCH dans un lot : la cible doit être remplacée (relatesTo "
                                                  f"replaces) par un document du même lot ({p.target})",
                            expression=p.at)
        try:
            out = pdsm_patch.apply(patched[p.target], p.ops, sub.warnings, replaced=True)
        except pdsm_patch.PatchError as exc:
            raise FhirError(exc.status, exc.code, exc.text, expression=p.at) from None
        patched[p.target] = out.resource
    versions: dict[str, int] = {}
    for tid, target in targets.items():
        res = dict(patched[tid])
        res["status"] = "superseded"
        v = target.version + 1
        res["meta"] = {**(res.get("meta") or {}), "versionId": str(v), "lastUpdated": instant(t)}
        if not store.supersede(conn, tid, target.version, {
                "status": "superseded", "version": v, "last_updated": t, "resource": res}):
            raise FhirError(409, "conflict", f"DocumentReference/{tid} modifié en parallèle")
        versions[tid] = v
    patch_iter = iter(sub.patches)
    for i, r in enumerate(sub.responses):
        if not r:
            p = next(patch_iter)
            sub.responses[i] = {"status": "200 OK", "location": f"DocumentReference/{p.target}/_history/"
                                                                f"{versions[p.target]}",
                                "etag": f'W/"{versions[p.target]}"', "lastModified": instant(t)}
    ss = next((row["id"] for row in sub.lists if row["kind"] == "submissionset"), "")
    for d in sub.documents:
        d.row["submission_set"] = ss
    new_lists = []
    for row in sub.lists:
        existing = store.list_in(conn, caller.workspace, row["id"]) if row["id"] in sub.folder_puts else None
        if existing is None:
            new_lists.append(row)
            continue
        if existing.kind != "folder" or existing.patient_ins != sub.patient_ins:
            raise FhirError(422, "business-rule", f"List/{row['id']} n'est pas un dossier de ce patient")
        store.update_list(conn, row["id"], {"resource": row["resource"], "date": row["date"],
                                            "last_updated": row["last_updated"]})
        sub.responses[sub.folder_puts[row["id"]]] = {"status": "200 OK", "location": f"List/{row['id']}",
                                                     "lastModified": instant(t)}
    return new_lists


def _judge_oid(sub: Submission, oid: str | None) -> None:
    """The INS system is stored as sent and judged here (FACTS §8.1: INSi answers ``.8`` even for
    test identities; ``.10`` is the TEST OID, ``.11`` DEMO): a warning when it is not the OID the
    reference identity carries."""
    if oid and sub.patient_system != f"urn:oid:{oid}":
        sub.warnings.append(issue("warning", "business-rule",
                                  f"[dmp.ins.oid] INS {sub.patient_ins} transmis sous le système {sub.patient_system} "
                                  f"alors que l'INSi l'a renvoyé sous urn:oid:{oid} : conservé tel quel",
                                  "Bundle.entry"))


def _response(sub: Submission, verdict: validation.Verdict) -> dict[str, Any]:
    notes = sub.warnings + [i for i in verdict.issues if i["severity"] != "information"]
    entries = [{"response": dict(r)} for r in sub.responses]
    if notes:
        leftovers = []
        for note in notes:
            expr = (note.get("expression") or [""])[0]
            idx = _entry_index(expr)
            if idx is not None and idx < len(entries):
                entries[idx]["response"].setdefault("outcome", {"resourceType": "OperationOutcome", "issue": []})[
                    "issue"].append(note)
            else:
                leftovers.append(note)
        if leftovers:
            entries[0]["response"].setdefault("outcome", {"resourceType": "OperationOutcome", "issue": []})[
                "issue"].extend(leftovers)
    return {"resourceType": "Bundle", "id": uuid.uuid4().hex, "type": "transaction-response", "entry": entries}


def _entry_index(expr: str) -> int | None:
    if expr.startswith("Bundle.entry["):
        num = expr[len("Bundle.entry["):].split("]", 1)[0]
        return int(num) if num.isdigit() else None
    return None
