"""Offline terminology: code membership in value sets (FHIR R4 §4.9 ValueSet, §4.8 CodeSystem).

Sources, in order: CodeSystems/ValueSets loaded from packages, our bundled JSON under
``profiles/terminology/`` (French JDV/TRE sets of FACTS §1.5, §3.4; LOINC codes of §5; DICOM
modalities), and the expansions of the R4 base table. A value set that includes a whole code
system we do not carry (LOINC, SNOMED CT...) accepts any code of that system. Known alternative
spellings of French system URLs (FACTS §1.5 and §3.4 "Trap" notes) are accepted and reported.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson

from profiles import code_grammars
from profiles.base import base_model

TERMINOLOGY_DIR = Path(__file__).parent / "terminology"

# alias -> canonical (FACTS §1.5 fr-core http→https and old interopsante URLs; §1.5 TRE_R13
# Commune vs CommuneOM; §3.4 TRE_A07 "Status" misspelling; PDSM4DMP's v3-Confidentiality for TRE_A08)
SYSTEM_ALIASES: dict[str, str] = {
    "http://interopsante.org/CodeSystem/fr-core-v2-0203": "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203",
    "http://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203": "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203",
    "http://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0445": "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0445",
    "https://mos.esante.gouv.fr/NOS/TRE_R13-Commune/FHIR/TRE-R13-Commune": "https://mos.esante.gouv.fr/NOS/TRE_R13-CommuneOM/FHIR/TRE-R13-CommuneOM",
    "http://terminology.hl7.org/CodeSystem/v3-Confidentiality": "https://mos.esante.gouv.fr/NOS/TRE_A08-HL7Confidentiality/FHIR/TRE-A08-HL7Confidentiality",
    "https://mos.esante.gouv.fr/NOS/TRE_A07-StatusVisibiliteDocument/FHIR/TRE-A07-StatusVisibiliteDocument": "https://mos.esante.gouv.fr/NOS/TRE_A07-StatutVisibiliteDocument/FHIR/TRE-A07-StatutVisibiliteDocument",
    # FACTS §3.1: TRE_R248's canonical is ".../TRE_R248_ModeAcces/..."; the NOS pattern spells it "TRE_R248-ModeAcces"
    "https://mos.esante.gouv.fr/NOS/TRE_R248-ModeAcces/FHIR/TRE-R248-ModeAcces": "https://mos.esante.gouv.fr/NOS/TRE_R248_ModeAcces/FHIR/TRE-R248-ModeAcces",
}


class ValueSetIndex:
    __slots__ = ("url", "pairs", "codes", "open_systems", "enumerable")

    def __init__(self, url: str) -> None:
        self.url = url
        self.pairs: set[tuple[str, str]] = set()
        self.codes: set[str] = set()
        self.open_systems: set[str] = set()  # whole external systems: any code accepted
        self.enumerable = True

    def add(self, system: str, code: str) -> None:
        self.pairs.add((system, code))
        self.codes.add(code)


class Terminology:
    def __init__(self) -> None:
        self.codesystems: dict[str, dict[str, Any]] = {}
        self.valuesets: dict[str, dict[str, Any]] = {}
        self._index: dict[str, ValueSetIndex | None] = {}
        self.aliases = dict(SYSTEM_ALIASES)

    # loading -----------------------------------------------------------------------------
    def add_resources(self, resources: Iterable[dict[str, Any]]) -> None:
        for r in resources:
            rt = r.get("resourceType")
            url = r.get("url")
            if not url:
                continue
            if rt == "CodeSystem":
                self.codesystems[url] = r
            elif rt == "ValueSet":
                self.valuesets[url] = r
        self._index.clear()

    def load_dir(self, folder: Path) -> None:
        res = []
        for p in sorted(folder.glob("*.json")):
            data = orjson.loads(p.read_bytes())
            if data.get("resourceType") == "Bundle":
                res.extend(e["resource"] for e in data.get("entry", []) if "resource" in e)
            else:
                res.append(data)
        self.add_resources(res)

    # lookup ------------------------------------------------------------------------------
    def canonical_system(self, system: str) -> str:
        return self.aliases.get(system, system)

    def index(self, vs_url: str) -> ValueSetIndex | None:
        idx = self._index.get(vs_url)
        if idx is not None:
            return idx  # keys are unversioned URLs: a hit needs no splitting
        vs_url = vs_url.split("|", 1)[0]
        if vs_url in self._index:
            return self._index[vs_url]
        self._index[vs_url] = None  # recursion guard
        idx = self._build(vs_url)
        self._index[vs_url] = idx
        return idx

    def _cs_codes(self, system: str) -> list[str] | None:
        cs = self.codesystems.get(system)
        if cs is None or not cs.get("concept"):
            return None
        out: list[str] = []

        def walk(cs_list: list[dict[str, Any]]) -> None:
            for c in cs_list:
                out.append(c["code"])
                walk(c.get("concept", []))

        walk(cs["concept"])
        return out

    def _build(self, url: str) -> ValueSetIndex | None:
        vs = self.valuesets.get(url)
        if vs is None:
            base = base_model().valuesets.get(url)
            if base is None:
                return None
            idx = ValueSetIndex(url)
            for system, codes in base.items():
                for c in codes:
                    idx.add(system, c)
            return idx
        idx = ValueSetIndex(url)
        compose = vs.get("compose") or {}
        for inc in compose.get("include", []):
            for sub in inc.get("valueSet", []):
                s = self.index(sub)
                if s is None:
                    idx.enumerable = False
                    continue
                idx.pairs |= s.pairs
                idx.codes |= s.codes
                idx.open_systems |= s.open_systems
            system = inc.get("system")
            if not system:
                continue
            if inc.get("concept"):
                for c in inc["concept"]:
                    idx.add(system, c["code"])
            elif inc.get("filter"):
                idx.open_systems.add(system)
            else:
                codes = self._cs_codes(system)
                if codes is None:
                    idx.open_systems.add(system)
                else:
                    for c in codes:
                        idx.add(system, c)
        for exc in compose.get("exclude", []):
            for c in exc.get("concept", []):
                idx.pairs.discard((exc.get("system", ""), c["code"]))
        if not compose and vs.get("expansion"):
            for c in vs["expansion"].get("contains", []):
                idx.add(c.get("system", ""), c.get("code", ""))
        return idx

    def member(self, vs_url: str, system: str | None, code: str) -> tuple[bool | None, str | None]:
        """(in value set?, canonical system when an alias was used). None = cannot tell."""
        idx = self.index(vs_url)
        if idx is None:
            if isinstance(code, str) and (system is None or isinstance(system, str)):
                return code_grammars.member(vs_url, system, code), None
            return None, None
        if not isinstance(code, str) or (system is not None and not isinstance(system, str)):
            return None, None  # wrong JSON types are reported by the structure checks
        if system is None:
            if code in idx.codes:
                return True, None
            return (False if idx.enumerable and not idx.open_systems else None), None
        if (system, code) in idx.pairs or system in idx.open_systems:
            return True, None
        canon = self.aliases.get(system)
        if canon and ((canon, code) in idx.pairs or canon in idx.open_systems):
            return True, canon
        return (False if idx.enumerable else None), None

    def display_codes(self, vs_url: str) -> str:
        idx = self.index(vs_url)
        if idx is None:
            return ""
        codes = sorted(idx.codes)
        s = ", ".join(codes[:12])
        return s + (", ..." if len(codes) > 12 else "")
