"""Generate ``data/ucum-atoms.json``: the UCUM atoms (case-sensitive codes, metric or not) and
prefixes, the facts :mod:`profiles.ucum` parses unit expressions with.

Source: the UCUM table (``ucum-essence``) as shipped by npm ``@lhncbc/ucum-lhc`` (its
``data/ucumDefs.min.json``; only the rows whose source is UCUM, not its LOINC unit strings). Codes
only, no names or definitions; the UCUM table is © Regenstrief Institute and the UCUM
Organization, used under its license (free use, notice kept in the data file). Run::

    (cd "$(mktemp -d)" && npm install @lhncbc/ucum-lhc@7.1.10 && pwd)
    .venv/bin/python -m profiles.gen_ucum --defs <that dir>/node_modules/@lhncbc/ucum-lhc/data/ucumDefs.min.json

The output is byte-stable (sorted lists).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

OUT = Path(__file__).resolve().parent / "data" / "ucum-atoms.json"
NOTICE = ("UCUM codes (c/s), from the UCUM table (ucum-essence) as shipped by npm @lhncbc/ucum-lhc 7.1.10. "
          "The UCUM table is copyright Regenstrief Institute, Inc. and The UCUM Organization, "
          "used under the UCUM license: https://ucum.org/license")


def generate(defs: dict) -> dict:
    cfg = defs["units"]["config"]
    col = {name if isinstance(name, str) else name[0]: i for i, name in enumerate(cfg)}
    metric: set[str] = set()
    other: set[str] = set()
    for row in defs["units"]["data"]:
        if row[col["source_"]] != "UCUM":
            continue
        (metric if row[col["isBase_"]] or row[col["isMetric_"]] else other).add(row[col["csCode_"]])
    pcol = defs["prefixes"]["config"].index("code_")
    prefixes = sorted(p[pcol] for p in defs["prefixes"]["data"])
    return {"notice": NOTICE, "prefixes": prefixes, "metric": sorted(metric), "nonMetric": sorted(other - metric)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--defs", type=Path, required=True, help="ucumDefs.min.json of @lhncbc/ucum-lhc")
    args = ap.parse_args()
    out = generate(json.loads(args.defs.read_text("utf-8")))
    OUT.write_text(json.dumps(out, indent=0, ensure_ascii=False, sort_keys=True) + "\n", "utf-8")
    print(f"{OUT}: {len(out['metric'])} metric atoms, {len(out['nonMetric'])} others, {len(out['prefixes'])} prefixes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
