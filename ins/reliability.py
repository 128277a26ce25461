"""RNIV status as fr-core carries it, and its invariants per fr-core version (FACTS §1.4, §1.5,
§8 item 6).

``Patient.extension[fr-core-identity-reliability].extension[identityStatus]`` is a Coding whose code
system tells the fr-core version:

=========================================================  =====================  ==============================
code system                                                fr-core versions       statuses requiring an INS
=========================================================  =====================  ==============================
``…/CodeSystem/fr-core-cs-v2-0445`` (21 codes of HL7 0445)  2.0.x – 2.2.0-ballot   ``VALI`` (fr-core-1: there VALI
                                                                                  meant "qualified")
``…/CodeSystem/fr-core-cs-identity-status`` (PROV, RECUP,   dev (post-ballot)      ``QUAL``, and ``VALI`` as the
VALI, QUAL)                                                                        fr-core-1 text still says
=========================================================  =====================  ==============================

A status code the version's code system does not hold (``QUAL`` under v2-0445) is reported too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from ins.identifiers import select_ins

RELIABILITY_URL = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-identity-reliability"
V2_0445 = ("https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0445",
           "http://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0445")
IDENTITY_STATUS = "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-identity-status"
V2_0445_CODES = frozenset({"VIDE", "PROV", "VALI", "DOUB", "DESA", "DPOT", "DOUA", "COLP", "COLV", "FILI",
                           "CACH", "ANOM", "IDVER", "RECD", "IDRA", "USUR", "HOMD", "HOMA", "INVA", "FICT",
                           "DOUT"})
IDENTITY_STATUS_CODES = frozenset({"PROV", "RECUP", "VALI", "QUAL"})


class Version(StrEnum):
    PUBLISHED = "v2-0445"  # fr-core 2.0.x – 2.2.0-ballot
    DEV = "identity-status"  # fr-core dev main


REQUIRE_INS = {Version.PUBLISHED: frozenset({"VALI"}), Version.DEV: frozenset({"VALI", "QUAL"})}
CODES = {Version.PUBLISHED: V2_0445_CODES, Version.DEV: IDENTITY_STATUS_CODES}


class ReliabilityRule(StrEnum):
    INS_REQUIRED = "ins.reliability.ins-required"
    CODE_NOT_IN_VERSION = "ins.reliability.code-not-in-version"


@dataclass(frozen=True)
class ReliabilityProblem:
    rule: ReliabilityRule
    expression: str
    status: str
    version: Version

    def text(self, lang: str = "fr") -> str:
        if self.rule is ReliabilityRule.INS_REQUIRED:
            return (f"statut d'identité {self.status} ({self.version.value}) : un identifiant INS est requis "
                    "(invariant fr-core-1)" if lang == "fr" else
                    f"identity status {self.status} ({self.version.value}): an INS identifier is required "
                    "(invariant fr-core-1)")
        return (f"statut d'identité {self.status} absent du système de codes {self.version.value} de cette "
                "version de fr-core" if lang == "fr" else
                f"identity status {self.status} is not in code system {self.version.value} of this fr-core version")


def _statuses(patient: dict[str, Any]) -> Iterable[tuple[str, Version, str]]:
    for i, ext in enumerate(patient.get("extension") or []):
        if not isinstance(ext, dict) or ext.get("url") != RELIABILITY_URL:
            continue
        for j, sub in enumerate(ext.get("extension") or []):
            coding = sub.get("valueCoding") if isinstance(sub, dict) and sub.get("url") == "identityStatus" else None
            if not isinstance(coding, dict) or not isinstance(coding.get("code"), str):
                continue
            system = coding.get("system")
            version = Version.PUBLISHED if system in V2_0445 else Version.DEV if system == IDENTITY_STATUS else None
            if version is not None:
                yield coding["code"], version, f"extension[{i}].extension[{j}].valueCoding"


def check_reliability(patient: dict[str, Any], at: str = "Patient") -> list[ReliabilityProblem]:
    """What the fr-core version's identity-status invariants find wrong in a Patient resource."""
    problems: list[ReliabilityProblem] = []
    has_ins: bool | None = None
    for code, version, where in _statuses(patient):
        if code not in CODES[version]:
            problems.append(ReliabilityProblem(ReliabilityRule.CODE_NOT_IN_VERSION, f"{at}.{where}", code, version))
        elif code in REQUIRE_INS[version]:
            if has_ins is None:
                has_ins = select_ins(patient.get("identifier") or []).ins is not None
            if not has_ins:
                problems.append(ReliabilityProblem(ReliabilityRule.INS_REQUIRED, f"{at}.{where}", code, version))
    return problems
