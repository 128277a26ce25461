"""PDSm metadata update, Flux 03/04 "MiseAJourMetadonneeFiche" (FACTS §3.2, appendix A.5; PDSm4DMP
TD3.3a–d, §3.3): ``PATCH [base]/DocumentReference?identifier=<system>|<value>`` with JSON Patch
(RFC 6902, ``application/json-patch+json``) or FHIRPath Patch (``Parameters``).

Only three things may change (anything else → **405**):

- ``status`` — deletion (TD3.3c). **Choice for the FACTS appendix C contradiction**: the canonical
  deletion is ``entered-in-error`` (TD3.3c page, maps to ``urn:asip:ci-sis:2010:StatusType:Deleted``);
  ``superseded`` (IG index page) is accepted too, with a warning. Only the author may delete; a
  deleted document never comes back; nothing is ever physically removed.
- ``securityLabel`` — masking (``MASQUE_PS``), ``INVISIBLE_PATIENT``, ``INVISIBLE_REPRESENTANTS_LEGAUX``
  (TRE_A07), unmasking with ``N``.
- the archive extension ``pdsm-ext-is-archived`` (TD3.3d); the PDSm ``st_maj.md`` URL trap
  (``…/SearchParameter/PDSm-isArchived``) is accepted with a warning.

Pure functions over the DocumentReference dict; :class:`PatchError` carries the HTTP status.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from dmp.fhir import ARCHIVE_EXT, ARCHIVE_EXT_TRAP, copied
from dmp.terminology import visibility

STATUSES = ("current", "superseded", "entered-in-error")
DELETED = ("entered-in-error", "superseded")


class PatchError(Exception):
    def __init__(self, status: int, code: str, text: str, expression: str | None = None) -> None:
        super().__init__(text)
        self.status, self.code, self.text, self.expression = status, code, text, expression


@dataclass(frozen=True)
class Op:
    op: str  # add | replace | remove | test
    target: str  # status | securityLabel | archive
    index: int | str | None = None  # securityLabel position, "-" = append
    value: Any = None
    where: str = ""  # the path as the client wrote it


@dataclass
class Outcome:
    resource: dict[str, Any]
    status_changed: bool = False
    deleted: bool = False
    warnings: list[dict[str, Any]] = field(default_factory=list)


def _forbidden(path: str) -> PatchError:
    return PatchError(405, "not-supported",
                      f"modification interdite de {path!r} : seuls status, securityLabel et l'extension "
                      f"pdsm-ext-is-archived sont modifiables (PDSm Flux 03)", path)


_EXT_URL_RE = re.compile(r"^extension\[url:'(?P<url>[^']+)'\]$")


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def _split(path: str) -> list[str] | None:
    """JSON Pointer tokens, keeping PDSm's ``extension[url:'<url with slashes>']`` step whole."""
    if not path.startswith("/"):
        return None
    if path.startswith("/extension[url:'") and "']" in path:
        head, _, rest = path[1:].partition("']")
        return [head + "']"] + [_unescape(p) for p in rest.split("/")[1:]]
    return [_unescape(p) for p in path.split("/")[1:]]


def _archive_url(url: str, warnings: list[dict[str, Any]], where: str) -> bool:
    if url == ARCHIVE_EXT:
        return True
    if url == ARCHIVE_EXT_TRAP:
        warnings.append({"severity": "warning", "code": "value", "expression": [where],
                         "diagnostics": f"URL d'extension {ARCHIVE_EXT_TRAP} (piège de st_maj.md) acceptée ; "
                                        f"canonique : {ARCHIVE_EXT}"})
        return True
    return False


