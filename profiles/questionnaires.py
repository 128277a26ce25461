"""QuestionnaireResponse checked against its Questionnaire (FHIR R4 §19.2 QuestionnaireResponse,
§19.1.0.3 Questionnaire item types; issue 16 "--ig Questionnaire").

When ``QuestionnaireResponse.questionnaire`` names a Questionnaire we know — loaded with ``--ig``
(by canonical, ``|version`` ignored) or contained (``#id``) — each response item is matched by
``linkId`` among the questionnaire items at the same place (a group's items under ``item``, a
question's under ``answer.item``, as R4 nests them):

- a linkId the questionnaire has not there: ``QR_LINKID_UNKNOWN``;
- answers on a ``group`` or ``display`` item: ``QR_ANSWER_NOT_ALLOWED``;
- the answer's value type against the item type (``choice`` takes a Coding or its options' type,
  ``open-choice`` also a string, ``text`` and ``string`` a string, ``url`` a uri...):
  ``QR_ANSWER_TYPE``;
- more than one answer on an item that does not repeat: ``QR_REPEATS``;
- a ``choice`` answer that is none of the item's ``answerOption`` values: ``QR_ANSWER_OPTION``;
- a ``choice`` Coding outside the item's ``answerValueSet`` (when we know the value set):
  ``QR_ANSWER_VALUESET``; a string answer longer than ``maxLength``: ``QR_MAX_LENGTH``;
- in a ``completed`` or ``amended`` response, a ``required`` item missing or unanswered:
  ``QR_REQUIRED``, unless its ``enableWhen`` leaves it disabled;
- answers on an item its ``enableWhen`` disables: ``QR_NOT_ENABLED``.

``enableWhen`` (R4 §19.1.0.4, operators of ``questionnaire-enable-operator``) is evaluated on the
answers of the whole response, found by ``linkId``, combined by ``enableBehavior`` (all/any). A
condition it cannot decide (a comparison of values of different types, ``!=`` on an unanswered
question) makes the item neither required nor refused: no false error.

An unknown Questionnaire is not an error (the response is checked on its own, as before).
"""

from __future__ import annotations

from typing import Any

from profiles.context import Ctx
from profiles.issues import IssueType
from profiles.messages import MsgId

Item = dict[str, Any]

#: Questionnaire item type -> the answer value types it takes (R4 §19.1 "item.type" vs QR answer)
ANSWER_TYPES: dict[str, tuple[str, ...]] = {
    "boolean": ("Boolean",), "decimal": ("Decimal",), "integer": ("Integer",), "date": ("Date",),
    "dateTime": ("DateTime",), "time": ("Time",), "string": ("String",), "text": ("String",),
    "url": ("Uri",), "choice": ("Coding",), "open-choice": ("Coding", "String"),
    "attachment": ("Attachment",), "reference": ("Reference",), "quantity": ("Quantity",),
}
_NO_ANSWER = ("group", "display")  # tuples: `in` on garbage (a list) must not raise
_DONE = ("completed", "amended")


def check(ctx: Ctx, qr: dict[str, Any], loc: str) -> None:
    url = qr.get("questionnaire")
    if not isinstance(url, str):
        return
    q = _find(ctx, qr, url)
    if q is None:
        return
    done = qr.get("status") in _DONE
    answers: dict[str, list[Item]] = {}
    _collect(_list(qr.get("item")), answers)
    _items(ctx, _list(q.get("item")), _list(qr.get("item")), loc, url.split("|", 1)[0], done, answers)


def _find(ctx: Ctx, qr: dict[str, Any], url: str) -> dict[str, Any] | None:
    if url.startswith("#"):
        for c in _list(qr.get("contained")):
            if c.get("resourceType") == "Questionnaire" and c.get("id") == url[1:]:
                return c
        return None
    return ctx.registry.questionnaires.get(url.split("|", 1)[0])


def _list(v: Any) -> list[Item]:
    return [x for x in v if isinstance(x, dict)] if isinstance(v, list) else []


def _collect(items: list[Item], out: dict[str, list[Item]]) -> None:
    """linkId -> the answers it has, anywhere in the response."""
    for r in items:
        answers = _list(r.get("answer"))
        if isinstance(r.get("linkId"), str):
            out.setdefault(r["linkId"], []).extend(answers)
        _collect(_list(r.get("item")), out)
        for a in answers:
            _collect(_list(a.get("item")), out)


