"""Registry of profiles, extensions and terminology; canonical resolution; package loading.

Our StructureDefinitions live in ``profiles/definitions/`` under the project base
``https://mes-sandbox.invalid/fhir/StructureDefinition/<id>``; each records the official
canonical it mirrors in the extension :data:`MIRRORS_EXT`, so ``meta.profile`` carrying the
official URL (with or without ``|version``, http or https fr-core base — FACTS §1.5) selects ours.
Published FHIR packages (npm ``.tgz``, ``package/*.json``) add StructureDefinitions, ValueSets
and CodeSystems. Profiles are compiled once, on first use, and cached.
"""

from __future__ import annotations

import json
import tarfile
from functools import cache
from pathlib import Path
from typing import Any

from profiles.base import BaseModel, base_model
from profiles.literals import DecimalLiteral
from profiles.sdef import CompiledProfile, compile_sd
from profiles.terminology import TERMINOLOGY_DIR, Terminology

PROJECT_BASE = "https://mes-sandbox.invalid/fhir"
MIRRORS_EXT = f"{PROJECT_BASE}/StructureDefinition/mirrors-canonical"
DEFINITIONS_DIR = Path(__file__).parent / "definitions"


class PackageError(Exception):
    """A package file cannot be read (setup error, raised to the CLI)."""


def _alt_canonicals(url: str) -> list[str]:
    out = [url]
    if url.startswith("https://hl7.fr/"):
        out.append("http://" + url[len("https://"):])
    return out


class Registry:
    def __init__(self, model: BaseModel | None = None) -> None:
        self.model = model or base_model()
        self.terminology = Terminology()
        self.sds: dict[str, dict[str, Any]] = {}
        self.aliases: dict[str, str] = {}  # official canonical -> our canonical
        self._compiled: dict[str, CompiledProfile] = {}

    def add_structure_definition(self, sd: dict[str, Any]) -> None:
        url = sd.get("url")
        if not url or sd.get("kind") == "logical":
            return
        self.sds[url] = sd
        self._compiled.pop(url, None)
        for ext in sd.get("extension", []):
            if ext.get("url") == MIRRORS_EXT:
                official = ext.get("valueCanonical") or ext.get("valueUri")
                for alt in _alt_canonicals(official):
                    self.aliases.setdefault(alt, url)

    def add_resources(self, resources: list[dict[str, Any]]) -> None:
        for r in resources:
            if r.get("resourceType") == "StructureDefinition":
                self.add_structure_definition(r)
        self.terminology.add_resources(resources)

    def load_dir(self, folder: Path) -> None:
        # decimals kept as written: fixed/pattern decimals compare with their precision
        res = [json.loads(p.read_bytes(), parse_float=DecimalLiteral) for p in sorted(folder.glob("*.json"))]
        self.add_resources(res)

    def load_package(self, path: str | Path) -> int:
        """Load a FHIR npm package (.tgz); returns the number of resources added."""
        res: list[dict[str, Any]] = []
        try:
            with tarfile.open(path, "r:*") as tar:
                for m in tar.getmembers():
                    if not m.isfile() or not m.name.endswith(".json") or "/other/" in m.name:
                        continue
                    if m.name.rsplit("/", 1)[-1] in ("package.json", ".index.json"):
                        continue
                    fh = tar.extractfile(m)
                    if fh is None:
                        continue
                    try:
                        data = json.loads(fh.read(), parse_float=DecimalLiteral)
                    except ValueError:
                        continue
                    if isinstance(data, dict) and data.get("resourceType") in (
                        "StructureDefinition", "ValueSet", "CodeSystem"
                    ):
                        res.append(data)
        except (OSError, tarfile.TarError) as exc:
            raise PackageError(str(exc)) from exc
        self.add_resources(res)
        return len(res)

    # resolution ----------------------------------------------------------------------------
    def resolve_url(self, url: str) -> tuple[str | None, bool]:
        """(our canonical or a loaded one, whether an official alias was used)."""
        bare = url.split("|", 1)[0]
        if bare in self.sds:
            return bare, False
        if bare in self.aliases:
            return self.aliases[bare], True
        return None, False

    def compiled(self, url: str) -> CompiledProfile | None:
        c = self._compiled.get(url)
        if c is None:
            sd = self.sds.get(url)
            if sd is None:
                return None
            c = compile_sd(sd, MIRRORS_EXT)
            self._compiled[url] = c
        return c

    def profile_type(self, url: str) -> str | None:
        target, _ = self.resolve_url(url)
        if target is not None:
            return self.sds[target].get("type")
        if url.startswith("http://hl7.org/fhir/StructureDefinition/"):
            name = url.rsplit("/", 1)[-1]
            return name if name in self.model.types else None
        return None


def build_registry(packages: list[str | Path] = ()) -> Registry:
    reg = Registry()
    reg.terminology.load_dir(TERMINOLOGY_DIR)
    reg.load_dir(DEFINITIONS_DIR)
    for p in packages:
        reg.load_package(p)
    return reg


@cache
def default_registry() -> Registry:
    return build_registry()
