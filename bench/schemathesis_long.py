"""On-demand, longer schemathesis campaign against a fresh sandbox (CI runs the bounded one,
``.ci/schemathesis``). Prints the cases tried and the failures found per check.

    pip install -e ".[fuzz]"
    python bench/schemathesis_long.py --examples 200 [--phases examples,coverage,fuzzing,stateful]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--examples", type=int, default=200)
    ap.add_argument("--phases", default="examples,coverage,fuzzing,stateful")
    args = ap.parse_args()
    ci = Path(__file__).resolve().parents[1] / ".ci" / "schemathesis"
    env = {**os.environ, "SCHEMATHESIS_EXAMPLES": str(args.examples)}
    script = ci.read_text().replace("--phases examples,fuzzing", f"--phases {args.phases}")
    script = script.replace("timeout 170 ", "").replace("timeout 60 ", "")
    cmd = ["bash", "-c", script.replace('cd "$(dirname "$0")/.."', f'cd "{ci.parents[1]}"')]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    out = proc.stdout + proc.stderr
    print("\n".join(line for line in out.splitlines()
                    if "generated" in line or "ST1" in line or "✅" in line or "❌" in line or "⚠" in line))
    print(f"# exit code {proc.returncode} ({'no failure' if proc.returncode == 0 else 'failures: see above'})")
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main())
