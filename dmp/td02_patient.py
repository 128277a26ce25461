"""DMP existence and status, TD0.2 "Vérifier l'existence du DMP / accès" (FACTS §3.3, §3.5):
``GET [base]/Patient?identifier=urn:oid:1.2.250.1.213.1.4.8|<INS>`` → ``searchset`` with 0 entries
when the patient has no DMP; otherwise one ``Patient`` whose ``active`` says open (true) or closed
(false, with the closure extension ``dmp-fermeture`` {dateFermeture, motifFermeture, raisonFermeture}).

Also returned, for the calling professional (TD0.2 outputs): attached to Mon Espace Santé, whether
the caller is the médecin traitant DMP, and the authorization status (``autorise`` | ``non_autorise``
| ``bloque``). These three extensions use sandbox URLs (FACTS gives no official ones [U]).
"""

from __future__ import annotations

import uuid
from typing import Any

from dmp.access_rules import Role
from dmp.auth import Caller
from dmp.fhir import BASE_PATH, DMP_CLOSURE_EXT, SANDBOX_EXT, instant, patient_identifier
from dmp.store import Dmp

MES_EXT = f"{SANDBOX_EXT}/dmp-rattache-mon-espace-sante"
MT_EXT = f"{SANDBOX_EXT}/dmp-medecin-traitant"
AUTH_EXT = f"{SANDBOX_EXT}/dmp-statut-autorisation"


def authorization_status(dmp: Dmp, caller: Caller) -> str:
    if caller.actor_id in dmp.blocked:
        return "bloque"
    if dmp.authorize_all or caller.actor_id in dmp.authorized or dmp.medecin_traitant == caller.actor_id:
        return "autorise"
    return "non_autorise"


def patient_resource(dmp: Dmp, caller: Caller, persona: dict[str, Any] | None) -> dict[str, Any]:
    ext: list[dict[str, Any]] = [{"url": MES_EXT, "valueBoolean": dmp.mes_attached}]
    if caller.role is Role.PROFESSIONAL:
        is_mt = bool(dmp.medecin_traitant) and dmp.medecin_traitant == caller.actor_id
        ext.append({"url": MT_EXT, "valueBoolean": is_mt})
        ext.append({"url": AUTH_EXT, "valueCode": authorization_status(dmp, caller)})
    if not dmp.open:
        closure = [{"url": "dateFermeture", "valueDateTime": instant(dmp.closed_at)}] if dmp.closed_at else []
        if dmp.close_motif:
            closure.append({"url": "motifFermeture", "valueCode": dmp.close_motif})
        if dmp.close_reason:
            closure.append({"url": "raisonFermeture", "valueString": dmp.close_reason})
        ext.append({"url": DMP_CLOSURE_EXT, "extension": closure})
    res: dict[str, Any] = {"resourceType": "Patient", "id": dmp.ins, "extension": ext,
                           "identifier": [patient_identifier(dmp.ins)], "active": dmp.open}
    if persona:
        first = persona.get("first_names") or []
        res["name"] = [{"family": persona.get("birth_name", ""), "given": list(first[:1])}]
        res["gender"] = {"M": "male", "F": "female"}.get(persona.get("sex", ""), "unknown")
        res["birthDate"] = persona.get("birth_date")
    return res


def searchset(base_url: str, patient: dict[str, Any] | None) -> dict[str, Any]:
    entries = [] if patient is None else [{"fullUrl": f"{base_url}{BASE_PATH}/Patient/{patient['id']}",
                                           "resource": patient, "search": {"mode": "match"}}]
    return {"resourceType": "Bundle", "id": uuid.uuid4().hex, "type": "searchset", "total": len(entries),
            "entry": entries}
