"""Invariants whose R4 4.0.1 FHIRPath expression contradicts its own human description (issue 16,
item 10; FHIR R4 §2.4.0.5 constraints, FACTS §5 "validator").

The published expression is replaced, when the base table is loaded, by the corrected one the HL7
Java validator evaluates instead (its ``FHIRPathExpressionFixer``, and for ``que-7`` its FHIRPath
engine, where ``is Boolean`` matches a FHIR ``boolean``). The table stays the facts as published
(``gen_base.py``); the correction is applied here, once, and each case is listed in
profiles/README.md "Corrected invariants" with its golden cases. Issues quote the corrected
expression (that is what was evaluated).
"""

from __future__ import annotations

from typing import Any

from profiles import invariants
from profiles.invariants import Native

# the official canonical-name rule (vsd-0, csd-0, sdf-0, que-0... on 29 resources): unanchored,
# FHIRPath ``matches`` finds the pattern anywhere, so any name with one capital letter passed
_NAME = "name.matches('[A-Z]([A-Za-z0-9_]){0,254}')"
_REF1 = ("reference.startsWith('#').not() or (reference.substring(1).trace('url') in "
         "%rootResource.contained.id.trace('ids'))")
_ELD19_CLASS = "[^\\\\s\\\\.,:;\\\\\\'\"\\\\/|?!@#$%&*()\\\\[\\\\]{}]"

#: published expression -> (corrected expression, why); the keys are matched on the exact text
CORRECTIONS: dict[str, tuple[str, str]] = {
    "enableWhen.count() > 2 implies enableBehavior.exists()": (
        "enableWhen.count() >= 2 implies enableBehavior.exists()",
        "que-12: 'if there are more than one enableWhen, enableBehavior must be specified'; `> 2` let two pass"),
    "operator = 'exists' implies (answer is Boolean)": (
        "operator = 'exists' implies (answer is boolean)",
        "que-7: 'if the operator is exists, the value must be a boolean'; `Boolean` (System type) never "
        "matches the FHIR `answerBoolean`, so every valid `exists` condition failed"),
    _REF1: (
        f"reference.exists() implies (reference = '#' or ({_REF1}))",
        "ref-1: 'SHALL have a contained resource if a local reference is provided'; `#` alone is the "
        "container itself (R4 §2.17.2), which has no contained id"),
    "text.`div`.exists()": (
        "(%rootResource != $this) or text.`div`.exists()",
        "dom-6: 'a resource should have narrative for robust management'; a contained resource is "
        "part of its container's narrative (R4 §2.4.0.5: contained resources SHALL NOT need text)"),
    _NAME: (
        "name.matches('^[A-Z]([A-Za-z0-9_]){0,254}$')",
        "*-0 on canonical resources: 'name should be usable as an identifier ... for code "
        "generation'; unanchored, `my-valueSet` passed"),
    f"path.matches('{_ELD19_CLASS}{{1,64}}(\\\\.{_ELD19_CLASS}{{1,64}}(\\\\[x\\\\])?(\\\\:[^\\\\s\\\\.]+)?)*')": (
        f"path.matches('^{_ELD19_CLASS}{{1,64}}(\\\\.{_ELD19_CLASS}{{1,64}}(\\\\[x\\\\])?(\\\\:[^\\\\s\\\\.]+)?)*$')",
        "eld-19: 'element names cannot include some special characters'; unanchored, any path passed"),
    "path.matches('[A-Za-z][A-Za-z0-9]*(\\\\.[a-z][A-Za-z0-9]*(\\\\[x])?)*')": (
        "path.matches('^[A-Za-z][A-Za-z0-9]*(\\\\.[a-z][A-Za-z0-9]*(\\\\[x])?)*$')",
        "eld-20: 'element names should be simple alphanumerics'; unanchored, any path passed"),
}


def _ref1(node: Any, res: dict[str, Any], root: dict[str, Any]) -> bool:
    ref = node.get("reference") if node.__class__ is dict else None
    return ref == "#" or invariants.NATIVE[_REF1](node, res, root)


def _dom6(node: Any, res: dict[str, Any], root: dict[str, Any]) -> bool:
    return node is not root or invariants.NATIVE["text.`div`.exists()"](node, res, root)


def _que7(node: Any, _res: dict[str, Any], _root: dict[str, Any]) -> bool:
    if node.__class__ is not dict or node.get("operator") != "exists":
        return True
    answers = [k for k in node if k.startswith("answer") and k[6:7].isupper()]
    return not answers or "answerBoolean" in answers


def _que12(node: Any, _res: dict[str, Any], _root: dict[str, Any]) -> bool:
    when = node.get("enableWhen") if node.__class__ is dict else None
    return not isinstance(when, list) or len(when) < 2 or node.get("enableBehavior") is not None


_NATIVE: dict[str, Native] = {
    CORRECTIONS[_REF1][0]: _ref1,
    CORRECTIONS["text.`div`.exists()"][0]: _dom6,
    CORRECTIONS["operator = 'exists' implies (answer is Boolean)"][0]: _que7,
    CORRECTIONS["enableWhen.count() > 2 implies enableBehavior.exists()"][0]: _que12,
}


def corrected(expression: str) -> str:
    """The expression to evaluate for a published one (itself when R4's is right)."""
    fix = CORRECTIONS.get(expression)
    return expression if fix is None else fix[0]


def apply_corrections(table: dict[str, Any]) -> None:
    """Rewrite the base table's constraints in place (types, elements, constraint profiles) and
    register the natives of the corrected expressions."""
    for expr, fn in _NATIVE.items():
        invariants.NATIVE.setdefault(expr, fn)
    for holder in (*table["types"].values(), *table["constraints"].values()):
        _fix_list(holder.get("inv"))
        for facts in holder.get("el", {}).values():
            _fix_list(facts.get("inv"))


def _fix_list(inv: list[list[str]] | None) -> None:
    for i in inv or ():
        i[2] = corrected(i[2])
