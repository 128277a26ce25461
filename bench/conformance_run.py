"""A full ``dpi-ldl`` conformance run against the reference DPI simulator, compared in the same run
with the time the simulator alone takes to do the same exchanges (issue 18: the runner adds
≤ 25 % on top of the simulator, and the whole run takes ≤ 15 s).

    .venv/bin/python bench/conformance_run.py [--rounds 3] [--database-url postgresql+asyncpg://...]

One ``mes-sandbox serve`` (fresh data folder, SQLite unless ``--database-url``) stays up. Each round,
in a fresh workspace each, in alternating order:

- baseline: ``mes-sandbox simulate dpi`` — the simulator plays the scenario a run asks for,
  scripting the runner's driving faults itself through ``/sandbox/api``;
- run: ``mes-sandbox conformance run dpi-ldl --simulate --json F`` — the runner publishes each step,
  the simulator performs it, the runner waits for and judges the exchanges, then signs the report.

Both are timed as the commands a user types (process start included for both). Prints each time,
the medians, and run ÷ baseline (target ≤ 1.25) and the run's median (target ≤ 15 s), with the
machine's load average (a shared machine makes the seconds noisy; the ratio is what counts).
``--timeline`` also prints, per command, where its time went, from the exchanges recorded in its
workspace: process start → first call, the calls' span and how long calls were in flight, last
call → exit; for a run, each test's duration and the gap before it.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sandbox.credentials import read_operator_key  # noqa: E402
from sandbox.testing import free_port, spare_mail_ports  # noqa: E402

PY = sys.executable
CLI = [PY, "-c", "from sandbox.cli import main; main()"]


def serve(env: dict[str, str], port: int) -> subprocess.Popen:
    proc = subprocess.Popen([*CLI, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    end = time.monotonic() + 60
    while time.monotonic() < end:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as r:
                if r.status == 200:
                    return proc
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError("mes-sandbox serve exited") from None
            time.sleep(0.05)
    proc.terminate()
    raise RuntimeError("mes-sandbox serve not ready in 60 s")


def workspace(url: str, data_dir: Path) -> str:
    name = f"bench-{uuid.uuid4().hex[:8]}"
    # /sandbox/api needs the operator key the server wrote into its data folder on first start
    key = read_operator_key(data_dir)
    req = urllib.request.Request(f"{url}/sandbox/api/workspaces", data=json.dumps({"name": name}).encode(),
                                 headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"},
                                 method="POST")
    with urllib.request.urlopen(req, timeout=30) as r:
        assert r.status == 201
    return name


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a running process has used (Linux ``/proc``; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, int, str, tuple[datetime, datetime]]:
    wall = datetime.now(UTC)
    t = time.perf_counter()
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    secs = time.perf_counter() - t
    return secs, p.returncode, p.stdout[-2000:] + p.stderr[-2000:], (wall, wall + timedelta(seconds=secs))


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _get_json(url: str, key: str | None) -> Any:
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"} if key else {})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def timeline(url: str, data_dir: Path, ws: str, span: tuple[datetime, datetime]) -> str:
    """Where the time of one command went, from the workspace's recorded exchanges: process start
    to its first call, time the vendor's calls were in flight vs. idle gaps (per test for a run),
    and last call to process exit."""
    key = read_operator_key(data_dir)
    exs = _get_json(f"{url}/sandbox/api/exchanges?workspace={ws}&limit=1000", key)
    exs = exs["exchanges"] if isinstance(exs, dict) else exs
    start, end = span
    rows = sorted(((datetime.fromisoformat(e["started_at"]), datetime.fromisoformat(e["ended_at"]), e["service"],
                    e["operation"]) for e in exs if datetime.fromisoformat(e["started_at"]) >= start),
                  key=lambda r: r[0])
    vendor = [r for r in rows if r[2] not in ("conformance", "sandbox")]
    own = [r for r in rows if r[2] in ("conformance", "sandbox")]
    out = [f"  {ws}: {len(vendor)} vendor calls, {len(own)} runner/API calls"]
    if not rows:
        return "\n".join(out)
    busy = 0.0
    cur_s, cur_e = vendor[0][0], vendor[0][1]
    for s0, e0, *_ in vendor[1:]:
        if s0 > cur_e:
            busy += (cur_e - cur_s).total_seconds()
            cur_s, cur_e = s0, e0
        else:
            cur_e = max(cur_e, e0)
    busy += (cur_e - cur_s).total_seconds()
    first, last = rows[0][0], max(r[1] for r in rows)
    out.append(f"    process start → first call {(first - start).total_seconds():.2f} s; first → last call "
               f"{(last - first).total_seconds():.2f} s (vendor calls in flight {busy:.2f} s); last call → exit "
               f"{(end - last).total_seconds():.2f} s")
    if any(r[2] == "conformance" for r in own):
        listing = _get_json(f"{url}/conformance/api/runs?workspace={ws}", key)["runs"]
        if listing:
            run = listing[0]
            created, finished = (datetime.fromisoformat(run["created_at"]),
                                 datetime.fromisoformat(run["finished_at"]))
            results = _get_json(f"{url}/conformance/api/runs/{run['id']}/results", key)["results"]
            prev = created
            gaps = []
            for res in results:
                t0, t1 = datetime.fromisoformat(res["started_at"]), datetime.fromisoformat(res["ended_at"])
                calls = [r for r in vendor if t0 <= r[0] <= t1]
                gaps.append(f"{res['id'].split('.', 1)[1]} {(t1 - t0).total_seconds():.2f}"
                            f"/{(t0 - prev).total_seconds():.2f}({len(calls)})")
                prev = t1
            out.append(f"    run {(finished - created).total_seconds():.2f} s (start → created "
                       f"{(created - start).total_seconds():.2f} s, last test → finished "
                       f"{(finished - prev).total_seconds():.2f} s, finished → exit "
                       f"{(end - finished).total_seconds():.2f} s)")
            out.append("    per test: duration/gap before(vendor calls): " + ", ".join(gaps))
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--timeline", action="store_true", help="print where each command's time went")
    ap.add_argument("--database-url", default="", help="PostgreSQL URL (default: SQLite in a fresh folder)")
    args = ap.parse_args()
    print("load average at start: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()), flush=True)
    port, tls = free_port(), free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="bench-conformance-") as tmp:
        env = {**os.environ, "MES_SANDBOX_DATA_DIR": tmp, "MES_SANDBOX_PORT": str(port),
               "MES_SANDBOX_HTTPS_PORT": str(tls), "MES_SANDBOX_PUBLIC_BASE_URL": url,
               # free mail ports (another sandbox may hold the defaults), named rather than 0: the
               # simulator's MSSanté client reads them from the same settings
               **spare_mail_ports(named=True)}
        if args.database_url:
            env["MES_SANDBOX_DATABASE_URL"] = args.database_url
        proc = serve(env, port)
        try:
            base: list[float] = []
            runs: list[float] = []
            cpus: dict[str, list[float]] = {"baseline": [], "run": []}
            for i in range(args.rounds):
                order = ("baseline", "run") if i % 2 == 0 else ("run", "baseline")
                for which in order:
                    ws = workspace(url, Path(tmp))
                    server_cpu, command_cpu = cpu_seconds(proc.pid), children_cpu()
                    if which == "baseline":
                        secs, rc, out, span = timed([*CLI, "simulate", "dpi", "--url", url, "--workspace", ws], env)
                        base.append(secs)
                    else:
                        report = Path(tmp) / f"report-{ws}.json"
                        secs, rc, out, span = timed([*CLI, "conformance", "run", "dpi-ldl", "--url", url,
                                                     "--workspace", ws, "--simulate", "--json", str(report)], env)
                        runs.append(secs)
                    # CPU is what a loaded machine makes wait: the runner's extra work shows here first
                    cpu = (cpu_seconds(proc.pid) - server_cpu, children_cpu() - command_cpu)
                    cpus[which].append(sum(cpu))
                    print(f"round {i + 1} {which:8s} {secs:6.2f} s  exit {rc}  (CPU: sandbox {cpu[0]:.2f} s, "
                          f"command {cpu[1]:.2f} s)", flush=True)
                    if rc != 0:
                        print(out)
                        raise SystemExit(f"{which} failed (exit {rc})")
                    if args.timeline:
                        print(timeline(url, Path(tmp), ws, span), flush=True)
        finally:
            proc.terminate()
            proc.wait(15)
    b, r = statistics.median(base), statistics.median(runs)
    print(f"\nsimulator alone (mes-sandbox simulate dpi): median {b:.2f} s  ({', '.join(f'{x:.2f}' for x in base)})")
    print(f"full run (conformance run dpi-ldl --simulate): median {r:.2f} s  ({', '.join(f'{x:.2f}' for x in runs)})")
    print(f"run ÷ simulator alone: {r / b:.2f}  (target ≤ 1.25)")
    cb, cr = statistics.median(cpus["baseline"]), statistics.median(cpus["run"])
    print(f"CPU (sandbox + command): simulator alone {cb:.2f} s, run {cr:.2f} s, run ÷ simulator alone {cr / cb:.2f}")
    print(f"whole run: {r:.2f} s  (target ≤ 15 s)")
    print("load average at end: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