def parse_json_patch(ops: Any, resource: dict[str, Any], warnings: list[dict[str, Any]]) -> list[Op]:
    if not isinstance(ops, list) or not ops:
        raise PatchError(400, "invalid", "un JSON Patch est un tableau non vide d'opérations (RFC 6902)")
    out = []
    for n, raw in enumerate(ops):
        if not isinstance(raw, dict) or not isinstance(raw.get("op"), str) or not isinstance(raw.get("path"), str):
            raise PatchError(400, "invalid", f"opération {n} : 'op' et 'path' requis")
        op, path = raw["op"], raw["path"]
        if op in ("move", "copy"):
            raise _forbidden(path)
        if op not in ("add", "replace", "remove", "test"):
            raise PatchError(400, "invalid", f"opération {n} : op {op!r} inconnue")
        if op != "remove" and "value" not in raw:
            raise PatchError(400, "invalid", f"opération {n} : 'value' requis pour {op}")
        parts = _split(path)
        if not parts:
            raise _forbidden(path)
        value = raw.get("value")
        m = _EXT_URL_RE.match(parts[0])
        if parts == ["status"]:
            out.append(Op(op, "status", None, value, path))
        elif parts[0] == "securityLabel" and len(parts) <= 2:
            idx: int | str | None = None
            if len(parts) == 2:
                idx = "-" if parts[1] == "-" else int(parts[1]) if parts[1].isdigit() else None
                if idx is None:
                    raise PatchError(400, "invalid", f"index invalide dans {path!r}")
            out.append(Op(op, "securityLabel", idx, value, path))
        elif m and _archive_url(m.group("url"), warnings, path) and parts[1:] in ([], ["valueBoolean"]):
            out.append(Op(op, "archive", None, value if parts[1:] else _ext_bool(value, path), path))
        elif parts[0] == "extension" and len(parts) >= 2:
            exts = resource.get("extension") or []
            if parts[1] == "-" and len(parts) == 2 and op == "add" and isinstance(value, dict) \
                    and _archive_url(str(value.get("url")), warnings, path):
                out.append(Op("add", "archive", None, _ext_bool(value, path), path))
            elif parts[1].isdigit() and int(parts[1]) < len(exts) \
                    and _archive_url(str(exts[int(parts[1])].get("url")), warnings, path) \
                    and parts[2:] in ([], ["valueBoolean"]):
                val = value if parts[2:] else (None if op == "remove" else _ext_bool(value, path))
                out.append(Op(op, "archive", None, val, path))
            else:
                raise _forbidden(path)
        else:
            raise _forbidden(path)
    return out


def _ext_bool(value: Any, where: str) -> Any:
    if isinstance(value, dict):
        return value.get("valueBoolean")
    raise PatchError(422, "value", "extension pdsm-ext-is-archived attendue (url + valueBoolean)", where)


_WHERE_RE = re.compile(r"^DocumentReference\.extension(?:\.where\(url\s*=\s*'(?P<u1>[^']+)'\)|\('(?P<u2>[^']+)'\))"
                       r"(?P<rest>\.value(?:Boolean)?)?$")
_LABEL_RE = re.compile(r"^DocumentReference\.securityLabel(?:\[(?P<idx>\d+)\])?$")


def parse_fhirpath_patch(params: Any, warnings: list[dict[str, Any]]) -> list[Op]:
    if not isinstance(params, dict) or params.get("resourceType") != "Parameters":
        raise PatchError(400, "invalid", "FHIRPath Patch : une ressource Parameters est attendue")
    out = []
    for n, p in enumerate(params.get("parameter") or []):
        if not isinstance(p, dict) or p.get("name") != "operation":
            raise PatchError(400, "invalid", f"Parameters.parameter[{n}] : name 'operation' attendu")
        parts = {q.get("name"): q for q in p.get("part") or [] if isinstance(q, dict)}
        kind = (parts.get("type") or {}).get("valueCode")
        path = (parts.get("path") or {}).get("valueString")
        if not isinstance(kind, str) or not isinstance(path, str):
            raise PatchError(400, "invalid", f"opération {n} : parts 'type' et 'path' requis")
        value_part = parts.get("value") or {}
        value = next((v for k, v in value_part.items() if k.startswith("value")), None)
        if value is None and value_part.get("part"):
            value = {q.get("name"): next((v for k, v in q.items() if k.startswith("value")), None)
                     for q in value_part["part"] if isinstance(q, dict)}
        m_label, m_ext = _LABEL_RE.match(path), _WHERE_RE.match(path)
        if kind == "move":
            raise _forbidden(path)
        if path == "DocumentReference.status" and kind == "replace":
            out.append(Op("replace", "status", None, value, path))
        elif m_label:
            idx = int(m_label.group("idx")) if m_label.group("idx") else None
            if kind == "replace":
                out.append(Op("replace", "securityLabel", idx, value, path))
            elif kind == "delete":
                out.append(Op("remove", "securityLabel", idx, None, path))
            elif kind == "insert":
                pos = (parts.get("index") or {}).get("valueInteger")
                out.append(Op("add", "securityLabel", pos if isinstance(pos, int) else "-", value, path))
            else:
                raise PatchError(400, "invalid", f"opération {kind!r} non applicable à {path!r}")
        elif m_ext and _archive_url(m_ext.group("u1") or m_ext.group("u2"), warnings, path):
            out.append(Op("remove" if kind == "delete" else "replace", "archive", None, value, path))
        elif path == "DocumentReference" and kind == "add":
            name = (parts.get("name") or {}).get("valueString")
            if name == "securityLabel":
                out.append(Op("add", "securityLabel", "-", value, path))
            elif name == "extension" and isinstance(value, dict) \
                    and _archive_url(str(value.get("url")), warnings, path):
                out.append(Op("add", "archive", None, value.get("valueBoolean"), path))
            else:
                raise _forbidden(f"{path}.{name}")
        else:
            raise _forbidden(path)
    if not out:
        raise PatchError(400, "invalid", "FHIRPath Patch sans opération")
    return out