def _items(ctx: Ctx, q_items: list[Item], r_items: list[Item], loc: str, url: str, done: bool,
           answers_of: dict[str, list[Item]]) -> None:
    by_id = {i.get("linkId"): i for i in q_items if isinstance(i.get("linkId"), str)}
    present: set[str] = set()
    for n, r in enumerate(r_items):
        at = f"{loc}.item[{n}]"
        link = r.get("linkId")
        if not isinstance(link, str):
            continue  # linkId 1..1: the base walker reports it
        q = by_id.get(link)
        if q is None:
            ctx.error(IssueType.STRUCTURE, at, MsgId.QR_LINKID_UNKNOWN, link_id=link, url=url)
            continue
        answers = _list(r.get("answer"))
        if answers if q.get("type") not in _NO_ANSWER else _list(r.get("item")):
            present.add(link)
        if answers and enabled(q, answers_of) is False:
            ctx.error(IssueType.BUSINESS_RULE, f"{at}.answer[0]", MsgId.QR_NOT_ENABLED, link_id=link)
        _item(ctx, q, r, answers, at, url, done, answers_of)
    if done:
        for link, q in by_id.items():
            if q.get("required") is True and link not in present and enabled(q, answers_of) is True:
                ctx.error(IssueType.REQUIRED, loc, MsgId.QR_REQUIRED, link_id=link, url=url)


def enabled(q: Item, answers_of: dict[str, list[Item]]) -> bool | None:
    """Whether the questionnaire item ``q`` is enabled by the response (None: cannot tell)."""
    conditions = _list(q.get("enableWhen"))
    if not conditions:
        return True
    results = [_condition(c, answers_of.get(str(c.get("question")), [])) for c in conditions]
    if q.get("enableBehavior") == "any":
        return True if True in results else (None if None in results else False)
    return False if False in results else (None if None in results else True)


def _condition(c: Item, answers: list[Item]) -> bool | None:
    op = c.get("operator")
    ckey = next((k for k in c if k.startswith("answer") and k[6:7].isupper()), None)
    if ckey is None or not isinstance(op, str):
        return None
    want = c[ckey]
    if op == "exists":
        return (len(answers) > 0) == want if isinstance(want, bool) else None
    akey = "value" + ckey[6:]
    values = [a[akey] for a in answers if akey in a]
    if len(values) != len(answers):
        return None  # answers of another type than the condition's: not comparable
    if op == "=":
        return any(_same(v, want) for v in values)
    if op == "!=":
        return (not any(_same(v, want) for v in values)) if values else None
    cmp = _ORDER.get(op)
    if cmp is None or not values or not all(_orderable(v, want) for v in values):
        return None
    return any(cmp(_key(v), _key(want)) for v in values)


_ORDER = {">": lambda a, b: a > b, "<": lambda a, b: a < b, ">=": lambda a, b: a >= b, "<=": lambda a, b: a <= b}


def _same(v: Any, want: Any) -> bool:
    if isinstance(v, dict) and isinstance(want, dict):
        if "code" in want:  # Coding, Quantity
            return v.get("code") == want.get("code") and v.get("system") == want.get("system") and (
                v.get("value") == want.get("value"))
        return v.get("reference") == want.get("reference")
    return bool(v == want)


def _orderable(v: Any, want: Any) -> bool:
    if isinstance(v, bool) or isinstance(want, bool):
        return False
    if isinstance(v, (int, float)) and isinstance(want, (int, float)):
        return True
    if isinstance(v, str) and isinstance(want, str):
        return len(v) == len(want)  # dates, dateTimes, times of the same precision compare as text
    return (isinstance(v, dict) and isinstance(want, dict) and v.get("code") == want.get("code")
            and isinstance(v.get("value"), (int, float)) and isinstance(want.get("value"), (int, float)))


def _key(v: Any) -> Any:
    return v["value"] if isinstance(v, dict) else v


