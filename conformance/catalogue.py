"""The requirements catalogue: data files under ``conformance/requirements/``, one per source
(PDSm/MHD, INS/INSi, PSC, CI-SIS documents, MSSanté Ref#2 and Ségur SC.MSS; FACTS §6 for the id
styles), linked from tests by ``verifies=`` (STYLE §7).

A requirement is covered for a suite when a test of the suite verifies it, or when the catalogue
gives a reason it is not tested. A suite's *scope* (``Suite.scope``) says which requirements it
answers for: entries ``"<source>"`` (every requirement of that source whose actor is ``LPS``) or
``"<source>:<ACTOR>"`` (also those of a software family, e.g. ``cisis-documents:DPI``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from conformance.model import Suite
from conformance.text import Text

FOLDER = Path(__file__).parent / "requirements"
#: actor of requirements every client software must meet
GENERIC_ACTOR = "LPS"


class Level(StrEnum):
    SHALL = "SHALL"
    SHOULD = "SHOULD"
    MAY = "MAY"


class CatalogueError(ValueError):
    """A catalogue file that is not well formed (a packaging bug)."""


@dataclass(frozen=True)
class Requirement:
    id: str
    source: str
    section: str
    level: Level
    text_fr: str
    actor: str
    not_tested: Text | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "source": self.source, "section": self.section,
                               "level": str(self.level), "actor": self.actor, "text_fr": self.text_fr}
        if self.not_tested:
            out["not_tested"] = self.not_tested.to_dict()
        return out


@dataclass(frozen=True)
class Source:
    id: str
    title: Text
    reference: str


@dataclass(frozen=True)
class Catalogue:
    sources: dict[str, Source]
    requirements: dict[str, Requirement]

    def get(self, requirement_id: str) -> Requirement | None:
        return self.requirements.get(requirement_id)

    def in_scope(self, suite: Suite) -> list[Requirement]:
        """Requirements ``suite`` answers for (see the module docstring)."""
        if not suite.scope:
            verified = {v for r in suite.tests() for v in r.test.verifies}
            return [r for r in self.requirements.values() if r.id in verified]
        wanted: set[tuple[str, str]] = set()
        for entry in suite.scope:
            source, _, actor = entry.partition(":")
            wanted.add((source, GENERIC_ACTOR))
            if actor:
                wanted.add((source, actor))
        return [r for r in self.requirements.values() if (r.source, r.actor) in wanted]


def _requirement(source: str, raw: dict[str, Any], path: Path) -> Requirement:
    try:
        nt = raw.get("not_tested")
        return Requirement(raw["id"], source, raw["section"], Level(raw["level"]), raw["text_fr"], raw["actor"],
                           Text(nt["fr"], nt["en"]) if nt else None)
    except (KeyError, ValueError, TypeError) as exc:
        raise CatalogueError(f"{path.name}: requirement {raw.get('id', '?')!r} is malformed ({exc})") from None


def load_catalogue(folder: Path = FOLDER) -> Catalogue:
    """Read every ``*.json`` catalogue file of ``folder``."""
    sources: dict[str, Source] = {}
    reqs: dict[str, Requirement] = {}
    for path in sorted(folder.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        sid = data["source"]
        sources[sid] = Source(sid, Text(data["title"]["fr"], data["title"]["en"]), data.get("reference", ""))
        for raw in data["requirements"]:
            req = _requirement(sid, raw, path)
            if req.id in reqs:
                raise CatalogueError(f"{path.name}: requirement {req.id!r} is defined twice")
            reqs[req.id] = req
    return Catalogue(sources, reqs)


@dataclass(frozen=True)
class CoverageRow:
    requirement: Requirement
    tests: tuple[str, ...]

    @property
    def status(self) -> str:
        """``tested``, ``not-tested`` (with a reason) or ``gap``."""
        if self.tests:
            return "tested"
        return "not-tested" if self.requirement.not_tested else "gap"


@dataclass(frozen=True)
class Coverage:
    suite: str
    rows: tuple[CoverageRow, ...]
    #: ``verifies=`` ids naming no requirement of the catalogue: (test id, requirement id)
    unknown: tuple[tuple[str, str], ...]

    def gaps(self, levels: Iterable[Level] = (Level.SHALL,)) -> list[CoverageRow]:
        lv = set(levels)
        return [r for r in self.rows if r.status == "gap" and r.requirement.level in lv]


def coverage(suite: Suite, catalogue: Catalogue) -> Coverage:
    by_req: dict[str, list[str]] = {}
    unknown: list[tuple[str, str]] = []
    for ref in suite.tests():
        for rid in ref.test.verifies:
            if catalogue.get(rid) is None:
                unknown.append((ref.full_id, rid))
            by_req.setdefault(rid, []).append(ref.full_id)
    scope = {r.id: r for r in catalogue.in_scope(suite)}
    for rid in by_req:  # a verified requirement outside the declared scope still shows
        req = catalogue.get(rid)
        if req is not None:
            scope.setdefault(rid, req)
    rows = tuple(CoverageRow(req, tuple(by_req.get(rid, ()))) for rid, req in sorted(scope.items()))
    return Coverage(suite.id, rows, tuple(unknown))
