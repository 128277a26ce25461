"""Conformance resources validated as what they define (FHIR R4 §2.12 StructureDefinition,
§3.1.1.4 SearchParameter, §2.13 CapabilityStatement), beyond their base structure and invariants.

- SearchParameter: a ``composite`` parameter lists its ``component``s and only it may; ``target``
  only for a ``reference`` parameter; each ``component.definition`` is a SearchParameter canonical.
- StructureDefinition: every element of the differential names an element R4 defines for the
  type (a profile problem otherwise); with a snapshot, every differential element id is in it;
  a slice (``sliceName``) of the snapshot follows the element that defines the slicing.
- CapabilityStatement: validated by its base structure and invariants (cpb-*); the
  ``format`` shorthands ``xml``, ``json``, ``ttl`` are accepted by :mod:`profiles.code_grammars`.
"""

from __future__ import annotations

from typing import Any

from profiles.context import Ctx
from profiles.issues import IssueType
from profiles.messages import MsgId
from profiles.sdef import known_path

Res = dict[str, Any]


def check(ctx: Ctx, res: Res, loc: str) -> None:
    rt = res.get("resourceType")
    if rt == "SearchParameter":
        _search_parameter(ctx, res, loc)
    elif rt == "StructureDefinition":
        _structure_definition(ctx, res, loc)


def _list(v: Any) -> list[Any]:
    return v if isinstance(v, list) else []


def _search_parameter(ctx: Ctx, sp: Res, loc: str) -> None:
    ptype, components = sp.get("type"), _list(sp.get("component"))
    if ptype == "composite" and not components:
        ctx.error(IssueType.REQUIRED, loc, MsgId.CONF_SP_COMPOSITE, type=ptype)
    elif ptype != "composite" and components and isinstance(ptype, str):
        ctx.error(IssueType.INVALID, f"{loc}.component[0]", MsgId.CONF_SP_COMPOSITE, type=ptype)
    if _list(sp.get("target")) and isinstance(ptype, str) and ptype != "reference":
        ctx.error(IssueType.INVALID, f"{loc}.target[0]", MsgId.CONF_SP_TARGET, type=ptype)
    for i, c in enumerate(components):
        d = c.get("definition") if isinstance(c, dict) else None
        if isinstance(d, str) and "/SearchParameter/" not in d:
            ctx.error(IssueType.INVALID, f"{loc}.component[{i}].definition", MsgId.CONF_SP_COMPONENT, ref=d)


def _structure_definition(ctx: Ctx, sd: Res, loc: str) -> None:
    model = ctx.registry.model
    stype = sd.get("type")
    if not isinstance(stype, str) or stype not in model.types or sd.get("kind") == "logical":
        return
    diff = _list((sd.get("differential") or {}).get("element")) if isinstance(sd.get("differential"), dict) else []
    snap = _list((sd.get("snapshot") or {}).get("element")) if isinstance(sd.get("snapshot"), dict) else []
    for i, el in enumerate(diff):
        eid = el.get("id") or el.get("path") if isinstance(el, dict) else None
        if isinstance(eid, str) and "." in eid and not known_path(model, stype, eid):
            ctx.error(IssueType.INVALID, f"{loc}.differential.element[{i}]", MsgId.CONF_SD_UNKNOWN_PATH, path=eid,
                      type=stype)
    if snap:
        ids = {el.get("id") for el in snap if isinstance(el, dict)}
        for i, el in enumerate(diff):
            eid = el.get("id") if isinstance(el, dict) else None
            if isinstance(eid, str) and eid not in ids:
                ctx.error(IssueType.INVALID, f"{loc}.differential.element[{i}]", MsgId.CONF_SD_NOT_IN_SNAPSHOT,
                          path=eid)
        sliced: set[str] = set()
        for i, el in enumerate(snap):
            if not isinstance(el, dict) or not isinstance(el.get("path"), str):
                continue
            sid: str = el["id"] if isinstance(el.get("id"), str) else el["path"]
            if el.get("slicing"):
                sliced.add(sid)
            if el.get("sliceName"):
                base_id = sid.rsplit(":", 1)[0]
                if base_id not in sliced:
                    ctx.error(IssueType.INVALID, f"{loc}.snapshot.element[{i}]", MsgId.CONF_SD_SLICE_UNDEFINED,
                              path=sid)
