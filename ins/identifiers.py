"""The one home of the INS identifier facts: OIDs, fr-core identifier types, and which identifier
of a FHIR ``Patient`` is its INS (FACTS §1.1, §1.5, §8 trap 1).

- OIDs: ``1.2.250.1.213.1.4.8`` INS-NIR, ``.9`` INS-NIA, ``.10`` INS-NIR-TEST, ``.11`` INS-NIR-DEMO.
- fr-core slices ``Patient.identifier`` **by type** (``fr-core-cs-v2-0203``: ``INS-NIR``,
  ``INS-NIA``, ``INS-NIR-TEST``, ``INS-NIR-DEMO``). The ``NSS`` slice uses the NIR OID ``.8`` too, with
  type ``v2-0203#NH``: the system alone does not tell an INS from a social-security number.

:func:`select_ins` applies that rule to the identifiers of a Patient resource and says, with a stable
rule id, why no INS could be chosen. A logical reference or a search
(``Patient?identifier=<system>|<value>``) has no type: :func:`ins_of_system_value` reads those.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

OID_INS_NIR = "1.2.250.1.213.1.4.8"
OID_INS_NIA = "1.2.250.1.213.1.4.9"
OID_INS_NIR_TEST = "1.2.250.1.213.1.4.10"
OID_INS_NIR_DEMO = "1.2.250.1.213.1.4.11"
INS_OIDS = (OID_INS_NIR, OID_INS_NIA, OID_INS_NIR_TEST, OID_INS_NIR_DEMO)
INS_SYSTEMS = tuple(f"urn:oid:{o}" for o in INS_OIDS)

#: fr-core identifier type code system: 2.1+ (https) and 2.0 (interopsante.org) spellings
IDENTIFIER_TYPE_SYSTEMS = ("https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203",
                           "http://interopsante.org/CodeSystem/fr-core-v2-0203")
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
#: identifier type code of each INS OID (fr-core-patient-ins slices)
TYPE_BY_OID = {OID_INS_NIR: "INS-NIR", OID_INS_NIA: "INS-NIA", OID_INS_NIR_TEST: "INS-NIR-TEST",
               OID_INS_NIR_DEMO: "INS-NIR-DEMO"}
OID_BY_TYPE = {v: k for k, v in TYPE_BY_OID.items()}


class InsRule(StrEnum):
    """Why no INS could be chosen among a Patient's identifiers (stable ids)."""

    MISSING = "ins.identifier.missing"  # no identifier with an INS OID and an INS type
    UNTYPED = "ins.identifier.untyped"  # INS OID without identifier.type: INS or NSS? (FACTS §8.1)
    TYPE_MISMATCH = "ins.identifier.type-mismatch"  # INS-NIA type under the NIR OID, etc.
    AMBIGUOUS = "ins.identifier.ambiguous"  # several different active INS
    KIND_MISMATCH = "ins.identifier.kind-mismatch"  # a NIA (7/8…) under a NIR OID or the reverse


TEXTS: dict[InsRule, tuple[str, str]] = {
    InsRule.MISSING: ("aucun identifiant INS (système urn:oid:1.2.250.1.213.1.4.8/.9/.10/.11 et type INS-NIR, "
                      "INS-NIA, INS-NIR-TEST ou INS-NIR-DEMO)",
                      "no INS identifier (system urn:oid:1.2.250.1.213.1.4.8/.9/.10/.11 and type INS-NIR, "
                      "INS-NIA, INS-NIR-TEST or INS-NIR-DEMO)"),
    InsRule.UNTYPED: ("identifiant {system} sans type : l'OID du NIR sert aussi au NSS (type NH), seul "
                      "identifier.type distingue l'INS",
                      "identifier {system} has no type: the NIR OID is also the NSS's (type NH), only "
                      "identifier.type tells the INS apart"),
    InsRule.TYPE_MISMATCH: ("identifiant de type {type} sous le système {system} : {expected} attendu",
                            "identifier of type {type} under system {system}: {expected} expected"),
    InsRule.AMBIGUOUS: ("plusieurs INS actifs différents : {values}", "several different active INS: {values}"),
    InsRule.KIND_MISMATCH: ("le matricule {value} est un {kind} mais le système est {system}",
                            "matricule {value} is a {kind} but the system is {system}"),
}