def _item(ctx: Ctx, q: Item, r: Item, answers: list[Item], at: str, url: str, done: bool,
          answers_of: dict[str, list[Item]]) -> None:
    qtype = str(q.get("type") or "")
    link = r["linkId"]
    children = _list(q.get("item"))
    if qtype in _NO_ANSWER:
        if answers:
            ctx.error(IssueType.STRUCTURE, f"{at}.answer[0]", MsgId.QR_ANSWER_NOT_ALLOWED, link_id=link, type=qtype)
        _items(ctx, children, _list(r.get("item")), at, url, done, answers_of)
        return
    if len(answers) > 1 and q.get("repeats") is not True:
        ctx.error(IssueType.STRUCTURE, f"{at}.answer[1]", MsgId.QR_REPEATS, link_id=link, count=len(answers))
    allowed = _allowed_types(q, qtype)
    options = _list(q.get("answerOption"))
    for n, a in enumerate(answers):
        aat = f"{at}.answer[{n}]"
        vkey = next((k for k in a if k.startswith("value") and k[5:6].isupper()), None)
        if vkey is not None:
            found = vkey[5:]
            if allowed and found not in allowed:
                ctx.error(IssueType.STRUCTURE, f"{aat}.value.ofType({_fhir_type(found)})", MsgId.QR_ANSWER_TYPE,
                          link_id=link, type=qtype, found=_fhir_type(found),
                          expected=", ".join(_fhir_type(t) for t in allowed))
            elif qtype == "choice" and options and not any(_matches(o, vkey, a[vkey]) for o in options):
                ctx.error(IssueType.CODE_INVALID, f"{aat}.value.ofType({_fhir_type(found)})",
                          MsgId.QR_ANSWER_OPTION, link_id=link, found=_show(a[vkey]),
                          options=", ".join(_show(_option_value(o)) for o in options[:10]))
            else:
                _value_limits(ctx, q, qtype, vkey, a[vkey], f"{aat}.value.ofType({_fhir_type(found)})", link)
        if children or a.get("item") is not None:
            _items(ctx, children, _list(a.get("item")), aat, url, done, answers_of)
    if children and r.get("item") is not None:  # R4 also lets a question's children sit beside its answers
        _items(ctx, children, _list(r.get("item")), at, url, done, answers_of)


def _value_limits(ctx: Ctx, q: Item, qtype: str, vkey: str, value: Any, at: str, link: str) -> None:
    """``answerValueSet`` of a ``choice`` item (when the value set is known) and ``maxLength``."""
    vs = q.get("answerValueSet")
    code = value.get("code") if isinstance(value, dict) else None
    if qtype == "choice" and vkey == "valueCoding" and isinstance(vs, str) and isinstance(code, str):
        ok, _alias = ctx.registry.terminology.member(vs, value.get("system"), code)
        if ok is False:
            ctx.error(IssueType.CODE_INVALID, at, MsgId.QR_ANSWER_VALUESET, link_id=link, found=_show(value), vs=vs)
    limit = q.get("maxLength")
    if vkey == "valueString" and isinstance(value, str) and isinstance(limit, int) and not isinstance(limit, bool) \
            and len(value) > limit:
        ctx.error(IssueType.VALUE, at, MsgId.QR_MAX_LENGTH, link_id=link, length=len(value), max=limit)


def _allowed_types(q: Item, qtype: str) -> tuple[str, ...]:
    base = ANSWER_TYPES.get(qtype, ())
    if qtype in ("choice", "open-choice"):
        # options may be integers, dates, times, strings or references (R4 answerOption.value[x])
        extra = {k[5:] for o in _list(q.get("answerOption")) for k in o if k.startswith("value") and k[5:6].isupper()}
        return tuple(dict.fromkeys((*base, *sorted(extra))))
    return base


def _option_value(o: Item) -> Any:
    return next((v for k, v in o.items() if k.startswith("value") and k[5:6].isupper()), None)


def _matches(option: Item, vkey: str, value: Any) -> bool:
    ov = option.get(vkey)
    if ov is None:
        return False
    if vkey == "valueCoding" and isinstance(ov, dict) and isinstance(value, dict):
        return ov.get("code") == value.get("code") and (
            ov.get("system") is None or value.get("system") is None or ov.get("system") == value.get("system"))
    if vkey == "valueReference" and isinstance(ov, dict) and isinstance(value, dict):
        return ov.get("reference") == value.get("reference")
    return bool(ov == value)


def _show(v: Any) -> str:
    if isinstance(v, dict):
        if "code" in v:
            return f"{v.get('system', '')}#{v['code']}" if v.get("system") else str(v["code"])
        return str(v.get("reference") or v.get("display") or "?")
    return repr(v) if isinstance(v, str) else str(v)


def _fhir_type(suffix: str) -> str:
    """``DateTime`` → ``dateTime``, ``Coding`` stays (primitive type names start lower-case)."""
    primitives = ("Boolean", "Decimal", "Integer", "Date", "DateTime", "Time", "String", "Uri")
    return suffix[0].lower() + suffix[1:] if suffix in primitives else suffix
