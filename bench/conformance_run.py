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
the medians, and run ÷ baseline (target ≤ 1.25) and the run's median (target ≤ 15 s).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sandbox.testing import free_port  # noqa: E402

PY = sys.executable
CLI = [PY, "-c", "from sandbox.cli import main; main()"]


def serve(env: dict[str, str], port: int) -> subprocess.Popen:
    proc = subprocess.Popen([*CLI, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    end = time.monotonic() + 60
    while time.monotonic() < end:
        try:
            # rsuite: /sandbox/api needs the operator key now; /health answers without credentials
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as r:
                if r.status == 200:
                    return proc
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError("mes-sandbox serve exited") from None
            time.sleep(0.05)
    proc.terminate()
    raise RuntimeError("mes-sandbox serve not ready in 60 s")


def workspace(url: str, key: str) -> str:
    name = f"bench-{uuid.uuid4().hex[:8]}"
    req = urllib.request.Request(f"{url}/sandbox/api/workspaces", data=json.dumps({"name": name}).encode(),
                                 headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"},
                                 method="POST")
    with urllib.request.urlopen(req, timeout=30) as r:
        assert r.status == 201
    return name


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    t = time.perf_counter()
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    return time.perf_counter() - t, p.returncode, p.stdout[-2000:] + p.stderr[-2000:]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--database-url", default="", help="PostgreSQL URL (default: SQLite in a fresh folder)")
    args = ap.parse_args()
    port, tls = free_port(), free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="bench-conformance-") as tmp:
        env = {**os.environ, "MES_SANDBOX_DATA_DIR": tmp, "MES_SANDBOX_PORT": str(port),
               "MES_SANDBOX_HTTPS_PORT": str(tls), "MES_SANDBOX_PUBLIC_BASE_URL": url}
        # rsuite: free MSSanté ports too (the mss group's simulator reads them from the same settings)
        env.update({f"MES_SANDBOX_{name}_PORT": str(free_port()) for name in ("SMTP", "SMTPS", "IMAP", "IMAPS")})
        if args.database_url:
            env["MES_SANDBOX_DATABASE_URL"] = args.database_url
        proc = serve(env, port)
        # rsuite: the operator key of this fresh data folder (creating workspaces needs it)
        key = subprocess.run([*CLI, "operator-key", "show"], env=env, capture_output=True, text=True).stdout.strip()
        try:
            base: list[float] = []
            runs: list[float] = []
            for i in range(args.rounds):
                order = ("baseline", "run") if i % 2 == 0 else ("run", "baseline")
                for which in order:
                    ws = workspace(url, key)
                    if which == "baseline":
                        secs, rc, out = timed([*CLI, "simulate", "dpi", "--url", url, "--workspace", ws], env)
                        base.append(secs)
                    else:
                        report = Path(tmp) / f"report-{ws}.json"
                        secs, rc, out = timed([*CLI, "conformance", "run", "dpi-ldl", "--url", url, "--workspace", ws,
                                               "--simulate", "--json", str(report)], env)
                        runs.append(secs)
                    print(f"round {i + 1} {which:8s} {secs:6.2f} s  exit {rc}", flush=True)
                    if rc != 0:
                        print(out)
                        raise SystemExit(f"{which} failed (exit {rc})")
        finally:
            proc.terminate()
            proc.wait(15)
    b, r = statistics.median(base), statistics.median(runs)
    print(f"\nsimulator alone (mes-sandbox simulate dpi): median {b:.2f} s  ({', '.join(f'{x:.2f}' for x in base)})")
    print(f"full run (conformance run dpi-ldl --simulate): median {r:.2f} s  ({', '.join(f'{x:.2f}' for x in runs)})")
    print(f"run ÷ simulator alone: {r / b:.2f}  (target ≤ 1.25)")
    print(f"whole run: {r:.2f} s  (target ≤ 15 s)")


if __name__ == "__main__":
    main()
