"""What the key check costs a plain-HTTP INSi call (issue #15: INS without a client certificate
takes ``Authorization: Bearer``, :func:`sandbox.credentials.workspace_opened_by`).

    .venv/bin/python bench/ins_key_cost.py [--calls 40] [--blocks 8]

One sandbox, the same traits search sent with the operator key (hash compare + one workspace read)
and with a workspace key (one read of the key's workspace), in alternating blocks; then a sandbox
under ``--open`` (the header alone: the behaviour before keys, the baseline). Measures the
process's CPU time (server thread + client) per call — rates are noisy on a shared machine — and
prints the median per block, the ratio to the baseline, and the load average.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import uuid

import httpx

from ins.insi_request import SOAP12, traits_request
from sandbox.testing import running_sandbox


def _block(c: httpx.Client, headers: dict[str, str], calls: int) -> float:
    t0 = time.process_time()
    for _ in range(calls):
        body = traits_request("ADRTROIS", ["DOMINIQUE"], "F", "1997-02-26", "2A020").encode()
        r = c.post("/ins/insi", content=body, headers=headers)
        assert r.status_code == 200, r.text[:300]
    return (time.process_time() - t0) / calls * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--calls", type=int, default=40, help="calls per block")
    ap.add_argument("--blocks", type=int, default=8, help="blocks per mode")
    args = ap.parse_args()
    res: dict[str, list[float]] = {"operator key": [], "workspace key": []}
    with running_sandbox() as sb, sb.client(key=None) as c:
        name = "bench-" + uuid.uuid4().hex[:6]
        key = sb.create_workspace(name)
        modes = {"operator key": {"content-type": SOAP12, "x-sandbox-workspace": name,
                                  "authorization": f"Bearer {sb.operator_key}"},
                 "workspace key": {"content-type": SOAP12, "authorization": f"Bearer {key}"}}
        for h in modes.values():
            _block(c, h, args.calls)  # warm-up
        for i in range(args.blocks):
            for label in (list(modes) if i % 2 == 0 else list(reversed(modes))):
                res[label].append(_block(c, modes[label], args.calls))
    with running_sandbox(open_api=True) as sb, sb.client(key=None) as c:
        c.post("/sandbox/api/workspaces", json={"name": "bench"}).raise_for_status()
        h = {"content-type": SOAP12, "x-sandbox-workspace": "bench"}
        _block(c, h, args.calls)
        res["--open (baseline)"] = [_block(c, h, args.calls) for _ in range(args.blocks)]
    base = statistics.median(res["--open (baseline)"])
    print(f"load average {os.getloadavg()[0]:.2f}; {args.blocks} blocks of {args.calls} calls per mode")
    for label, values in res.items():
        m = statistics.median(values)
        print(f"{label:18s} CPU ms/call median {m:6.2f} (min {min(values):.2f}, max {max(values):.2f}) "
              f"ratio to --open {m / base:.2f}")


if __name__ == "__main__":
    main()
