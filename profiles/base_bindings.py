"""Required bindings of the base specification (FHIR R4 §4.1.0.1 binding strength "required"),
checked by the base walker on ``code``, ``Coding``, ``CodeableConcept`` and ``Quantity`` values.

A code is in the value set when offline terminology says so (:mod:`profiles.terminology`); a
value set that cannot be expanded offline decides nothing.
"""

from __future__ import annotations

from typing import Any

from profiles.context import Ctx
from profiles.issues import IssueType, Severity
from profiles.messages import MsgId


def _code_label(system: str | None, code: object) -> str:
    return f"{system}#{code}" if system else f"'{code}'"


def bind_code(ctx: Ctx, vs: str, system: str | None, code: Any, at: str) -> None:
    term = ctx.registry.terminology
    if system is None and code.__class__ is str:
        idx = term.index(vs)
        if idx is not None and code in idx.codes:
            return  # the usual case, decided without the general lookup
    ok, _alias = term.member(vs, system, code)
    if ok is False:
        ctx.error(IssueType.CODE_INVALID, at, MsgId.CODE_NOT_IN_VS, code=_code_label(system, code), vs=vs)


def bind_coding(ctx: Ctx, vs: str, coding: dict[str, Any], at: str) -> None:
    code = coding.get("code")
    if isinstance(code, str):
        bind_code(ctx, vs, coding.get("system") if isinstance(coding.get("system"), str) else None, code, at)


def bind_codeable_concept(ctx: Ctx, vs: str, cc: dict[str, Any], at: str) -> None:
    codings = cc.get("coding")
    if not isinstance(codings, list) or not codings:
        return
    term = ctx.registry.terminology
    seen: list[str] = []
    for c in codings:
        if not isinstance(c, dict) or not isinstance(c.get("code"), str):
            continue
        ok, _ = term.member(vs, c.get("system"), c["code"])
        if ok is not False:
            return
        seen.append(_code_label(c.get("system"), c["code"]))
    if seen:
        ctx.rule(False, Severity.ERROR, IssueType.CODE_INVALID, at, MsgId.CODE_NOT_IN_VS,
                 code=", ".join(seen), vs=vs)
