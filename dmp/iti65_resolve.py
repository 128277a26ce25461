"""ITI-65 reference and content resolution (FACTS §3.2; IHE MHD ITI-65 "urn:uuid references
resolved", FHIR R4 ``Attachment.size``/``Attachment.hash`` = SHA-1 base64): which entry a ``urn:uuid``
names, which INS a ``subject`` names, which bytes an attachment designates, and whether its declared
size and hash match them."""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any
from urllib.parse import unquote

import orjson

from dmp.fhir import RPPS_SYSTEM, ins_of_identifier, is_urn_uuid
from ins import InsIdentifier, check_reliability, oid_of_system, select_ins, system_for
from sandbox.errors import FhirError, issue


def _fail(status: int, code: str, text: str, at: str | None = None) -> FhirError:
    return FhirError(status, code, text, expression=at)


class Resolver:
    """urn:uuid (fullUrl) → entry, and the new server ids."""

    def __init__(self, entries: list[dict[str, Any]]) -> None:
        self.by_full_url: dict[str, tuple[int, dict[str, Any]]] = {}
        self.new_ids: dict[str, str] = {}
        for i, e in enumerate(entries):
            full = e.get("fullUrl")
            res = e.get("resource") or {}
            if isinstance(full, str):
                if full in self.by_full_url:
                    raise _fail(400, "invalid", f"fullUrl en double : {full}", f"Bundle.entry[{i}].fullUrl")
                self.by_full_url[full] = (i, res)

    def entry(self, ref: str, at: str) -> tuple[int, dict[str, Any]]:
        hit = self.by_full_url.get(ref)
        if hit is None:
            raise _fail(422, "not-found", f"référence {ref} non résolue : aucune entrée du Bundle n'a ce fullUrl", at)
        return hit


def _contained(res: dict[str, Any], ref: str) -> dict[str, Any] | None:
    for c in res.get("contained") or []:
        if isinstance(c, dict) and c.get("id") == ref[1:]:
            return c
    return None


def patient_ins(ref: Any, res: dict[str, Any], resolver: Resolver, at: str) -> InsIdentifier | None:
    """INS named by a Reference: logical identifier, ``Patient?identifier=``, ``#contained``,
    ``urn:uuid`` of a Bundle Patient, or ``Patient/<INS>``. A Patient resource's INS is chosen by
    OID *and* type (FACTS §1.5, §8.1: the NSS shares the NIR OID); when none can be chosen the
    answer is a 422 naming the rule that failed."""
    if not isinstance(ref, dict):
        return None
    ins = ins_of_identifier(ref.get("identifier"))
    if ins:
        return ins
    r = ref.get("reference")
    if not isinstance(r, str):
        return None
    if r.startswith("Patient?"):
        for part in r[len("Patient?"):].split("&"):
            name, _, value = part.partition("=")
            if name == "identifier":
                system, _, code = unquote(value).partition("|")
                found = ins_of_identifier({"system": system, "value": code})
                if found:
                    return found
        return None
    target: dict[str, Any] | None = None
    where = at
    if r.startswith("#"):
        target = _contained(res, r)
        where = f"{at.rsplit('.', 1)[0]}.contained"
    elif r.startswith("urn:uuid:"):
        idx, target = resolver.entry(r, at)
        where = f"Bundle.entry[{idx}].resource"
    elif "Patient/" in r:
        candidate = r.rsplit("Patient/", 1)[1].split("/")[0]
        return InsIdentifier(candidate, oid_of_system(system_for(candidate)) or "") \
            if len(candidate) == 15 and candidate.isalnum() else None
    if isinstance(target, dict) and target.get("resourceType") == "Patient":
        return patient_resource_ins(target, f"{where}.identifier")
    return None


