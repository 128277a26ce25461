"""INSi traits lookup benchmark: 1,000,000 synthetic identities, SQLite and PostgreSQL.

    .venv/bin/python bench/ins_lookup.py                       # SQLite, 1,000,000 identities
    .venv/bin/python bench/ins_lookup.py --db postgresql       # MES_SANDBOX_BENCH_PG or local server
    .venv/bin/python bench/ins_lookup.py --db both --http      # + SOAP round trips over HTTP

For each database: a fresh schema through the real migrations, a bulk load (SQLite executemany
on the raw driver, PostgreSQL ``COPY``), ``ANALYZE``, then the same sampled traits lookups issued
(a) as the raw SQLAlchemy query (:func:`ins.identities.traits_select`, the baseline) and (b)
through the domain function :meth:`ins.insi_service.InsiService.search_by_traits`, interleaved in
blocks so both see the same cache state. Prints lookups/s, p50/p99 latency and the ratios.
Target (issue 4): domain p99 ≤ 10 ms and ≥ 60 % of the raw-query throughput.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from ins.identities import IdentityRepository, traits_select  # noqa: E402
from ins.insi_service import InsiService  # noqa: E402
from ins.nir import nir_key  # noqa: E402
from ins.service import service as ins_service  # noqa: E402
from ins.traits import TraitsQuery  # noqa: E402
from sandbox import migrate  # noqa: E402
from sandbox.db import Database  # noqa: E402
from sandbox.models import WorkspaceRow  # noqa: E402

WORKSPACE = "bench"
PG_DEFAULT = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
COLUMNS = ("workspace", "id", "birth_name", "first_names", "sex", "birth_date", "birth_place", "number",
           "key", "oid", "history", "identity_status", "vitale_od", "vitale_rank")
SYLLABLES = ("MA", "RI", "DU", "BER", "LO", "PE", "TI", "GAR", "NOU", "VEL", "CHA", "MON", "SI", "ROU",
             "LE", "FON", "TAI", "BRI", "COR", "DE", "VAL", "MIR", "JO", "SAN")
FIRST = ("JEAN", "MARIE", "PIERRE", "ANNE", "LUC", "CLAIRE", "PAUL", "LEA", "HUGO", "EMMA", "LOUIS",
         "CHLOE", "JULES", "ZOE", "NOAH", "INES", "ADAM", "JADE", "RAPHAEL", "LOUISE")
COGS = ("75056", "13055", "69123", "31555", "06088", "44109", "2A004", "2B033", "99109", "97411")


def synthetic_rows(n: int, seed: int = 7):
    """Deterministic identities: ~13,800 names x 34,000 dates x 2 sexes (few collisions)."""
    rng = random.Random(seed)
    start = date(1930, 1, 1)
    for i in range(n):
        name = "".join(rng.choice(SYLLABLES) for _ in range(rng.choice((2, 3))))
        sex = rng.choice("MF")
        birth = start + timedelta(days=rng.randrange(34000))
        cog = rng.choice(COGS)
        number = f"{1 if sex == 'M' else 2}{birth.year % 100:02d}{birth.month:02d}{cog}{i % 999 + 1:03d}"
        firsts = " ".join(rng.sample(FIRST, rng.choice((1, 2, 3))))
        yield (WORKSPACE, f"b{i:07d}", name, firsts, sex, birth.isoformat(), cog, number,
               f"{nir_key(number):02d}", "1.2.250.1.213.1.4.8", "[]", "QUAL", None, None)


async def prepare(url: str) -> Database:
    db = Database(url)
    await migrate.upgrade(db, [ins_service])
    async with db.session() as s:
        await s.execute(insert(WorkspaceRow).values(name=WORKSPACE, title=WORKSPACE,
                                                    created_at=datetime.now(UTC), options={}))
    return db


def load_sqlite(path: str, n: int) -> None:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    rows = synthetic_rows(n)
    sql = f"INSERT INTO ins_identities ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
    while True:
        batch = [r for _, r in zip(range(50_000), rows, strict=False)]
        if not batch:
            break
        conn.executemany(sql, batch)
    conn.commit()
    conn.execute("ANALYZE")
    conn.close()


async def load_postgres(db: Database, n: int) -> None:
    async with db.engine.connect() as conn:
        raw = (await conn.get_raw_connection()).driver_connection
        rows = synthetic_rows(n)
        while True:
            batch = [r for _, r in zip(range(100_000), rows, strict=False)]
            if not batch:
                break
            await raw.copy_records_to_table("ins_identities", records=batch, columns=list(COLUMNS))
        await raw.execute("ANALYZE ins_identities")


def sample_queries(n: int, k: int, seed: int = 11) -> list[TraitsQuery]:
    """k lookups: 90 % existing identities (one of their first names), 10 % misses."""
    wanted = set(random.Random(seed).sample(range(n), int(k * 0.9)))
    out: list[TraitsQuery] = []
    for i, row in enumerate(synthetic_rows(n)):
        if i in wanted:
            out.append(TraitsQuery(row[2], (row[3].split()[0],), row[4], row[5]))
    rng = random.Random(seed + 1)
    for _ in range(k - len(out)):
        out.append(TraitsQuery("ZZ" + rng.choice(SYLLABLES), ("JEAN",), "M", "1970-01-01"))
    rng.shuffle(out)
    return out


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(len(s) * p))]


async def measure(db: Database, queries: list[TraitsQuery], block: int = 250) -> dict[str, list[float]]:
    insi = InsiService(IdentityRepository(db), "1.2.250.1.213.1.4.8")

    async def raw(q: TraitsQuery) -> None:
        async with db.engine.connect() as conn:
            (await conn.execute(traits_select(WORKSPACE, q.birth_name, q.birth_date, q.sex))).all()

    async def domain(q: TraitsQuery) -> None:
        await insi.search_by_traits(WORKSPACE, q)

    for q in queries[:200]:  # warm-up (connections, statement caches)
        await raw(q)
        await domain(q)
    times: dict[str, list[float]] = {"raw": [], "domain": []}
    for b in range(0, len(queries), block):
        chunk = queries[b:b + block]
        order = (("raw", raw), ("domain", domain)) if (b // block) % 2 == 0 else (("domain", domain), ("raw", raw))
        for label, fn in order:
            for q in chunk:
                t0 = time.perf_counter()
                await fn(q)
                times[label].append(time.perf_counter() - t0)
    return times


def http_round_trips(url: str, queries: list[TraitsQuery]) -> list[float]:
    """SOAP lookups through the full app (parsing, faults check, evidence) against the same DB."""
    from sandbox.testing import running_sandbox

    fixtures = Path(__file__).resolve().parents[1] / "tests/ins/fixtures"
    template = (fixtures / "rechercherInsAvecTraitsIdentite.xml").read_text()
    head, tail = template.split("<ins:RECSANSVITALE>")[0], template.split("</ins:RECSANSVITALE>")[1]
    for k, v in {"{iso-datetime}": "2026-11-22T10:00:00Z", "{emitter}": "BENCH", "{n° autorisation CNDA}": "AM1",
                 "{v}": "1", "{name}": "BENCH"}.items():
        head = head.replace(k, v)
    times: list[float] = []
    with running_sandbox(database_url=url) as sb, sb.client() as c:  # the operator key: INSi on plain HTTP
        for i, q in enumerate(queries):
            body = (head.replace("{uuid}", str(uuid.uuid4())) + "<ins:RECSANSVITALE>"
                    f"<ins:NomNaissance>{q.birth_name}</ins:NomNaissance><ins:Prenom>{q.first_names[0]}</ins:Prenom>"
                    f"<ins:Sexe>{q.sex}</ins:Sexe><ins:DateNaissance>{q.birth_date}</ins:DateNaissance>"
                    "</ins:RECSANSVITALE>" + tail)
            t0 = time.perf_counter()
            r = c.post("/ins/insi", content=body.encode(), headers={
                "content-type": "application/soap+xml; charset=utf-8", "x-sandbox-workspace": WORKSPACE})
            if i >= 50:
                times.append(time.perf_counter() - t0)
            assert r.status_code == 200, r.text[:500]
    return times


def report(label: str, times: dict[str, list[float]]) -> dict[str, float]:
    out = {}
    for kind, values in times.items():
        total = sum(values)
        out[f"{kind}_rps"] = len(values) / total
        out[f"{kind}_p50"] = statistics.median(values) * 1000
        out[f"{kind}_p99"] = pct(values, 0.99) * 1000
        print(f"  {label:10s} {kind:7s} {len(values):6d} lookups  {out[f'{kind}_rps']:9.0f}/s  "
              f"p50 {out[f'{kind}_p50']:6.2f} ms  p99 {out[f'{kind}_p99']:6.2f} ms")
    if "raw_rps" in out and "domain_rps" in out:
        ratio = out["domain_rps"] / out["raw_rps"]
        ok = ratio >= 0.6 and out["domain_p99"] <= 10
        print(f"  {label:10s} domain/raw throughput {ratio:.0%}, p99 ratio "
              f"{out['domain_p99'] / out['raw_p99']:.2f}x  -> target {'MET' if ok else 'MISSED'}")
    return out


async def run_one(kind: str, n: int, k: int, http: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="ins-bench-"))
    admin = None
    if kind == "sqlite":
        url = f"sqlite+aiosqlite:///{(tmp / 'bench.db').as_posix()}"
    else:
        import asyncpg

        admin = make_url(os.environ.get("MES_SANDBOX_BENCH_PG", PG_DEFAULT))
        name = f"insbench_{uuid.uuid4().hex[:8]}"
        conn = await asyncpg.connect(host=admin.host, port=admin.port or 5432, user=admin.username,
                                     password=admin.password, database=admin.database or "postgres")
        await conn.execute(f'CREATE DATABASE "{name}"')
        await conn.close()
        url = admin.set(database=name).render_as_string(hide_password=False)
    try:
        db = await prepare(url)
        t0 = time.perf_counter()
        if kind == "sqlite":
            await db.dispose()
            load_sqlite(str(tmp / "bench.db"), n)
            db = Database(url)
        else:
            await load_postgres(db, n)
        print(f"[{kind}] loaded {n:,} identities in {time.perf_counter() - t0:.1f} s")
        queries = sample_queries(n, k)
        times = await measure(db, queries)
        await db.dispose()
        report(kind, times)
        if http:
            soap = await asyncio.to_thread(http_round_trips, url, queries[:http + 50])
            report(kind + "/http", {"soap": soap})
    finally:
        if admin is not None:
            import asyncpg

            conn = await asyncpg.connect(host=admin.host, port=admin.port or 5432, user=admin.username,
                                         password=admin.password, database=admin.database or "postgres")
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="sqlite")
    parser.add_argument("--identities", type=int, default=1_000_000)
    parser.add_argument("--lookups", type=int, default=5000)
    parser.add_argument("--http", type=int, nargs="?", const=1000, default=0,
                        help="also time N SOAP lookups over HTTP (default 1000 when given)")
    args = parser.parse_args()
    kinds = ("sqlite", "postgresql") if args.db == "both" else (args.db,)
    for kind in kinds:
        asyncio.run(run_one(kind, args.identities, args.lookups, args.http))


if __name__ == "__main__":
    main()
