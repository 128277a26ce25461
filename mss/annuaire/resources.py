"""Annuaire Santé FHIR resources built from a workspace's personas (FACTS §2.6; IG ``ans.fhir.fr.annuaire``).

Practitioner (IDNPS + RPPS identifiers, name, profession), PractitionerRole (one per activity:
practitioner, organisation, mode d'exercice), Organization (FINESS géographique, IDNST, SIRET,
sector TRE_R02, address). Each MSSanté mailbox is a ``telecom`` shaped as the ``as-mailbox-mss``
ContactPoint: ``system=email``, extension ``fr-core-contact-point-email-type`` = ``MSSANTE``
(TRE_R256) and the complex extension ``as-ext-mailbox-mss-metadata`` {type, description, service,
listeRouge}. PER boxes sit on the Practitioner and its roles, ORG/APP/CAB boxes on the
Organization. Patient addresses (``<INS>@patient.mssante.fr``) are not in the directory.
Pure functions over persona dicts (as ``sandbox.personas`` stores them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape
from typing import Any

CANONICAL = "https://interop.esante.gouv.fr/ig/fhir/annuaire"
EXT_MAILBOX_METADATA = f"{CANONICAL}/StructureDefinition/as-ext-mailbox-mss-metadata"
EXT_EMAIL_TYPE = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-contact-point-email-type"
TRE_R256 = "https://mos.esante.gouv.fr/NOS/TRE_R256-TypeMessagerie/FHIR/TRE-R256-TypeMessagerie"
#: BAL type codes as the official examples write them (JDV_J139-TypeBAL-RASS draws them from TRE_R257)
TRE_R257 = "https://mos.esante.gouv.fr/NOS/TRE_R257-TypeBAL/FHIR/TRE-R257-TypeBAL"
BAL_TYPES = ("PER", "ORG", "APP", "CAB")
V2_0203 = "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203"
OID_IDNPS = "urn:oid:1.2.250.1.71.4.2.1"
OID_IDNST = "urn:oid:1.2.250.1.71.4.2.2"
RPPS_SYSTEM = "https://rpps.esante.gouv.fr"
FINESS_SYSTEM = "https://finess.esante.gouv.fr"
SIRET_SYSTEM = "https://sirene.fr"
TRE_R02 = "https://mos.esante.gouv.fr/NOS/TRE_R02-SecteurActivite/FHIR/TRE-R02-SecteurActivite"
TRE_G15 = "https://mos.esante.gouv.fr/NOS/TRE_G15-ProfessionSante/FHIR/TRE-G15-ProfessionSante"
TRE_R23 = "https://mos.esante.gouv.fr/NOS/TRE_R23-ModeExercice/FHIR/TRE-R23-ModeExercice"
TRE_R13 = "https://mos.esante.gouv.fr/NOS/TRE_R13-Commune/FHIR/TRE-R13-Commune"
EXT_INSEE = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-address-insee-code"
FR_CORE = "https://hl7.fr/ig/fhir/core/StructureDefinition"


@dataclass
class Directory:
    """The directory of one workspace: resources by type, in a stable order."""

    practitioners: list[dict[str, Any]] = field(default_factory=list)
    roles: list[dict[str, Any]] = field(default_factory=list)
    organizations: list[dict[str, Any]] = field(default_factory=list)

    def of_type(self, resource_type: str) -> list[dict[str, Any]]:
        return {"Practitioner": self.practitioners, "PractitionerRole": self.roles,
                "Organization": self.organizations}[resource_type]

    def mailbox(self, address: str) -> dict[str, Any] | None:
        """The mailbox metadata (address, type, owner) of ``address``, or None when not listed."""
        wanted = address.strip().lower()
        for rtype in ("Practitioner", "Organization"):
            for r in self.of_type(rtype):
                for t in r.get("telecom", []):
                    if t.get("value", "").lower() == wanted and mailbox_type(t):
                        return {"address": t["value"], "type": mailbox_type(t), "owner": f"{rtype}/{r['id']}"}
        return None


def mailbox_type(telecom: dict[str, Any]) -> str:
    for ext in telecom.get("extension", []):
        if ext.get("url") == EXT_MAILBOX_METADATA:
            for sub in ext.get("extension", []):
                if sub.get("url") == "type":
                    return str(sub["valueCodeableConcept"]["coding"][0]["code"])
    return ""


def mailbox_telecom(address: str, bal_type: str, description: str = "", service: str = "") -> dict[str, Any]:
    meta: list[dict[str, Any]] = [{"url": "type", "valueCodeableConcept": {"coding": [
        {"system": TRE_R257, "code": bal_type}]}}]
    if description:
        meta.append({"url": "description", "valueString": description})
    if service:
        meta.append({"url": "service", "valueString": service})
    meta.append({"url": "listeRouge", "valueBoolean": False})
    return {"extension": [{"url": EXT_EMAIL_TYPE, "valueCoding": {"system": TRE_R256, "code": "MSSANTE"}},
                          {"url": EXT_MAILBOX_METADATA, "extension": meta}],
            "system": "email", "value": address}


def _ident(code: str, system: str, value: str) -> dict[str, Any]:
    return {"use": "official", "type": {"coding": [{"system": V2_0203, "code": code}]}, "system": system,
            "value": value}


def _text(html: str) -> dict[str, str]:
    return {"status": "generated", "div": f'<div xmlns="http://www.w3.org/1999/xhtml"><p>{html}</p></div>'}


def practitioner(pro: dict[str, Any], boxes: list[dict[str, Any]]) -> dict[str, Any]:
    ids = [_ident("IDNPS", OID_IDNPS, pro["id"])]
    if pro.get("rpps"):
        ids.append(_ident("RPPS", RPPS_SYSTEM, pro["rpps"]))
    name: dict[str, Any] = {"use": "usual", "family": pro["family_name"], "given": [pro["given_name"]]}
    if pro.get("exercise_civility") or pro.get("civility"):
        name["prefix"] = [pro.get("exercise_civility") or pro["civility"]]
    r: dict[str, Any] = {
        "resourceType": "Practitioner", "id": pro["id"],
        "meta": {"profile": [f"{FR_CORE}/fr-core-practitioner", f"{CANONICAL}/StructureDefinition/as-practitioner"]},
        "text": _text(escape(f"{pro['given_name']} {pro['family_name']}, {pro.get('profession_label', '')}")),
        "identifier": ids, "active": True, "name": [name],
    }
    telecom = [mailbox_telecom(b["id"], b["type"], b.get("description", "")) for b in boxes]
    if telecom:
        r["telecom"] = telecom
    if pro.get("profession"):
        r["qualification"] = [{"code": {"coding": [{"system": TRE_G15, "code": pro["profession"]}]}}]
    return r


def practitioner_role(pro: dict[str, Any], activity: dict[str, Any], boxes: list[dict[str, Any]]) -> dict[str, Any]:
    org = activity["organisation_id"]
    r: dict[str, Any] = {
        "resourceType": "PractitionerRole", "id": f"{pro['id']}-{org}",
        "meta": {"profile": [f"{FR_CORE}/fr-core-practitioner-role",
                             f"{CANONICAL}/StructureDefinition/as-practitionerrole"]},
        "text": _text(escape(f"{pro['given_name']} {pro['family_name']} @ {org}")),
        "active": True,
        "practitioner": {"reference": f"Practitioner/{pro['id']}"},
        "organization": {"reference": f"Organization/{org}"},
    }
    if activity.get("mode_exercice"):
        r["code"] = [{"coding": [{"system": TRE_R23, "code": activity["mode_exercice"]}]}]
    telecom = [mailbox_telecom(b["id"], b["type"], b.get("description", "")) for b in boxes]
    if telecom:
        r["telecom"] = telecom
    return r


def organization(org: dict[str, Any], boxes: list[dict[str, Any]]) -> dict[str, Any]:
    ids = [_ident("FINEG", FINESS_SYSTEM, org["finess_et"]), _ident("IDNST", OID_IDNST, "1" + org["finess_et"])]
    if org.get("siret"):
        ids.append(_ident("SIRET", SIRET_SYSTEM, org["siret"]))
    r: dict[str, Any] = {
        "resourceType": "Organization", "id": org["id"],
        "meta": {"profile": [f"{FR_CORE}/fr-core-organization", f"{CANONICAL}/StructureDefinition/as-organization"]},
        "text": _text(escape(org["name"])),
        "identifier": ids, "active": True,
        "type": [{"coding": [{"system": TRE_R02, "code": org["sector"], "display": org.get("sector_label", "")}]}],
        "name": org["name"],
    }
    telecom = [mailbox_telecom(b["id"], b["type"], b.get("description", "")) for b in boxes]
    if telecom:
        r["telecom"] = telecom
    addr = org.get("address") or {}
    if addr:
        r["address"] = [{"extension": [{"url": EXT_INSEE, "valueCoding": {"system": TRE_R13, "code": addr["cog"]}}],
                         "line": [addr["line"]], "city": addr["city"], "postalCode": addr["postal_code"]}]
    return r


def build_directory(professionals: list[dict[str, Any]], organisations: list[dict[str, Any]],
                    mailboxes: list[dict[str, Any]]) -> Directory:
    """The directory from persona dicts; mailboxes of a type outside PER/ORG/APP/CAB are left out."""
    by_owner: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for b in mailboxes:
        if b.get("type") in BAL_TYPES:
            by_owner.setdefault((b.get("owner_kind", ""), b.get("owner_id", "")), []).append(b)
    d = Directory()
    known_orgs = {o["id"] for o in organisations}
    for o in organisations:
        d.organizations.append(organization(o, by_owner.get(("organisation", o["id"]), [])))
    for p in professionals:
        boxes = by_owner.get(("professional", p["id"]), [])
        d.practitioners.append(practitioner(p, boxes))
        for act in p.get("activities") or []:
            if act.get("organisation_id") in known_orgs:
                d.roles.append(practitioner_role(p, act, boxes))
    return d
