"""Judging the document a vendor sent (to the DMP or by MSSanté) with ``profiles/`` (FACTS §5):
a CDA through the public CDA R2 header reader (``profiles.read_cda_header``: French header rules,
INS, LDL-SES template and code), a FHIR document through ``profiles.validate``. Each finding cites
the rule or message id the validator gave (``CDA-INS-KEY``, ``INV_FAILED``…) and its location.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from conformance import Exchange, Message, TestContext
from profiles import CdaHeader, read_cda_header, validate

FHIR_MEDIA = ("application/fhir+json", "application/json+fhir", "application/json")
CDA_MEDIA = ("text/xml", "application/xml", "application/hl7-cda+xml")
LDL_TEMPLATE = "1.2.250.1.213.1.1.1.29"
LDL_CODE = "11490-0"

CDA_RULE = Message(
    "dpi-ldl.doc.cda-rule", "En-tête CDA, règle {rule} : {text_fr}", "CDA header, rule {rule}: {text_en}",
    "Corrigez l'en-tête CDA selon le volet CI-SIS « En-tête des documents médicaux » (règle citée).",
    "Fix the CDA header after the CI-SIS 'En-tête des documents médicaux' rules (the rule cited).")
FHIR_RULE = Message(
    "dpi-ldl.doc.fhir-profile", "Document FHIR, {rule} : {text_fr}", "FHIR document, {rule}: {text_en}",
    "Rendez le document conforme aux profils dont il se réclame (meta.profile).",
    "Make the document conform to the profiles it claims (meta.profile).")
LDL = Message(
    "dpi-ldl.doc.ldl", "Lettre de liaison : {problem}.", "Discharge letter: {problem}.",
    "Une lettre de liaison est un CDA LDL-SES (modèle 1.2.250.1.213.1.1.1.29, code LOINC 11490-0).",
    "A discharge letter is an LDL-SES CDA (template 1.2.250.1.213.1.1.1.29, LOINC code 11490-0).")


def judge_cda(ctx: TestContext, data: bytes, exchanges: Iterable[Exchange], *, at: str = "",
              only: tuple[str, ...] = (), exclude: tuple[str, ...] = ()) -> CdaHeader:
    """Read ``data`` with the CDA header reader and record each error it reports (rules whose id
    starts with one of ``only``, when given, and none starting with ``exclude``)."""
    header = read_cda_header(data)
    exchanges = tuple(exchanges)
    for issue in header.issues:
        if issue.severity not in ("error", "fatal"):
            continue
        if (only and not issue.id.startswith(only)) or (exclude and issue.id.startswith(exclude)):
            continue
        ctx.check(False, CDA_RULE, at=f"{at}{issue.location}", exchanges=exchanges, rule=issue.id,
                  text_fr=issue.text_fr, text_en=issue.text_en)
    return header


def judge_fhir(ctx: TestContext, data: bytes, exchanges: Iterable[Exchange], *, at: str = "") -> Any:
    """Validate a FHIR document with ``profiles.validate`` and record each error; returns the resource."""
    exchanges = tuple(exchanges)
    try:
        resource = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        ctx.check(False, FHIR_RULE, at=at, exchanges=exchanges, rule="json", text_fr=f"JSON illisible : {exc}",
                  text_en=f"unreadable JSON: {exc}")
        return None
    for issue in validate(resource):
        if str(issue.severity) in ("error", "fatal"):
            ctx.check(False, FHIR_RULE, at=f"{at}{issue.expression}", exchanges=exchanges, rule=issue.message_id,
                      text_fr=issue.text_fr, text_en=issue.text_en)
    return resource


def judge_letter_cda(ctx: TestContext, data: bytes, exchanges: Iterable[Exchange], *, at: str = "",
                     exclude: tuple[str, ...] = ()) -> CdaHeader:
    """A discharge letter's CDA: the header rules, then the LDL-SES template and code (CISIS.LDL/01)."""
    exchanges = tuple(exchanges)
    h = judge_cda(ctx, data, exchanges, at=at, exclude=exclude)
    if h.code or h.template_ids:
        ctx.check(LDL_TEMPLATE in h.template_ids, LDL, at=f"{at}/ClinicalDocument/templateId", exchanges=exchanges,
                  problem=f"modèle {LDL_TEMPLATE} absent / template missing")
        ctx.check(h.code == LDL_CODE, LDL, at=f"{at}/ClinicalDocument/code", exchanges=exchanges,
                  problem=f"code {h.code!r} au lieu de / instead of {LDL_CODE}")
    return h
