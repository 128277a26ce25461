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
from collections.abc import Sequence
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


#: base-walker messages that say a JSON value has the wrong type: a definition with one cannot compile
_SHAPE_ERRORS = frozenset(("STRUCT_NOT_OBJECT", "STRUCT_ARRAY_EXPECTED", "STRUCT_ARRAY_NOT_ALLOWED",
                           "STRUCT_NULL_VALUE", "STRUCT_OBJECT_EXPECTED", "PRIM_JSON_TYPE"))


class PackageError(Exception):
    """A package file cannot be read (setup error, raised to the CLI)."""


#: conformance resources a package, folder or file may bring (the HL7 validator's ``-ig`` sources)
CONFORMANCE_TYPES = frozenset(("StructureDefinition", "ValueSet", "CodeSystem", "Questionnaire",
                               "ImplementationGuide"))


def _conformance(data: Any) -> list[dict[str, Any]]:
    """The conformance resources of one JSON document: a resource, or those of a Bundle."""
    if not isinstance(data, dict):
        return []
    if data.get("resourceType") == "Bundle" and isinstance(data.get("entry"), list):
        out: list[dict[str, Any]] = []
        for e in data["entry"]:
            if isinstance(e, dict):
                out += _conformance(e.get("resource"))
        return out
    return [data] if data.get("resourceType") in CONFORMANCE_TYPES else []


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
        #: LOINC code -> core profile an Observation with that code must meet (vital signs)
        self.content_profiles: dict[str, str] = {}
        self.questionnaires: dict[str, dict[str, Any]] = {}
        self.guides: dict[str, dict[str, Any]] = {}
        #: resource type -> profiles every resource of that type must meet (ImplementationGuide.global)
        self.global_profiles: dict[str, list[str]] = {}
        self._compiled: dict[str, CompiledProfile] = {}
        #: canonical -> why a loaded StructureDefinition cannot be compiled (malformed, from --ig)
        self.broken: dict[str, str] = {}
        #: ours and the core profiles (tested with the code): compiled without the shape check
        self.trusted: set[str] = set()
        #: FHIR package ids loaded (package.json names, loaded ImplementationGuides' packageId)
        self.packages: set[str] = set()

    def add_core_profiles(self) -> None:
        """The core profiles of the base table (vital signs), and the LOINC codes that select them."""
        for sd in self.model.core_profiles:
            self.add_structure_definition(sd)
            for el in sd["differential"]["element"]:
                eid = el.get("id", "")
                if eid.startswith("Observation.code.coding:") and eid.endswith(".code") and "fixedCode" in el:
                    self.content_profiles.setdefault(el["fixedCode"], sd["url"])

    def add_structure_definition(self, sd: dict[str, Any]) -> None:
        url = sd.get("url")
        if not url or sd.get("kind") == "logical":
            return
        self.sds[url] = sd
        self._compiled.pop(url, None)
        self.broken.pop(url, None)
        self.trusted.discard(url)  # a definition given later (--ig) replaces ours: checked again
        for ext in sd.get("extension", []):
            if ext.get("url") == MIRRORS_EXT:
                official = ext.get("valueCanonical") or ext.get("valueUri")
                for alt in _alt_canonicals(official):
                    self.aliases.setdefault(alt, url)

    def add_resources(self, resources: list[dict[str, Any]]) -> None:
        for r in resources:
            rt = r.get("resourceType")
            if rt == "StructureDefinition":
                self.add_structure_definition(r)
            elif rt == "Questionnaire" and isinstance(r.get("url"), str):
                self.questionnaires[r["url"]] = r
            elif rt == "ImplementationGuide" and isinstance(r.get("url"), str):
                self.guides[r["url"]] = r
                if isinstance(r.get("packageId"), str):
                    self.packages.add(r["packageId"])
                for g in r.get("global", []) if isinstance(r.get("global"), list) else ():
                    if isinstance(g, dict) and isinstance(g.get("type"), str) and isinstance(g.get("profile"), str):
                        urls = self.global_profiles.setdefault(g["type"], [])
                        if g["profile"] not in urls:
                            urls.append(g["profile"])
        self.terminology.add_resources(resources)

    def load_source(self, path: str | Path) -> int:
        """Load supporting definitions like the reference validator's ``-ig``: a FHIR package
        (``.tgz``), a folder (its ``*.json`` files, recursively) or one JSON file (a resource or a
        Bundle of them). Returns the number of conformance resources added."""
        p = Path(path)
        if p.is_dir():
            res: list[dict[str, Any]] = []
            for f in sorted(p.rglob("*.json")):
                if f.name in ("package.json", ".index.json"):
                    if f.name == "package.json":
                        with f.open("rb") as fh:
                            self._note_manifest(fh)
                    continue
                try:
                    res += _conformance(json.loads(f.read_bytes(), parse_float=DecimalLiteral))
                except ValueError:
                    continue  # not JSON: a folder may hold other files
                except OSError as exc:
                    raise PackageError(f"{f}: {exc.strerror or exc}") from exc
            self.add_resources(res)
            return len(res)
        if p.suffix == ".json":
            try:
                data = json.loads(p.read_bytes(), parse_float=DecimalLiteral)
            except OSError as exc:
                raise PackageError(f"{p}: {exc.strerror or exc}") from exc
            except ValueError as exc:
                raise PackageError(f"{p}: not JSON ({exc})") from exc
            res = _conformance(data)
            if not res:
                raise PackageError(f"{p}: no StructureDefinition, ValueSet, CodeSystem, Questionnaire "
                                   "or ImplementationGuide")
            self.add_resources(res)
            return len(res)
        return self.load_package(p)

    def _note_manifest(self, fh: Any) -> None:
        """Record the package id of a ``package.json`` (an unreadable one is no package)."""
        try:
            name = json.loads(fh.read()).get("name") if fh is not None else None
        except (ValueError, AttributeError):
            return
        if isinstance(name, str):
            self.packages.add(name)

    def missing_dependencies(self) -> list[tuple[str, str, str]]:
        """(guide, package id, version) of each ``ImplementationGuide.dependsOn`` package that was
        not loaded (R4 core is built in: never missing)."""
        out = []
        for url, ig in sorted(self.guides.items()):
            deps = ig.get("dependsOn")
            for d in deps if isinstance(deps, list) else ():
                pid = d.get("packageId") if isinstance(d, dict) else None
                if isinstance(pid, str) and pid not in self.packages and not pid.startswith("hl7.fhir.r4.core"):
                    out.append((url, pid, str(d.get("version") or "")))
        return out

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
                        if m.name.count("/") <= 1:  # the package's own manifest, not an example's
                            self._note_manifest(tar.extractfile(m))
                        continue
                    fh = tar.extractfile(m)
                    if fh is None:
                        continue
                    try:
                        data = json.loads(fh.read(), parse_float=DecimalLiteral)
                    except ValueError:
                        continue
                    res += _conformance(data)
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
            if url in self.broken:
                return None
            problem = None if url in self.trusted else self._shape_problem(sd)
            if problem is not None:
                self.broken[url] = problem
                return None
            try:
                c = compile_sd(sd, MIRRORS_EXT, self.model, self.sds)
            except (TypeError, AttributeError, ValueError, KeyError) as exc:
                # a definition whose JSON shapes are not a StructureDefinition's (wrong types,
                # missing parts): the profile is unusable, reported where it is asked for
                self.broken[url] = f"{type(exc).__name__}: {str(exc)[:80]}"
                return None
            self._compiled[url] = c
        return c

    def _shape_problem(self, sd: dict[str, Any]) -> str | None:
        """The first JSON-type error of a loaded StructureDefinition, validated as a resource by
        the base walker (an object, array or primitive where R4 wants another); None when it has
        none. Unknown elements, invariants and terminology are not reasons to refuse it."""
        from profiles.context import Ctx
        from profiles.structure import validate_resource

        ctx = Ctx(self)
        validate_resource(ctx, sd, "StructureDefinition")
        for i in ctx.issues:
            if i.message_id in _SHAPE_ERRORS:
                return f"{i.expression}: {i.text('en')}"[:160]
        return None

    def profile_type(self, url: str) -> str | None:
        target, _ = self.resolve_url(url)
        if target is not None:
            return self.sds[target].get("type")
        if url.startswith("http://hl7.org/fhir/StructureDefinition/"):
            name = url.rsplit("/", 1)[-1]
            return name if name in self.model.types else None
        return None


def build_registry(packages: Sequence[str | Path] = ()) -> Registry:
    """Our definitions and terminology, plus ``packages``: FHIR packages (``.tgz``), folders or
    JSON files of conformance resources (:meth:`Registry.load_source`)."""
    reg = Registry()
    reg.add_core_profiles()
    reg.terminology.load_dir(TERMINOLOGY_DIR)
    reg.load_dir(DEFINITIONS_DIR)
    reg.trusted = set(reg.sds)
    for p in packages:
        reg.load_source(p)
    return reg


@cache
def default_registry() -> Registry:
    return build_registry()
