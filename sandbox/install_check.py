"""Start-up check of the installation: ``mes-sandbox serve`` refuses to start on a broken one.

A server that starts on a half-replaced installation (another ``pip install`` ran under it, files
deleted by hand) fails later, one request at a time, with errors a vendor would blame on its own
messages (a missing template, a validator module that cannot be imported). So before it prints its
banner, ``serve`` checks that every file the installer recorded is still there and imports every
module of every registered service (which also means a later reinstall cannot pull a module from
under the running server). Any problem is one line, then exit.
"""

from __future__ import annotations

import importlib
import pkgutil
from importlib.metadata import PackageNotFoundError, distribution, entry_points
from pathlib import Path

from sandbox.services import COMMANDS_GROUP, ENTRY_POINT_GROUP

DISTRIBUTION = "mes-sandbox"


def missing_files(dist_name: str = DISTRIBUTION) -> list[str]:
    """Files the installer recorded for ``dist_name`` that are gone (an editable install records only
    its path hooks, a regular one every module and data file)."""
    try:
        files = distribution(dist_name).files or []
    except PackageNotFoundError:
        return [f"{dist_name} is not installed in this Python environment"]
    return sorted(str(f) for f in files if not f.name.endswith(".pyc") and not Path(f.locate()).exists())


def unimportable(packages: list[str]) -> list[str]:
    """``module: error`` for every module of ``packages`` that cannot be imported (Alembic
    ``migrations`` folders excepted: their scripts only run inside Alembic)."""
    problems: list[str] = []

    def visit(name: str) -> None:
        try:
            mod = importlib.import_module(name)
        except Exception as exc:  # reported, not raised: the caller prints one line per problem
            problems.append(f"{name}: {type(exc).__name__}: {exc}")
            return
        for sub in pkgutil.iter_modules(getattr(mod, "__path__", None) or []):
            if sub.name != "migrations":
                visit(f"{name}.{sub.name}")

    for top in packages:
        visit(top)
    return problems


def registered_packages() -> list[str]:
    """Top-level packages that register services or commands."""
    names = {ep.module.split(".")[0] for group in (ENTRY_POINT_GROUP, COMMANDS_GROUP)
             for ep in entry_points(group=group)}
    return sorted(names)


def problems() -> list[str]:
    """Everything wrong with the installation, empty when it is sound."""
    gone = missing_files()
    found = [f"{len(gone)} installed file(s) missing, e.g. {gone[0]}"] if gone else []
    return found + unimportable(registered_packages())