def apply(resource: dict[str, Any], ops: list[Op], warnings: list[dict[str, Any]], *,
          replaced: bool = False) -> Outcome:
    """Apply ``ops`` to a copy of ``resource``; raises :class:`PatchError` (422 for bad values).

    ``replaced``: a document of the DMP (or of the same Bundle) replaces this one (``relatesTo``
    ``replaces``), so ``superseded`` is the PDSm4DMP TD2.1 replacement flow, not a deletion."""
    doc = copied(resource)
    old_status = doc.get("status")
    labels: list[Any] = list(doc.get("securityLabel") or [])
    archived: bool | None = _archived(doc)
    for o in ops:
        if o.target == "status":
            if o.op == "test":
                if doc.get("status") != o.value:
                    raise PatchError(409, "conflict", f"test échoué sur status ({doc.get('status')!r})", o.where)
                continue
            if o.op == "remove":
                raise PatchError(422, "required", "status est obligatoire", o.where)
            if o.value not in STATUSES:
                raise PatchError(422, "value", f"statut {o.value!r} invalide ({', '.join(STATUSES)})", o.where)
            doc["status"] = o.value
        elif o.target == "securityLabel":
            if o.op == "test":
                cur = labels if o.index is None else (labels[o.index] if isinstance(o.index, int)
                                                      and o.index < len(labels) else None)
                if cur != o.value:
                    raise PatchError(409, "conflict", "test échoué sur securityLabel", o.where)
                continue
            if o.index is None:
                if o.op == "remove":
                    labels = []
                elif isinstance(o.value, list):
                    labels = list(o.value)
                else:
                    raise PatchError(422, "value", "securityLabel : tableau de CodeableConcept attendu", o.where)
                continue
            if o.op != "remove" and not isinstance(o.value, dict):
                raise PatchError(422, "value", "securityLabel : CodeableConcept attendu", o.where)
            if o.index == "-":
                labels.append(o.value)
            elif not isinstance(o.index, int) or o.index > len(labels) or (o.op != "add" and o.index == len(labels)):
                raise PatchError(422, "value", f"securityLabel : index {o.index} hors limites", o.where)
            elif o.op == "add":
                labels.insert(o.index, o.value)
            elif o.op == "replace":
                labels[o.index] = o.value
            else:
                labels.pop(o.index)
        elif o.target == "archive":
            if o.op == "test":
                if bool(archived) != bool(o.value):
                    raise PatchError(409, "conflict", "test échoué sur l'archivage", o.where)
                continue
            if o.op == "remove":
                archived = None
            elif not isinstance(o.value, bool):
                raise PatchError(422, "value", "valueBoolean attendu pour pdsm-ext-is-archived", o.where)
            else:
                archived = o.value
    vis = visibility(labels)
    errors = [f for f in vis.findings if f.severity == "error"]
    if errors:
        raise PatchError(422, errors[0].code, errors[0].text, errors[0].expression)
    warnings.extend({"severity": f.severity, "code": f.code, "expression": [f.expression], "diagnostics": f.text}
                    for f in vis.findings)
    if labels:
        doc["securityLabel"] = labels
    else:
        doc.pop("securityLabel", None)
    exts = [e for e in doc.get("extension") or [] if e.get("url") not in (ARCHIVE_EXT, ARCHIVE_EXT_TRAP)]
    if archived is not None:
        exts.append({"url": ARCHIVE_EXT, "valueBoolean": archived})
    if exts:
        doc["extension"] = exts
    else:
        doc.pop("extension", None)
    new_status = doc.get("status")
    if new_status != old_status:
        if old_status in DELETED:
            raise PatchError(422, "business-rule", f"un document au statut {old_status!r} ne peut plus changer de "
                                                   "statut (pas de restauration)", "DocumentReference.status")
        if new_status == "superseded" and not replaced:
            warnings.append({"severity": "warning", "code": "business-rule", "expression": ["DocumentReference.status"],
                             "diagnostics": "suppression par 'superseded' (page d'index PDSm4DMP) acceptée ; "
                                            "le bac à sable retient 'entered-in-error' (TD3.3c)"})
    deleted = new_status in DELETED and new_status != old_status and not (replaced and new_status == "superseded")
    return Outcome(doc, new_status != old_status, deleted, warnings)


def _archived(doc: dict[str, Any]) -> bool | None:
    for e in doc.get("extension") or []:
        if isinstance(e, dict) and e.get("url") in (ARCHIVE_EXT, ARCHIVE_EXT_TRAP):
            return bool(e.get("valueBoolean"))
    return None


def is_archived(doc: dict[str, Any]) -> bool:
    return bool(_archived(doc))
