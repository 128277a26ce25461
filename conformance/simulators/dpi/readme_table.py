"""The fault → failing-test table of ``conformance/README.md`` (between the markers), generated
from the catalogue; ``tests/conformance/test_dpi_simulator.py`` checks it against real runs.

    python -m conformance.simulators.dpi.readme_table      # rewrite the table in the README
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path

from conformance.simulators.dpi.faults import FAULTS

START = "<!-- fault-table:start -->"
END = "<!-- fault-table:end -->"
README = Path(__file__).resolve().parents[2] / "README.md"


def fault_table(observed: Mapping[str, tuple[str, ...]] | None = None) -> str:
    """Markdown rows: fault, the mistake it copies, the tests it makes fail (``observed`` when given:
    what runs showed, else what the catalogue intends)."""
    lines = ["| fault (`--simulate-fault`) | vendor mistake copied | tests that fail |", "|---|---|---|"]
    for f in FAULTS:
        fails = observed[f.name] if observed is not None else f.fails
        lines.append(f"| `{f.name}` | {f.en} | {', '.join(f'`{t}`' for t in fails) or '(none)'} |")
    return "\n".join(lines) + "\n"


def write(readme: Path = README) -> None:
    text = readme.read_text(encoding="utf-8") if readme.exists() else ""
    block = f"{START}\n{fault_table()}{END}"
    if START in text and END in text:
        text = text[:text.index(START)] + block + text[text.index(END) + len(END):]
    else:
        text = text.rstrip("\n") + f"\n\n## Reference DPI simulator: faults and the tests they fail\n\n{block}\n"
    readme.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    write(Path(sys.argv[1]) if len(sys.argv) > 1 else README)
