#!/usr/bin/env python3
"""Type check of the packages against a baseline that only goes down.

Runs mypy (settings in pyproject.toml) on every package, counts the errors, and fails when there are
more than `.ci/mypy-baseline` says, or any at all in the packages that start clean (mss, conformance).
When there are fewer, it says so: lower the number in the file in the same change.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("sandbox", "psc", "ins", "dmp", "profiles", "mss", "conformance")
MUST_BE_CLEAN = ("mss", "conformance")
BASELINE = ROOT / ".ci" / "mypy-baseline"
ERROR = re.compile(r"^(?P<path>[^:\s]+\.py):\d+: error: ")


def main() -> int:
    run = subprocess.run([sys.executable, "-m", "mypy", *PACKAGES], cwd=ROOT, capture_output=True, text=True)
    errors = [line for line in run.stdout.splitlines() if ERROR.match(line)]
    if run.returncode not in (0, 1) or (run.returncode == 1 and not errors):
        print(run.stdout, run.stderr, sep="\n")
        print("mypy did not run to the end")
        return 2
    baseline = int(BASELINE.read_text().split()[0])
    unclean = [e for e in errors if e.split("/", 1)[0] in MUST_BE_CLEAN]
    print(f"mypy: {len(errors)} errors (baseline {baseline})")
    if unclean:
        print("\n".join(unclean))
        print(f"{', '.join(MUST_BE_CLEAN)} must have no type error")
        return 1
    if len(errors) > baseline:
        print("\n".join(errors))
        print(f"{len(errors) - baseline} more type errors than the baseline: fix the new ones")
        return 1
    if len(errors) < baseline:
        print(f"fewer errors than the baseline: write {len(errors)} in {BASELINE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
