"""French XDS/PDSm metadata value sets the DMP checks on feeding, with their documented spelling
traps (FACTS §3.4, §8 items 11–12).

Rule of thumb (FACTS header "Conflicts"): a code from a DMP code system that the value set does not
contain is an **error**; a code from a foreign but well-formed system (e.g. an international IHE MHD
example using LOINC for the class) is accepted with a **warning**; documented spelling traps are
accepted with a warning naming the canonical form. The code lists themselves are the ones
``profiles/`` bundles (one copy of the facts); the rules and their messages are the DMP's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from dmp.fhir import codings
from profiles import value_set_codes

NOS = "https://mos.esante.gouv.fr/NOS"
TRE_A03 = f"{NOS}/TRE_A03-ClasseDocument/FHIR/TRE-A03-ClasseDocument"
TRE_A05 = f"{NOS}/TRE_A05-TypeDocComplementaire/FHIR/TRE-A05-TypeDocComplementaire"
TRE_A06 = f"{NOS}/TRE_A06-FormatCodeComplementaire/FHIR/TRE-A06-FormatCodeComplementaire"
TRE_A07 = f"{NOS}/TRE_A07-StatutVisibiliteDocument/FHIR/TRE-A07-StatutVisibiliteDocument"
TRE_A07_TRAP = f"{NOS}/TRE_A07-StatusVisibiliteDocument/FHIR/TRE-A07-StatusVisibiliteDocument"
TRE_A08 = f"{NOS}/TRE_A08-HL7Confidentiality/FHIR/TRE-A08-HL7Confidentiality"
V3_CONFIDENTIALITY = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
LOINC = "http://loinc.org"
IHE_FORMATCODE = "http://ihe.net/fhir/ihe.formatcode.fhir/CodeSystem/formatcode"

CLASS_SYSTEMS = (TRE_A03, "urn:oid:1.2.250.1.213.1.1.4.1")
#: JDV_J57-ClassCode-DMP (TRE_A03 + the Digital Signature URN), as bundled by profiles/
CLASS_CODES = value_set_codes(f"{NOS}/JDV_J57-ClassCode-DMP/FHIR/JDV-J57-ClassCode-DMP")
TYPE_SYSTEMS = (LOINC, "urn:oid:2.16.840.1.113883.6.1")
TYPE_COMPLEMENT_SYSTEMS = (TRE_A05, "urn:oid:1.2.250.1.213.1.1.4.12")
#: every code of TRE_A05-TypeDocComplementaire (JDV_J07 = LOINC subset + TRE_A05, FACTS §3.4)
TYPE_COMPLEMENT_CODES = value_set_codes(f"{TRE_A05}?vs")
#: key LOINC codes of JDV_J66 (FACTS §3.4); other well-formed LOINC codes get a warning
TYPE_CODES = value_set_codes(f"{NOS}/JDV_J66-TypeCode-DMP/FHIR/JDV-J66-TypeCode-DMP")
LOINC_RE = re.compile(r"^\d{1,7}-\d$")
FORMAT_SYSTEMS = (TRE_A06, "urn:oid:1.2.250.1.213.1.1.4.2.282", IHE_FORMATCODE, "urn:oid:1.3.6.1.4.1.19376.1.2.3",
                  "urn:oid:1.2.840.10008.2.6.1", f"{NOS}/TRE_A11-IheFormatCode/FHIR/TRE-A11-IheFormatCode")
#: JDV_J10 codes of FACTS §3.4 (ASS_A11 + N1) and the IHE mimeTypeSufficient code
FORMAT_CODES = value_set_codes(f"{NOS}/JDV_J10-XdsFormatCode-CISIS/FHIR/JDV-J10-XdsFormatCode-CISIS")
VISIBILITY_SYSTEMS = (TRE_A07, "urn:oid:1.2.250.1.213.1.1.4.13")
VISIBILITY_CODES = ("MASQUE_PS", "INVISIBLE_PATIENT", "INVISIBLE_REPRESENTANTS_LEGAUX")
#: FACTS §8.11: HL7v2 MetaDMPMSS spells the last one INVISIBLE_REP_LEGAUX
VISIBILITY_ALIASES = {"INVISIBLE_REP_LEGAUX": "INVISIBLE_REPRESENTANTS_LEGAUX"}
CONFIDENTIALITY_SYSTEMS = (TRE_A08, "urn:oid:2.16.840.1.113883.5.25", V3_CONFIDENTIALITY)
CONFIDENTIALITY_CODES = ("N", "R", "V")


@dataclass
class Finding:
    severity: str  # error | warning
    code: str  # FHIR IssueType
    expression: str
    text: str


@dataclass
class Visibility:
    """The TRE_A07 flags of a securityLabel list (FACTS §3.4, appendix B)."""

    masked_ps: bool = False
    invisible_patient: bool = False
    invisible_rl: bool = False
    findings: list[Finding] = field(default_factory=list)


def check_class(concepts: Any, at: str) -> list[Finding]:
    out = []
    for i, concept in enumerate(concepts if isinstance(concepts, list) else []):
        for j, c in enumerate(codings(concept)):
            here = f"{at}[{i}].coding[{j}]"
            system, code = c.get("system"), c.get("code")
            if not isinstance(code, str) or not code:
                out.append(Finding("error", "required", here, "classCode sans code"))
            elif system in CLASS_SYSTEMS:
                if code not in CLASS_CODES:
                    out.append(Finding("error", "code-invalid", here, f"classCode {code!r} inconnu dans "
                                                                      "TRE_A03-ClasseDocument (JDV_J57-ClassCode-DMP)"))
            else:
                out.append(Finding("warning", "code-invalid", here,
                                   f"classCode {system}|{code} hors JDV_J57-ClassCode-DMP (TRE_A03 attendu) : accepté"))
    return out


def check_type(concept: Any, at: str) -> list[Finding]:
    out = []
    cs = codings(concept)
    if not cs:
        return [Finding("warning", "required", at, "typeCode absent (JDV_J66-TypeCode-DMP attendu)")]
    for j, c in enumerate(cs):
        here = f"{at}.coding[{j}]"
        system, code = c.get("system"), c.get("code")
        if not isinstance(code, str) or not code:
            out.append(Finding("error", "required", here, "typeCode sans code"))
        elif system in TYPE_SYSTEMS:
            if not LOINC_RE.match(code):
                out.append(Finding("error", "code-invalid", here, f"typeCode LOINC invalide : {code!r}"))
            elif code not in TYPE_CODES:
                out.append(Finding("warning", "code-invalid", here, f"typeCode LOINC {code} absent du sous-ensemble "
                                                                    "JDV_J66 connu du bac à sable : accepté"))
        elif system in TYPE_COMPLEMENT_SYSTEMS:
            if code not in TYPE_COMPLEMENT_CODES:
                hint = (" : c'est un code LOINC, à envoyer sous le système http://loinc.org"
                        if LOINC_RE.match(code) else "")
                out.append(Finding("error", "code-invalid", here,
                                   f"typeCode {code!r} absent de TRE_A05-TypeDocComplementaire (JDV_J07){hint}"))
        else:
            out.append(Finding("error", "code-invalid", here,
                               f"système de typeCode inconnu : {system!r} (LOINC ou TRE_A05 attendus)"))
    return out


def check_format(concept: Any, at: str) -> list[Finding]:
    if not isinstance(concept, dict):
        return []
    system, code = concept.get("system"), concept.get("code")
    if not isinstance(code, str) or not code:
        return [Finding("error", "required", at, "formatCode sans code")]
    if system not in FORMAT_SYSTEMS:
        return [Finding("error", "code-invalid", at,
                        f"système de formatCode inconnu : {system!r} (JDV_J60-FormatCode-DMP)")]
    if code not in FORMAT_CODES:
        return [Finding("error", "code-invalid", at,
                        f"formatCode {code!r} absent de JDV_J60-FormatCode-DMP")]
    return []


def visibility_code(coding: dict[str, Any], at: str, findings: list[Finding]) -> str | None:
    """The canonical TRE_A07 code of one securityLabel coding, None for N/R/V; records traps."""
    system, code = coding.get("system"), coding.get("code")
    code = VISIBILITY_ALIASES.get(code, code)
    if coding.get("code") in VISIBILITY_ALIASES:
        findings.append(Finding("warning", "code-invalid", at,
                                f"code {coding.get('code')!r} (HL7v2 MetaDMPMSS) accepté pour {code!r}"))
    if system == TRE_A07_TRAP:
        findings.append(Finding("warning", "code-invalid", at,
                                f"système mal orthographié « StatusVisibilite » accepté ; canonique : {TRE_A07}"))
        system = TRE_A07
    if system in VISIBILITY_SYSTEMS:
        if code in VISIBILITY_CODES:
            return code
        if code in CONFIDENTIALITY_CODES:
            findings.append(Finding("warning", "code-invalid", at,
                                    f"code {code!r} placé sous TRE_A07 : il appartient à TRE_A08 (accepté)"))
            return None
        findings.append(Finding("error", "code-invalid", at,
                                f"code {code!r} absent de TRE_A07-StatutVisibiliteDocument"))
        return None
    if system in CONFIDENTIALITY_SYSTEMS:
        if code not in CONFIDENTIALITY_CODES:
            findings.append(Finding("error", "code-invalid", at,
                                    f"confidentialité {code!r} absente de TRE_A08 (N, R, V)"))
        return None
    if code in VISIBILITY_CODES:
        findings.append(Finding("warning", "code-invalid", at,
                                f"code {code!r} sans le système TRE_A07 ({system!r}) : accepté"))
        return code
    findings.append(Finding("error", "code-invalid", at,
                            f"securityLabel {system}|{code} hors JDV_J58-ConfidentialityCode-DMP"))
    return None


def visibility(labels: Any, at: str = "DocumentReference.securityLabel") -> Visibility:
    v = Visibility()
    for i, concept in enumerate(labels if isinstance(labels, list) else []):
        for j, c in enumerate(codings(concept)):
            code = visibility_code(c, f"{at}[{i}].coding[{j}]", v.findings)
            if code == "MASQUE_PS":
                v.masked_ps = True
            elif code == "INVISIBLE_PATIENT":
                v.invisible_patient = True
            elif code == "INVISIBLE_REPRESENTANTS_LEGAUX":
                v.invisible_rl = True
    return v


def label(code: str) -> dict[str, Any]:
    """A canonical securityLabel CodeableConcept for a TRE_A07 code or N (TRE_A08)."""
    if code in VISIBILITY_CODES:
        return {"coding": [{"system": TRE_A07, "code": code}]}
    return {"coding": [{"system": TRE_A08, "code": code}]}