@dataclass(frozen=True)
class InsIdentifier:
    """An INS as a Patient carries it: 15-character matricule and its OID."""

    value: str
    oid: str

    @property
    def system(self) -> str:
        return f"urn:oid:{self.oid}"

    @property
    def type_code(self) -> str:
        return TYPE_BY_OID[self.oid]


@dataclass(frozen=True)
class InsProblem:
    rule: InsRule
    index: int | None  # position in Patient.identifier, None for the whole list
    params: dict[str, str]

    def text(self, lang: str = "fr") -> str:
        fr, en = TEXTS[self.rule]
        return (fr if lang == "fr" else en).format(**self.params)


@dataclass(frozen=True)
class InsSelection:
    ins: InsIdentifier | None
    problems: tuple[InsProblem, ...] = ()


def oid_of_system(system: Any) -> str | None:
    """The INS OID of ``urn:oid:<INS OID>``, else None."""
    if isinstance(system, str) and system in INS_SYSTEMS:
        return system[len("urn:oid:"):]
    return None


def kind_of(value: str) -> str:
    """``NIA`` for a temporary number (first character 7 or 8), else ``NIR`` (FACTS §1.3)."""
    return "NIA" if value[:1] in ("7", "8") else "NIR"


def kind_matches(value: str, oid: str) -> bool:
    """A NIA under the NIA OID, a NIR under one of the NIR OIDs."""
    return (kind_of(value) == "NIA") == (oid == OID_INS_NIA)


def system_for(value: str) -> str:
    """The INS system of a bare matricule when nothing else says it: NIA OID for a NIA, else NIR."""
    return f"urn:oid:{OID_INS_NIA if kind_of(value) == 'NIA' else OID_INS_NIR}"


def _type_codes(identifier: dict[str, Any]) -> list[tuple[str | None, str]]:
    t = identifier.get("type")
    codings = t.get("coding") if isinstance(t, dict) else None
    return [(c.get("system"), c["code"]) for c in codings or []
            if isinstance(c, dict) and isinstance(c.get("code"), str)]


def ins_of_system_value(system: Any, value: Any) -> InsIdentifier | None:
    """An untyped ``system|value`` (logical reference, search parameter) read as an INS."""
    oid = oid_of_system(system)
    if oid is None or not isinstance(value, str) or not value:
        return None
    return InsIdentifier(value, oid)


def select_ins(identifiers: Iterable[Any]) -> InsSelection:
    """The INS among a Patient's identifiers, selected by OID **and** type (FACTS §1.5)."""
    found: list[tuple[int, InsIdentifier]] = []
    problems: list[InsProblem] = []
    untyped: list[InsProblem] = []
    for i, ident in enumerate(identifiers):
        if not isinstance(ident, dict):
            continue
        oid = oid_of_system(ident.get("system"))
        value = ident.get("value")
        if oid is None or not isinstance(value, str) or not value:
            continue
        if ident.get("use") == "old":  # a deactivated matricule (fr-core "patient identifier use INS")
            continue
        types = _type_codes(ident)
        if not types:
            untyped.append(InsProblem(InsRule.UNTYPED, i, {"system": ident["system"]}))
            continue
        ins_types = [code for system, code in types if system in IDENTIFIER_TYPE_SYSTEMS and code in OID_BY_TYPE]
        if not ins_types:
            continue  # NSS (v2-0203#NH) or another identifier sharing the OID: not the INS
        if TYPE_BY_OID[oid] not in ins_types:
            problems.append(InsProblem(InsRule.TYPE_MISMATCH, i, {
                "type": ins_types[0], "system": ident["system"], "expected": TYPE_BY_OID[oid]}))
            continue
        if not kind_matches(value, oid):
            problems.append(InsProblem(InsRule.KIND_MISMATCH, i, {
                "value": value, "kind": kind_of(value), "system": ident["system"]}))
            continue
        found.append((i, InsIdentifier(value, oid)))
    values = sorted({f.value for _, f in found})
    if len(values) > 1:
        return InsSelection(None, (InsProblem(InsRule.AMBIGUOUS, None, {"values": ", ".join(values)}),))
    if found:
        return InsSelection(found[0][1])
    if problems:
        return InsSelection(None, tuple(problems))
    if untyped:
        return InsSelection(None, tuple(untyped))
    return InsSelection(None, (InsProblem(InsRule.MISSING, None, {}),))
