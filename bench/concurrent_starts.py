"""First start of N nodes at once on one empty database (issue 19 "Done when": ten simultaneous
starts all come up). Each node is its own ``mes-sandbox serve`` process with its own data folder
and ports, all on one fresh database and one public base URL; the baseline is one node started
alone on another fresh database, measured in the same run.

    python bench/concurrent_starts.py [--database-url postgresql+asyncpg://postgres@127.0.0.1:5432/postgres]
                                      [--nodes 10]

Prints how many nodes came up, the time until the last one answered, and its ratio to the baseline.
Without ``--database-url`` the nodes share one SQLite file (one host only).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from sandbox.testing import TEST_DB_ENV, free_port, fresh_database, spare_mail_ports

SHARED_URL = "http://sandbox.bench.test"
CLI = [sys.executable, "-c", "from sandbox.cli import main; main()"]


def start_nodes(url: str, count: int, root: Path) -> tuple[int, float, list[str]]:
    """Start ``count`` nodes at once on ``url``; (nodes that answered, seconds to the last, failures)."""
    procs: list[tuple[subprocess.Popen[str], int]] = []
    t0 = time.perf_counter()
    for i in range(count):
        port = free_port()
        env = {**os.environ, "MES_SANDBOX_DATA_DIR": str(root / f"node{i}"), "MES_SANDBOX_DATABASE_URL": url,
               "MES_SANDBOX_PORT": str(port), "MES_SANDBOX_HTTPS_PORT": str(free_port()),
               "MES_SANDBOX_PUBLIC_BASE_URL": SHARED_URL, **spare_mail_ports(),
               # the deployment's one PKI secret: it opens the test PKI the first node stores (docs/scale.md)
               "MES_SANDBOX_PKI_SECRET_FILE": str(root / "pki-secret")}
        procs.append((subprocess.Popen([*CLI, "serve"], env=env, stdout=subprocess.PIPE,
                                       stderr=subprocess.STDOUT, text=True), port))
    up, failures = 0, []
    try:
        deadline = time.monotonic() + 180
        for proc, port in procs:
            while True:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/docs", timeout=2).status_code == 200:
                        up += 1
                    break
                except httpx.TransportError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        failures.append(f"exit {proc.poll()}: " + (proc.stdout.read() if proc.stdout else "")[-400:])
                        break
                    time.sleep(0.05)
        return up, time.perf_counter() - t0, failures
    finally:
        for proc, _ in procs:
            proc.terminate()
        for proc, _ in procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--database-url", default="")
    ap.add_argument("--nodes", type=int, default=10)
    args = ap.parse_args()
    if args.database_url:
        os.environ[TEST_DB_ENV] = args.database_url
    else:
        os.environ.pop(TEST_DB_ENV, None)
    with tempfile.TemporaryDirectory(prefix="mes-sandbox-bench-") as tmp:
        root = Path(tmp)
        with fresh_database(root / "alone") as url:
            _, alone, fail = start_nodes(url, 1, root / "alone")
            if fail:
                sys.exit(f"the baseline node did not start: {fail[0]}")
        with fresh_database(root / "many") as url:
            up, many, failures = start_nodes(url, args.nodes, root / "many")
    print(f"baseline: 1 node alone up in {alone:.1f} s")
    print(f"{up}/{args.nodes} nodes started at once came up; last after {many:.1f} s "
          f"(ratio {many / alone:.2f} × baseline)")
    for f in failures:
        print("FAILED:", f)
    sys.exit(0 if up == args.nodes else 1)


if __name__ == "__main__":
    main()
