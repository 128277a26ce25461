"""Cold start and seeding time of the sandbox, as ratios to ``python -c "import fastapi"``
measured in the same run (issue 2: `serve` ready in ≤ 3 s on SQLite).

    python bench/startup.py [--runs 5] [--database-url postgresql+asyncpg://postgres@127.0.0.1/postgres]

- cold start: fresh data folder (no database, no PKI) → ``mes-sandbox serve`` answers
  ``GET /sandbox/api/workspaces`` (migrations, PKI creation and seeding included);
- warm start: same, second start on the now existing data folder;
- seed: ``mes-sandbox workspace create`` on an existing database (one more seeded workspace).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sandbox.testing import free_port, fresh_database  # noqa: E402

PY = sys.executable


def timed(cmd: list[str], env: dict[str, str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, capture_output=True)
    return time.perf_counter() - t


def start_until_ready(env: dict[str, str]) -> float:
    port, tls = free_port(), free_port()
    env = {**env, "MES_SANDBOX_PORT": str(port), "MES_SANDBOX_HTTPS_PORT": str(tls)}
    t = time.perf_counter()
    proc = subprocess.Popen([PY, "-c", "from sandbox.cli import main; main()", "serve"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/sandbox/api/workspaces", timeout=1) as r:
                    if r.status == 200:
                        return time.perf_counter() - t
            except OSError:
                if proc.poll() is not None:
                    raise RuntimeError("mes-sandbox serve exited") from None
                time.sleep(0.02)
    finally:
        proc.terminate()
        proc.wait(10)


def seed_in_process(url: str, data: Path, name: str) -> float:
    """Seconds to create one seeded workspace (world generation + inserts + service hooks)."""
    import asyncio

    from sandbox import migrate
    from sandbox.context import SandboxContext
    from sandbox.services import discover
    from sandbox.settings import Settings

    async def go() -> float:
        services = discover()
        ctx = SandboxContext(settings=Settings(data_dir=data, database_url=url), services=services)
        await migrate.upgrade(ctx.db, services)
        await ctx.recorder.start()
        try:
            t = time.perf_counter()
            await ctx.workspaces.create(name)
            return time.perf_counter() - t
        finally:
            await ctx.recorder.stop()
            await ctx.db.dispose()

    return asyncio.run(go())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--database-url", default="", help="PostgreSQL server URL (default: SQLite)")
    args = ap.parse_args()
    if args.database_url:
        os.environ["MES_SANDBOX_TEST_DATABASE_URL"] = args.database_url

    baseline, cold, warm, seed, seed_only = [], [], [], [], []
    for i in range(args.runs):
        baseline.append(timed([PY, "-c", "import fastapi"], dict(os.environ)))
        data = Path(tempfile.mkdtemp(prefix="mes-sandbox-bench-"))
        try:
            with fresh_database(data) as url:
                env = {**os.environ, "MES_SANDBOX_DATA_DIR": str(data), "MES_SANDBOX_DATABASE_URL": url}
                cold.append(start_until_ready(env))
                warm.append(start_until_ready(env))
                seed.append(timed([PY, "-c", "from sandbox.cli import main; main()", "workspace", "create",
                                   f"bench{i}"], env))
                seed_only.append(seed_in_process(url, data, f"inproc{i}"))
        finally:
            shutil.rmtree(data, ignore_errors=True)

    base = statistics.median(baseline)
    print(f"database: {'PostgreSQL' if args.database_url else 'SQLite'}; runs: {args.runs}; medians")
    print(f"{'measure':42} {'seconds':>8} {'÷ import fastapi':>17}")
    baseline_label = 'python -c "import fastapi" (baseline)'
    print(f"{baseline_label:42} {base:8.3f} {1:17.1f}")
    for label, values in (("cold start, serve ready (empty data dir)", cold),
                          ("warm start, serve ready", warm),
                          ("seed one workspace (CLI, incl. start-up)", seed),
                          ("seed one workspace (in-process)", seed_only)):
        m = statistics.median(values)
        print(f"{label:42} {m:8.3f} {m / base:17.1f}")
    print(f"target: cold start ≤ 3 s on SQLite → {'met' if statistics.median(cold) <= 3 else 'NOT met'}")


if __name__ == "__main__":
    main()
