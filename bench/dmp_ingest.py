"""DMP throughput and latency (issue 5 "Performance"), each with a SQLAlchemy-only baseline measured
in the same run:

- **ITI-65**: submissions per second, one CR-BIO document each, validation on (workspace policy
  ``reject``), PSC bearer token, over HTTP with ``--concurrency`` clients; baseline: the same rows
  (binary, document, submission set, audit trace) inserted through SQLAlchemy alone, one
  transaction per submission, same concurrency.
- **ITI-67**: p50/p95 latency of ``GET /dmp/fhir/DocumentReference?patient=...&status=current``
  with ``--docs`` DocumentReferences in the table (bulk-loaded: COPY on PostgreSQL, executemany on
  SQLite), over HTTP, sequential; baseline: the same indexed query through SQLAlchemy alone.

    python bench/dmp_ingest.py [--database-url postgresql+asyncpg://postgres@127.0.0.1:5432/postgres]
                               [--submissions 2000] [--concurrency 8] [--docs 1000000] [--queries 500]

Targets (2-core machine): ITI-65 ≥ 200/s; ITI-67 p95 ≤ 20 ms at 1,000,000 documents on PostgreSQL.
The sandbox runs as its own ``mes-sandbox serve`` process so the load generator does not share its GIL.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import loadgen  # noqa: E402
from proc_cpu import cpu_seconds  # noqa: E402
from sqlalchemy import text  # noqa: E402

from dmp import audit as dmp_audit  # noqa: E402
from dmp import iti67_find, store  # noqa: E402
from dmp.access_rules import Decision  # noqa: E402
from dmp.search_params import grouped  # noqa: E402
from dmp.seed import plan  # noqa: E402
from sandbox.db import Database  # noqa: E402
from sandbox.personas.generate import generate_world  # noqa: E402
from sandbox.testing import free_port, fresh_database, spare_mail_ports  # noqa: E402

OIDC = "/psc/realms/esante-wallet/protocol/openid-connect"
WALLET_AUTH = "/psc/wallet/auth"  # PSC authorizes on its wallet host (psc/README.md)
CALLBACK = "http://127.0.0.1:8000/callback"
PRO = "899700218896"
INS_SYSTEM = "urn:oid:1.2.250.1.213.1.4.8"
CDA = (b'<?xml version="1.0" encoding="UTF-8"?><ClinicalDocument xmlns="urn:hl7-org:v3">'
       + b"<title>Compte rendu d'examens biologiques</title>" + b"<component/>" * 200 + b"</ClinicalDocument>")
SEED = 20240101



def sha1(data: bytes) -> str:
    return base64.b64encode(hashlib.sha1(data).digest()).decode()  # noqa: S324 - FHIR Attachment.hash


def bundle(ins: str, n: int) -> dict:
    """One CR-BIO submission (same shape as tests/dmp/dmp_helpers.cr_bio_bundle)."""
    ss, dr, bn = (f"urn:uuid:{uuid.uuid4()}" for _ in range(3))
    subject = {"reference": f"Patient?identifier={INS_SYSTEM}|{ins}"}
    author = {"resourceType": "Practitioner", "id": "auteur",
              "identifier": [{"system": "urn:oid:1.2.250.1.71.4.2.1", "value": PRO}],
              "name": [{"family": "BIOLOGISTE", "given": ["PAUL"]}]}
    nos = "https://mos.esante.gouv.fr/NOS"
    return {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": ss, "request": {"method": "POST", "url": "List"}, "resource": {
            "resourceType": "List", "status": "current", "mode": "working", "contained": [author],
            "extension": [
                {"url": "https://profiles.ihe.net/ITI/MHD/StructureDefinition/ihe-designationType",
                 "valueCodeableConcept": {"coding": [{"system": f"{nos}/TRE_A00-ProducteurDocNonPS/FHIR/"
                                                                "TRE-A00-ProducteurDocNonPS", "code": "04"}]}},
                {"url": "https://profiles.ihe.net/ITI/MHD/StructureDefinition/ihe-sourceId",
                 "valueIdentifier": {"system": "urn:ietf:rfc:3986", "value": "urn:oid:1.2.250.1.999.1"}}],
            "code": {"coding": [{"system": "https://profiles.ihe.net/ITI/MHD/CodeSystem/MHDlistTypes",
                                 "code": "submissionset"}]},
            "subject": subject, "date": "2026-11-20T10:00:00+01:00", "source": {"reference": "#auteur"},
            "identifier": [{"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{uuid.uuid4()}"}],
            "entry": [{"item": {"reference": dr}}]}},
        {"fullUrl": dr, "request": {"method": "POST", "url": "DocumentReference"}, "resource": {
            "resourceType": "DocumentReference",
            "meta": {"profile": ["https://interop.esante.gouv.fr/ig/fhir/pdsm/StructureDefinition/"
                                 "pdsm-comprehensive-document-reference"]},
            "contained": [author, {"resourceType": "Patient", "id": "patient",
                                   "identifier": [{"system": INS_SYSTEM, "value": ins}]}],
            "masterIdentifier": {"system": "urn:ietf:rfc:3986",
                                 "value": f"urn:oid:1.2.250.1.999.{n}.{uuid.uuid4().int % 10**9}"},
            "status": "current", "type": {"coding": [{"system": "http://loinc.org", "code": "11502-2"}]},
            "category": [{"coding": [{"system": f"{nos}/TRE_A03-ClasseDocument/FHIR/TRE-A03-ClasseDocument",
                                      "code": "10"}]}],
            "subject": subject, "date": "2026-11-20T10:00:00+01:00", "author": [{"reference": "#auteur"}],
            "custodian": {"display": "LABO"},
            "securityLabel": [{"coding": [{"system": f"{nos}/TRE_A08-HL7Confidentiality/FHIR/"
                                                     "TRE-A08-HL7Confidentiality",
                                           "code": "N"}]}],
            "content": [{"attachment": {"contentType": "text/xml", "url": bn, "size": len(CDA), "hash": sha1(CDA),
                                        "title": "CR de biologie", "creation": "2026-11-20T09:00:00+01:00"},
                         "format": {"system": f"{nos}/TRE_A06-FormatCodeComplementaire/FHIR/"
                                              "TRE-A06-FormatCodeComplementaire", "code": "urn:ihe:lab:xd-lab:2008"}}],
            "context": {"period": {"start": "2026-11-19T08:00:00+01:00"},
                        "facilityType": {"coding": [{"system": f"{nos}/TRE_R02-SecteurActivite/FHIR/"
                                                               "TRE-R02-SecteurActivite",
                                                     "code": "SA01"}]},
                        "practiceSetting": {"coding": [{"system": f"{nos}/TRE_A01-CadreExercice/FHIR/"
                                                                  "TRE-A01-CadreExercice",
                                                        "code": "ETABLISSEMENT"}]},
                        "sourcePatientInfo": {"reference": "#patient"}}}},
        {"fullUrl": bn, "request": {"method": "POST", "url": "Binary"},
         "resource": {"resourceType": "Binary", "contentType": "text/xml", "data": base64.b64encode(CDA).decode()}},
    ]}


def start_server(db_url: str, data: Path, workers: int = 1) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "MES_SANDBOX_DATABASE_URL": db_url, "MES_SANDBOX_DATA_DIR": str(data),
           "MES_SANDBOX_PORT": str(port), "MES_SANDBOX_HTTPS_PORT": str(free_port()), **spare_mail_ports(),
           "MES_SANDBOX_PSC_ACCESS_TOKEN_TTL": "3600", "MES_SANDBOX_EVIDENCE_RETENTION_DAYS": "0",
           "MES_SANDBOX_WORKERS": str(workers), "MES_SANDBOX_OPEN_API": "true"}  # loopback bench: no API keys
    proc = subprocess.Popen([sys.executable, "-c", "from sandbox.cli import main; main()", "serve"], env=env,
                            stdout=subprocess.DEVNULL,
                            stderr=open(os.environ["DMP_BENCH_LOG"], "w")
                            if os.environ.get("DMP_BENCH_LOG") else subprocess.DEVNULL)
    if os.environ.get("DMP_BENCH_PIDFILE"):
        Path(os.environ["DMP_BENCH_PIDFILE"]).write_text(str(proc.pid))
    base = f"http://127.0.0.1:{port}"
    for _ in range(3000):
        try:
            with urllib.request.urlopen(base + "/sandbox/api/workspaces", timeout=1) as r:
                if r.status == 200:
                    return proc, base
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError("mes-sandbox serve exited") from None
            time.sleep(0.05)
    raise RuntimeError("server did not start")


def pro_token(base: str) -> str:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    with httpx.Client(base_url=base, timeout=30) as c:
        secret = c.get("/sandbox/api/workspaces/default/psc/clients/sandbox-demo").json()["client_secret"]
        r = c.get(WALLET_AUTH, params={"response_type": "code", "client_id": "sandbox-demo",
                                       "redirect_uri": CALLBACK, "scope": "openid scope_all", "state": "s",
                                       "nonce": "n", "code_challenge": challenge, "code_challenge_method": "S256",
                                       "login_hint": PRO})
        code = parse_qs(urlsplit(r.headers["location"]).query)["code"][0]
        r = c.post(OIDC + "/token", data={"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK,
                                          "code_verifier": verifier}, auth=("sandbox-demo", secret))
        r.raise_for_status()
        return r.json()["access_token"]


def open_qualified(workspace: str) -> list[str]:
    world = generate_world(SEED)
    status = {p.ins.value: p.identity_status.value for p in world.patients}
    return [r["ins"] for r in plan(world, workspace) if r["status"] == "open" and r["authorize_all"]
            and not r["blocked"] and status[r["ins"]] == "QUAL"]


async def http_ingest(base: str, token: str, patients: list[str], n: int, concurrency: int,
                      server_pid: int) -> tuple[float, float]:
    """(submissions/s, server CPU ms per submission) through the lean load generator
    (bench/loadgen.py: httpx would take ≈ 3.5 ms of the machine's CPU per request from the server
    it measures)."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/fhir+json"}
    url = base + "/dmp/fhir"
    raws = [loadgen.build("POST", url, headers, json.dumps(bundle(patients[i % len(patients)], i)).encode())
            for i in range(-20, n)]
    failures: list[str] = []

    def check(status: int, body: bytes) -> None:
        if status != 200:
            failures.append(f"{status} {body[:300].decode(errors='replace')}")

    await loadgen.drive(url, iter(raws[:20]), concurrency, check)  # warm-up outside the clock
    before = cpu_seconds(server_pid)
    done, elapsed = await loadgen.drive(url, iter(raws[20:]), concurrency, check)
    cpu_ms = (cpu_seconds(server_pid) - before) * 1000 / done
    if failures:
        raise RuntimeError(f"{len(failures)} failed submissions, first: {failures[0]}")
    return done / elapsed, cpu_ms


