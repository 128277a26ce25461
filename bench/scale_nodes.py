"""One node against two on one database (issue 19, docs/scale.md): ITI-65 submissions/s and PSC
``client_credentials`` tokens/s through one ``mes-sandbox serve`` node, then spread over two, in
the same run; the one-node figure is the baseline of the ratio.

    python bench/scale_nodes.py [--database-url postgresql+asyncpg://postgres@127.0.0.1:5432/postgres]
                                [--submissions 600] [--tokens 2000] [--turns 3] [--concurrency 8] [--workers 1]

Both nodes are separate ``serve`` processes on one fresh database (PostgreSQL with
``--database-url``, else a SQLite file), sharing what a deployment's nodes share: the public base
URL, the PKI secret file; each has its own data folder. Both stay up the whole run; the one-node
and two-node measurements take turns (``--turns``), so a slow spell of this shared machine falls
on both alike. The requests are those of ``bench/dmp_ingest.py`` (its CR-BIO Bundle, its PSC token)
and ``bench/psc_tokens.py`` (client secret basic), sent by the lean load generator
(``bench/loadgen.py``) with the same total concurrency in both cases: with two nodes, half the
connections go to each, all pulling from one queue of requests.

A second node on the *same* machine adds processes, not cores: on 2 cores, the ratio says whether
nodes get in each other's way on the database (it should stay near 1.0, or above with ``--workers 1``),
not how a deployment with a machine per node scales.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import dmp_ingest  # noqa: E402
import loadgen  # noqa: E402

from sandbox.testing import free_port, fresh_database, spare_mail_ports  # noqa: E402

OIDC = "/psc/realms/esante-wallet/protocol/openid-connect"


def start_node(data: Path, db_url: str, public: str, secret: Path, workers: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "MES_SANDBOX_DATABASE_URL": db_url, "MES_SANDBOX_DATA_DIR": str(data),
           "MES_SANDBOX_PORT": str(port), "MES_SANDBOX_HTTPS_PORT": str(free_port()),
           "MES_SANDBOX_PUBLIC_BASE_URL": public, "MES_SANDBOX_PKI_SECRET_FILE": str(secret),
           **spare_mail_ports(), "MES_SANDBOX_PSC_ACCESS_TOKEN_TTL": "3600",
           "MES_SANDBOX_EVIDENCE_RETENTION_DAYS": "0", "MES_SANDBOX_WORKERS": str(workers),
           "MES_SANDBOX_OPEN_API": "true"}  # loopback bench: no API keys
    proc = subprocess.Popen([sys.executable, "-c", "from sandbox.cli import main; main()", "serve"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while True:
        try:
            with urllib.request.urlopen(base + "/health", timeout=1) as r:
                if r.status == 200:
                    return proc, base
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("mes-sandbox serve did not start") from None
            time.sleep(0.05)


async def spread(nodes: list[str], raws: list[bytes], concurrency: int, ok: int) -> float:
    """Requests/s for ``raws`` over ``concurrency`` connections split evenly over ``nodes``."""
    queue = iter(raws)
    failures: list[str] = []

    def check(status: int, body: bytes) -> None:
        if status != ok:
            failures.append(f"{status} {body[:200].decode(errors='replace')}")

    share = max(1, concurrency // len(nodes))
    t = time.perf_counter()
    counts = await asyncio.gather(*(loadgen.drive(n, queue, share, check) for n in nodes))
    elapsed = time.perf_counter() - t
    if failures:
        raise RuntimeError(f"{len(failures)} failed requests, first: {failures[0]}")
    return sum(c for c, _ in counts) / elapsed


async def run(args: argparse.Namespace, a: str, b: str) -> None:
    patients = dmp_ingest.open_qualified("default")
    token = dmp_ingest.pro_token(a)  # issued through A, used on both: one issuer for the deployment
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/fhir+json"}
    with httpx.Client(base_url=a, timeout=30) as c:
        r = c.post("/sandbox/api/workspaces/default/psc/clients", json={
            "client_id": "scale-bench", "client_secret": "scale-bench-secret", "redirect_uris": [dmp_ingest.CALLBACK],
            "grant_types": ["client_credentials"]})
        r.raise_for_status()
    basic = base64.b64encode(b"scale-bench:scale-bench-secret").decode()
    token_raw = loadgen.build("POST", a + OIDC + "/token", {
        "Authorization": f"Basic {basic}", "Content-Type": "application/x-www-form-urlencoded"},
        urlencode({"grant_type": "client_credentials", "scope": "scope_all"}).encode())
    counter = iter(range(10**9))

    def submissions(n: int) -> list[bytes]:
        return [loadgen.build("POST", a + "/dmp/fhir", headers,
                              json.dumps(dmp_ingest.bundle(patients[i % len(patients)], i)).encode())
                for i in (next(counter) for _ in range(n))]

    layouts = {"1 node": [a], "2 nodes": [a, b]}
    for nodes in layouts.values():  # warm-up: caches, connections, both nodes
        await spread(nodes, submissions(20), args.concurrency, 200)
        await spread(nodes, [token_raw] * 50, args.concurrency, 200)
    results: dict[str, dict[str, list[float]]] = {k: {"iti65": [], "tokens": []} for k in layouts}
    order = list(layouts)
    for turn in range(args.turns):
        for name in order if turn % 2 == 0 else order[::-1]:
            nodes = layouts[name]
            results[name]["iti65"].append(await spread(nodes, submissions(args.submissions // args.turns),
                                                       args.concurrency, 200))
            await asyncio.sleep(0.5)  # background work (evidence, audit) of the previous turn
            results[name]["tokens"].append(await spread(nodes, [token_raw] * (args.tokens // args.turns),
                                                        args.concurrency, 200))
            await asyncio.sleep(0.5)
    kind = "PostgreSQL" if args.database_url else "SQLite"
    print(f"# one node vs two on one {kind} database, {os.cpu_count()} CPU(s), {args.workers} worker process(es) "
          f"per node, total concurrency {args.concurrency}, {args.turns} turns each, load average "
          f"{os.getloadavg()[0]:.2f}")
    for what, label in (("iti65", "ITI-65 submissions/s"), ("tokens", "client_credentials tokens/s")):
        one, two = (statistics.median(results[k][what]) for k in layouts)
        print(f"{label:30} 1 node {one:8.1f}   2 nodes {two:8.1f}   ratio 2 nodes / 1 node = {two / one:.2f}   "
              f"(turns: 1 node {', '.join(f'{v:.0f}' for v in results['1 node'][what])}; "
              f"2 nodes {', '.join(f'{v:.0f}' for v in results['2 nodes'][what])})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--database-url", default="", help="PostgreSQL server URL (a fresh database is created); "
                                                       "default: SQLite file")
    ap.add_argument("--submissions", type=int, default=600, help="ITI-65 submissions per layout")
    ap.add_argument("--tokens", type=int, default=2000, help="client_credentials tokens per layout")
    ap.add_argument("--turns", type=int, default=3)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--workers", type=int, default=1, help="worker processes of each node (serve --workers)")
    args = ap.parse_args()
    if args.database_url:
        os.environ["MES_SANDBOX_TEST_DATABASE_URL"] = args.database_url
    else:
        os.environ.pop("MES_SANDBOX_TEST_DATABASE_URL", None)
    with tempfile.TemporaryDirectory(prefix="scale-bench-") as tmp, fresh_database(Path(tmp)) as db_url:
        public, secret = "http://sandbox.bench", Path(tmp) / "pki-secret"
        procs: list[subprocess.Popen] = []
        try:
            proc_a, a = start_node(Path(tmp) / "a", db_url, public, secret, args.workers)
            procs.append(proc_a)
            proc_b, b = start_node(Path(tmp) / "b", db_url, public, secret, args.workers)
            procs.append(proc_b)
            asyncio.run(run(args, a, b))
        finally:
            for p in procs:
                p.terminate()
                try:
                    p.wait(20)
                except subprocess.TimeoutExpired:
                    p.kill()


if __name__ == "__main__":
    main()