def patient_resource_ins(patient: dict[str, Any], at: str) -> InsIdentifier:
    """The INS of a Patient resource, or a 422 whose diagnostics start with the rule id."""
    reliability = check_reliability(patient, at.rsplit(".identifier", 1)[0])
    if reliability:
        raise FhirError(422, "business-rule", f"[{reliability[0].rule.value}] {reliability[0].text('fr')}",
                        issues=[issue("error", "business-rule", f"[{p.rule.value}] {p.text('fr')}", p.expression)
                                for p in reliability])
    selection = select_ins(patient.get("identifier") or [])
    if selection.ins is not None:
        return selection.ins
    problem = selection.problems[0]
    where = at if problem.index is None else f"{at}[{problem.index}]"
    raise FhirError(422, "business-rule", f"[{problem.rule.value}] INS du patient : {problem.text('fr')}",
                    expression=where, issues=[issue("error", "business-rule",
                                                    f"[{p.rule.value}] {p.text('fr')}",
                                                    at if p.index is None else f"{at}[{p.index}]")
                                              for p in selection.problems])


def author_of(res: dict[str, Any], resolver: Resolver) -> tuple[str, str, str]:
    """(RPPS/IDNPS, family, given) of the first Practitioner author found."""
    for ref in res.get("author") or []:
        r = ref.get("reference") if isinstance(ref, dict) else None
        target = None
        if isinstance(r, str) and r.startswith("#"):
            target = _contained(res, r)
        elif isinstance(r, str) and r in resolver.by_full_url:
            target = resolver.by_full_url[r][1]
        if isinstance(target, dict) and target.get("resourceType") in ("Practitioner", "PractitionerRole"):
            ident = next((i.get("value", "") for i in target.get("identifier") or []
                          if isinstance(i, dict) and i.get("system") == RPPS_SYSTEM), "")
            name = (target.get("name") or [{}])[0] if isinstance(target.get("name"), list) else {}
            given = (name.get("given") or [""])[0] if isinstance(name, dict) else ""
            return ident, (name.get("family") or "") if isinstance(name, dict) else "", given or ""
    return "", "", ""


def content_of(att: dict[str, Any], resolver: Resolver, at: str) -> tuple[bytes, str]:
    """The document bytes and content type an attachment designates."""
    if isinstance(att.get("data"), str):
        try:
            return base64.b64decode(att["data"], validate=True), att.get("contentType") or "application/octet-stream"
        except (binascii.Error, ValueError):
            raise _fail(400, "invalid", "attachment.data n'est pas du base64 valide", f"{at}.data") from None
    url = att.get("url")
    if not isinstance(url, str):
        raise _fail(422, "required", "attachment sans url ni data : contenu du document absent", at)
    if not is_urn_uuid(url) and url not in resolver.by_full_url:
        raise _fail(422, "not-found", f"attachment.url {url[:200]!r} ne désigne aucune entrée du Bundle "
                                      "(le contenu doit être fourni dans la soumission)", f"{at}.url")
    idx, target = resolver.entry(url, f"{at}.url")
    if target.get("resourceType") == "Binary":
        try:
            data = base64.b64decode(target.get("data") or "", validate=True)
        except (binascii.Error, ValueError):
            raise _fail(400, "invalid", "Binary.data n'est pas du base64 valide",
                        f"Bundle.entry[{idx}].resource.data") from None
        return data, target.get("contentType") or att.get("contentType") or "application/octet-stream"
    if target.get("resourceType") == "Bundle":
        return orjson.dumps(target), "application/fhir+json"
    raise _fail(422, "invalid", f"attachment.url désigne un {target.get('resourceType')}, pas un Binary",
                f"{at}.url")


def check_integrity(att: dict[str, Any], data: bytes, at: str) -> tuple[int, str]:
    size, digest = len(data), base64.b64encode(hashlib.sha1(data).digest()).decode()  # noqa: S324 - FHIR hash
    if "size" in att and att["size"] != size:
        raise _fail(422, "value", f"attachment.size {att['size']!r} ≠ taille réelle du contenu ({size} octets)",
                    f"{at}.size")
    if "hash" in att and att["hash"] != digest:
        raise _fail(422, "value", f"attachment.hash {str(att['hash'])[:60]!r} ≠ SHA-1 base64 du contenu ({digest})",
                    f"{at}.hash")
    return size, digest