def doc_row(workspace: str, ins: str, n: int, when: datetime, resource: dict) -> dict:
    return {"id": uuid.uuid4().hex, "workspace": workspace, "patient_ins": ins,
            "master_id": f"urn:ietf:rfc:3986|urn:oid:1.2.250.1.998.{n}",
            "status": "current", "version": 1, "date": when, "creation": when, "period_start": when, "period_end": None,
            "type_code": "http://loinc.org|11502-2", "class_code": "TRE_A03|10",
            "format_code": "TRE_A06|urn:ihe:lab:xd-lab:2008",
            "facility_code": "TRE_R02|SA01", "setting_code": "TRE_A01|ETABLISSEMENT", "security": ",TRE_A08|N,",
            "events": "", "related": "", "masked_ps": False, "invisible_patient": False, "invisible_rl": False,
            "is_archived": False, "author_id": PRO, "author_family": "BIOLOGISTE", "author_given": "PAUL",
            "relates_to": "",
            "submission_set": "", "binary_id": "", "content_type": "text/xml", "size": len(CDA), "hash": sha1(CDA),
            "last_updated": when, "resource": resource}


async def baseline_ingest(db: Database, patients: list[str], n: int, concurrency: int) -> float:
    """The same rows per submission (binary, document, submission set, audit) through the same
    ``store.insert_submission`` statement and door (``Database.run``), SQLAlchemy only, one
    transaction each."""
    now = datetime.now(UTC)
    res = bundle(patients[0], 0)["entry"][1]["resource"]
    lst = bundle(patients[0], 0)["entry"][0]["resource"]
    queue = iter(range(n))

    async def worker() -> None:
        for i in queue:
            ins = patients[i % len(patients)]
            row = doc_row("bench-baseline", ins, 10**8 + i, now, res)
            await db.run(lambda c, ins=ins, row=row: store.insert_submission(
                c, [{"id": row["id"], "workspace": "bench-baseline", "content_type": "text/xml", "data": CDA}],
                [row],
                [{"id": uuid.uuid4().hex, "workspace": "bench-baseline", "patient_ins": ins,
                  "kind": "submissionset",
                  "status": "current", "date": now, "identifier": "", "source_id": PRO, "designation": "",
                  "last_updated": now, "resource": lst}],
                [dmp_audit.row_of(dmp_audit.AuditRecord("bench-baseline", ins, "iti-65", "0", "professional",
                                                        PRO))]))
    t = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return n / (time.perf_counter() - t)


