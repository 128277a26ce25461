"""Start-up of the command line and of the server, against baselines measured in the same run.

    python bench/startup.py [--runs 5] [--database-url postgresql+asyncpg://postgres@127.0.0.1/postgres]

Command line (issue 14: ``--help`` and the HTTP client commands in ≤ 0.5 s), each run as a fresh
process, rounds interleaved so a slow spell of the machine hits every candidate alike, against
``python -c pass`` and a bare typer app's ``--help`` (two commands, nothing else imported):

- ``mes-sandbox --help``; ``mes-sandbox psc --help`` (a lazily registered group);
- ``mes-sandbox exchanges list`` and ``mes-sandbox psc token`` against a running sandbox (HTTP);

Server (issue 2: ``serve`` ready in ≤ 3 s on SQLite), against ``python -c "import fastapi"``:

- cold start: fresh data folder (no database, no PKI) → ``mes-sandbox serve`` answers
  ``GET /health`` (migrations, PKI creation and seeding included);
- warm start: same, second start on the now existing data folder;
- seed: ``mes-sandbox workspace create`` on an existing database (one more seeded workspace).
"""

from __future__ import annotations

import argparse
import os
import resource
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
MES = [PY, "-c", "from sandbox.cli import main; main()"]
BARE_TYPER = """
import typer
app = typer.Typer(help="A bare typer app.")
@app.command()
def hello(name: str = "x") -> None:
    \"\"\"Say hello.\"\"\"
@app.command()
def bye() -> None:
    \"\"\"Say bye.\"\"\"
app()
"""


def timed(cmd: list[str], env: dict[str, str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, capture_output=True)
    return time.perf_counter() - t


def timed_cpu(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds user + system) of one run: on a busy shared machine the CPU time
    says what the command costs, the wall time what a user waits."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = timed(cmd, env)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def start_until_ready(env: dict[str, str]) -> float:
    """Seconds until ``serve`` answers; ``env`` names the ports (a warm start reuses the cold start's:
    the database records the deployment's public base URL, which derives from the port)."""
    port = int(env["MES_SANDBOX_PORT"])
    t = time.perf_counter()
    proc = subprocess.Popen([PY, "-c", "from sandbox.cli import main; main()", "serve"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as r:
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


def cli_phase(runs: int) -> None:
    """Median seconds of each command-line candidate, one fresh process per run."""
    data = Path(tempfile.mkdtemp(prefix="mes-sandbox-bench-cli-"))
    port, tls = free_port(), free_port()
    env = {**os.environ, "MES_SANDBOX_DATA_DIR": str(data), "MES_SANDBOX_PORT": str(port),
           "MES_SANDBOX_HTTPS_PORT": str(tls)}
    env.pop("MES_SANDBOX_DATABASE_URL", None)
    server = subprocess.Popen([*MES, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1):
                    break
            except OSError:
                if server.poll() is not None:
                    raise RuntimeError("mes-sandbox serve exited") from None
                time.sleep(0.05)
        candidates = {
            "python -c pass (baseline)": [PY, "-c", "pass"],
            "bare typer app --help (baseline)": [PY, "-c", BARE_TYPER, "--help"],
            "mes-sandbox --help": [*MES, "--help"],
            "mes-sandbox psc --help": [*MES, "psc", "--help"],
            "mes-sandbox exchanges list (HTTP)": [*MES, "exchanges", "list", "--limit", "5"],
            "mes-sandbox psc token (HTTP, 3 calls)": [*MES, "psc", "token"],
        }
        times: dict[str, list[float]] = {k: [] for k in candidates}
        cpu: dict[str, list[float]] = {k: [] for k in candidates}
        for i in range(runs + 1):
            order = list(candidates.items())
            order = order[i % len(order):] + order[:i % len(order)]  # rotate: no candidate always first
            for label, cmd in order:
                wall, used = timed_cpu(cmd, env)
                if i:  # the first round warms the file cache
                    times[label].append(wall)
                    cpu[label].append(used)
    finally:
        server.terminate()
        server.wait(10)
        shutil.rmtree(data, ignore_errors=True)
    bare, typer_help = (statistics.median(times[k]) for k in list(candidates)[:2])
    bare_cpu, typer_cpu = (statistics.median(cpu[k]) for k in list(candidates)[:2])
    print(f"command line; runs: {runs}; medians (wall: what a user waits; CPU: user + system)")
    print(f"{'measure':40} {'wall s':>7} {'÷ pass':>7} {'÷ typer':>8} {'CPU s':>7} {'÷ pass':>7} {'÷ typer':>8}")
    for label in times:
        m, c = statistics.median(times[label]), statistics.median(cpu[label])
        print(f"{label:40} {m:7.3f} {m / bare:7.1f} {m / typer_help:8.2f} {c:7.3f} {c / bare_cpu:7.1f} "
              f"{c / typer_cpu:8.2f}")
    worst = max(statistics.median(v) for k, v in times.items() if k.startswith("mes-sandbox"))
    print(f"target: --help and HTTP commands ≤ 0.5 s wall → {'met' if worst <= 0.5 else 'NOT met'} "
          f"(slowest {worst:.3f} s; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    print()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--database-url", default="", help="PostgreSQL server URL (default: SQLite)")
    ap.add_argument("--cli-only", action="store_true", help="Only the command-line figures.")
    args = ap.parse_args()
    if args.database_url:
        os.environ["MES_SANDBOX_TEST_DATABASE_URL"] = args.database_url
    cli_phase(args.runs)
    if args.cli_only:
        return

    baseline, cold, warm, seed, seed_only = [], [], [], [], []
    for i in range(args.runs):
        baseline.append(timed([PY, "-c", "import fastapi"], dict(os.environ)))
        data = Path(tempfile.mkdtemp(prefix="mes-sandbox-bench-"))
        try:
            with fresh_database(data) as url:
                env = {**os.environ, "MES_SANDBOX_DATA_DIR": str(data), "MES_SANDBOX_DATABASE_URL": url,
                       "MES_SANDBOX_PORT": str(free_port()), "MES_SANDBOX_HTTPS_PORT": str(free_port())}
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
