"""CPU time of a process tree from Linux ``/proc``, for the benchmarks' "server CPU per operation"
lines: a per-operation cost that a busy machine disturbs less than a rate does."""

from __future__ import annotations

import os
from pathlib import Path


def cpu_seconds(root: int) -> float:
    """User + system CPU seconds of process ``root`` and its descendants (``serve --workers``), all
    threads; processes that already ended are not counted."""
    tick = os.sysconf("SC_CLK_TCK")
    stats: dict[int, tuple[int, float]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        stats[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / tick)
    tree, todo = set(), [root]
    while todo:
        pid = todo.pop()
        tree.add(pid)
        todo += [child for child, (parent, _) in stats.items() if parent == pid and child not in tree]
    return sum(stats[pid][1] for pid in tree if pid in stats)