async def bulk_load(db: Database, patients: list[str], total: int) -> float:
    """``total`` DocumentReferences: ~100 per seeded patient, the rest over synthetic INS."""
    t = time.perf_counter()
    rnd = random.Random(7)
    small = {"resourceType": "DocumentReference", "status": "current",
             "type": {"coding": [{"system": "http://loinc.org", "code": "11502-2"}]}}
    base = datetime(2020, 1, 1, tzinfo=UTC)
    real = [p for p in patients for _ in range(100)]
    synthetic = max(1, (total - len(real)) // 100)
    pg = db.engine.dialect.name == "postgresql"
    async with db.engine.begin() as conn:
        await conn.execute(text("DROP INDEX IF EXISTS ix_dmp_documents_find"))
    batch = 20_000
    cols = list(doc_row("x", "x", 0, base, small).keys())
    for start in range(0, total, batch):
        rows = []
        for n in range(start, min(total, start + batch)):
            ins = real[n] if n < len(real) else f"9{(n % synthetic):014d}"
            r = doc_row("default", ins, n, base + timedelta(minutes=rnd.randrange(3_000_000)), small)
            r["id"] = f"{n:032x}"
            r["resource"] = {**small, "id": r["id"]}
            rows.append(r)
        if pg:
            async with db.engine.connect() as conn:
                raw = await conn.get_raw_connection()
                records = [tuple(json.dumps(r[c]) if c == "resource" else r[c] for c in cols) for r in rows]
                await raw.driver_connection.copy_records_to_table("dmp_documents", records=records, columns=cols)
                await conn.commit()
        else:
            async with db.session() as s:
                await store.insert_documents(s, rows)
    async with db.engine.begin() as conn:
        await conn.execute(text("CREATE INDEX IF NOT EXISTS ix_dmp_documents_find ON dmp_documents "
                                "(workspace, patient_ins, status, date)"))
        if pg:
            await conn.execute(text("ANALYZE dmp_documents"))
        else:
            await conn.execute(text("ANALYZE"))
    return time.perf_counter() - t


def percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


async def http_find(base: str, token: str, patients: list[str], queries: int) -> list[float]:
    out = []
    async with httpx.AsyncClient(base_url=base, timeout=60) as c:
        headers = {"Authorization": f"Bearer {token}"}
        for i in range(queries + 20):
            params = {"patient": f"Patient/{patients[i % len(patients)]}", "status": "current", "_count": "20"}
            t = time.perf_counter()
            r = await c.get("/dmp/fhir/DocumentReference", params=params, headers=headers)
            dt = time.perf_counter() - t
            if r.status_code != 200 or r.json()["total"] < 100:
                raise RuntimeError(f"ITI-67 answered {r.status_code}: {r.text[:300]}")
            if i >= 20:
                out.append(dt * 1000)
    return out


async def baseline_find(db: Database, patients: list[str], queries: int) -> list[float]:
    out = []
    allow = Decision(True, "bench", hide_masked_ps=False)
    for i in range(queries + 20):
        fq = iti67_find.parse(grouped([("patient", patients[i % len(patients)]), ("status", "current"),
                                       ("_count", "20")]), "default")
        t = time.perf_counter()
        async with db.session() as s:
            await iti67_find.run(s, fq, allow)
        dt = time.perf_counter() - t
        if i >= 20:
            out.append(dt * 1000)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--database-url", default="", help="PostgreSQL server URL (a fresh database is created); "
                                                       "default: SQLite file")
    ap.add_argument("--submissions", type=int, default=2000)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--docs", type=int, default=1_000_000)
    ap.add_argument("--queries", type=int, default=500)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                    help="sandbox worker processes (serve --workers; default: one per CPU)")
    args = ap.parse_args()
    if args.database_url:
        os.environ["MES_SANDBOX_TEST_DATABASE_URL"] = args.database_url
    else:
        os.environ.pop("MES_SANDBOX_TEST_DATABASE_URL", None)
    with tempfile.TemporaryDirectory(prefix="dmp-bench-") as tmp, fresh_database(Path(tmp)) as db_url:
        proc, base = start_server(db_url, Path(tmp), args.workers)
        try:
            asyncio.run(run(args, base, db_url, proc.pid))
        finally:
            proc.terminate()
            proc.wait(20)


async def run(args: argparse.Namespace, base: str, db_url: str, server_pid: int) -> None:
    kind = "PostgreSQL" if db_url.startswith("postgresql") else "SQLite"
    patients = open_qualified("default")
    token = pro_token(base)
    db = Database(db_url)
    try:
        print(f"# DMP bench on {kind}, {os.cpu_count()} CPU(s), sandbox with {args.workers} worker process(es); "
              f"{len(patients)} QUAL patients with an open DMP")
        rate, cpu_ms = await http_ingest(base, token, patients, args.submissions, args.concurrency, server_pid)
        base_rate = await baseline_ingest(db, patients, args.submissions, args.concurrency)
        print(f"ITI-65  {rate:8.1f} submissions/s over HTTP (validation on, concurrency {args.concurrency}); "
              f"SQLAlchemy-only baseline {base_rate:8.1f}/s; ratio endpoint/baseline = {rate / base_rate:.2f} "
              f"(target ≥ 200/s: {'met' if rate >= 200 else 'NOT met'})")
        print(f"ITI-65  server CPU {cpu_ms:6.2f} ms per submission (user + system, all worker processes)")
        loaded = await bulk_load(db, patients, args.docs)
        async with db.session() as s:
            count = await s.scalar(text("SELECT count(*) FROM dmp_documents"))
        print(f"bulk load: {args.docs} DocumentReferences in {loaded:.1f} s (table now {count} rows)")
        http = await http_find(base, token, patients, args.queries)
        raw = await baseline_find(db, patients, args.queries)
        p95, b95 = percentile(http, 95), percentile(raw, 95)
        print(f"ITI-67  p50 {percentile(http, 50):6.2f} ms  p95 {p95:6.2f} ms over HTTP ({args.queries} queries, "
              f"~100 matches each, _count=20, audit trace written); SQLAlchemy-only baseline p50 "
              f"{percentile(raw, 50):6.2f} ms p95 {b95:6.2f} ms; ratio p95 endpoint/baseline = {p95 / b95:.1f} "
              + (f"(target p95 ≤ 20 ms on PostgreSQL: {'met' if p95 <= 20 else 'NOT met'})" if kind == "PostgreSQL"
                 else "(the p95 target is PostgreSQL's)"))
        print(f"mean ITI-67 {statistics.mean(http):.2f} ms")
    finally:
        await db.dispose()


if __name__ == "__main__":
    main()
