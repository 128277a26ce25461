"""PSC identity claims built from a professional persona (FACTS §4, appendix A.6).

- ``sub`` = ``f:<realm-uuid>:<IDNPS>`` [V]; the realm uuid is fixed (uuid5 of a constant name), so
  subjects are stable across runs, hosts and ports.
- userinfo: ``SubjectNameID`` (IDNPS), ``SubjectRefPro.exercices[].activities[]`` built from the
  persona's activities and the organisation personas they point to, ``otherIds``,
  ``SubjectOrganization`` … as in the BAS samples [V]. Values FACTS marks [U] (e-CPS ``authMode``,
  ``codeGenreActivite``, ``autoriteDenregistrement``) are plausible placeholders.
- Which claims each scope releases is not published [U]: ``openid`` → ``sub``; ``profile`` →
  names and civility; ``email`` → e-mail; ``identity`` → ``SubjectNameID``, ``otherIds``,
  ``SubjectRefPro``; ``scope_all`` → every claim.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

REALM = "esante-wallet"
REALM_UUID = str(uuid.uuid5(uuid.NAMESPACE_DNS, "esante-wallet.psc.mes-sandbox.invalid"))
SUB_RE = re.compile(r"^f:[0-9a-f-]{36}:(?P<idnps>[A-Za-z0-9]{1,80})$")

OID_ROLE = "1.2.250.1.213.1.1.5.5"
OID_SECTOR = "1.2.250.1.71.4.2.4"
PALIER = "APPPRIP3^1.2.250.1.213.1.5.1.1.1"
PSI_LOCALE = "1.2.250.1.213.1.3.1.1"
GENRE_ACTIVITE = "GENR01"  # [U] "activité standard de soin"

_VOIE = {"RUE": "R", "AVENUE": "AV", "BOULEVARD": "BD", "PLACE": "PL", "CHEMIN": "CHE",
         "ROUTE": "RTE", "ALLEE": "ALL", "IMPASSE": "IMP", "QUAI": "QUAI", "COURS": "CRS"}


def subject(idnps: str) -> str:
    return f"f:{REALM_UUID}:{idnps}"


def idnps_of(sub: str) -> str | None:
    m = SUB_RE.match(sub)
    return m.group("idnps") if m else None


def _split_address(line: str) -> tuple[str, str, str]:
    """``"1 RUE DE L'HOPITAL"`` → (``"1"``, ``"R"``, ``"DE L'HOPITAL"``)."""
    parts = line.split(" ", 2)
    if len(parts) == 3 and parts[0].isdigit() and parts[1] in _VOIE:
        return parts[0], _VOIE[parts[1]], parts[2]
    if len(parts) >= 2 and parts[0].isdigit():
        return parts[0], "", " ".join(parts[1:])
    return "", "", line


def activity(act: dict[str, Any], org: dict[str, Any] | None) -> dict[str, Any]:
    org = org or {}
    address = org.get("address") or {}
    numero, type_voie, libelle = _split_address(address.get("line", ""))
    return {
        "codeModeExercice": act.get("mode_exercice", ""),
        "codeSecteurDactivite": org.get("sector", ""),
        "codeSectionPharmacien": "",
        "codeRole": act.get("role", ""),
        "codeGenreActivite": GENRE_ACTIVITE,
        "numeroSiretSite": org.get("siret", ""),
        "numeroSirenSite": org.get("siren", ""),
        "numeroFinessSite": org.get("finess_et", ""),
        "numeroFinessetablissementJuridique": org.get("finess_ej", ""),
        "identifiantTechniqueDeLaStructure": f"F{org['finess_et']}" if org.get("finess_et") else "",
        "raisonSocialeSite": org.get("name", ""),
        "enseigneCommercialeSite": "",
        "complementDestinataire": "",
        "complementPointGeographique": "",
        "numeroVoie": numero,
        "indiceRepetitionVoie": "",
        "codeTypeDeVoie": type_voie,
        "libelleVoie": libelle,
        "mentionDistribution": "",
        "bureauCedex": f"{address.get('postal_code', '')} {address.get('city', '')}".strip(),
        "codePostal": address.get("postal_code", ""),
        "codeCommune": address.get("cog", ""),
        "codePays": address.get("country", "99000") if address else "",
        "telephone": "",
        "telephone2": "",
        "telecopie": "",
        "adresseEMail": (org.get("mailboxes") or [""])[0],
        "codeDepartement": address.get("postal_code", "")[:2],
        "ancienIdentifiantDeLaStructure": "",
        "autoriteDenregistrement": "ARS",  # [U]
    }


def userinfo_claims(pro: dict[str, Any], orgs: dict[str, dict[str, Any]], scopes: list[str],
                    auth_mode: str) -> dict[str, Any]:
    """Userinfo claims of ``pro`` for the granted ``scopes`` (``orgs``: organisation personas by id)."""
    idnps = pro["id"]
    acts = [activity(a, orgs.get(a["organisation_id"])) for a in pro.get("activities", [])]
    first_org = orgs.get(pro["activities"][0]["organisation_id"], {}) if pro.get("activities") else {}
    every = "scope_all" in scopes
    out: dict[str, Any] = {"sub": subject(idnps)}
    if every or "profile" in scopes:
        out.update({
            "preferred_username": idnps, "given_name": pro.get("given_name", ""),
            "family_name": pro.get("family_name", ""), "codeCivilite": pro.get("civility", ""),
        })
    if every or "email" in scopes:
        out.update({"email": pro.get("email", ""), "email_verified": bool(pro.get("email"))})
    if every or "identity" in scopes:
        out.update({
            "SubjectNameID": idnps,
            "otherIds": [{"identifiant": pro.get("rpps") or idnps, "origine": pro.get("id_origin", "RPPS"),
                          "qualite": 1}],
            "SubjectRefPro": {
                "codeCivilite": pro.get("civility", ""),
                "exercices": [{
                    "codeProfession": pro.get("profession", ""),
                    "codeCategorieProfessionnelle": pro.get("category", "C"),
                    "codeCiviliteDexercice": pro.get("exercise_civility", ""),
                    "nomDexercice": pro.get("family_name", ""),
                    "prenomDexercice": pro.get("given_name", ""),
                    "codeTypeSavoirFaire": pro.get("savoir_faire_type", ""),
                    "codeSavoirFaire": pro.get("savoir_faire", ""),
                    "activities": acts,
                }],
            },
        })
    if every:
        out.update({
            "SubjectOrganization": first_org.get("name", ""),
            "SubjectOrganizationID": first_org.get("finess_et", ""),
            "SubjectRole": [f"{pro.get('profession', '')}^{OID_ROLE}"],
            "Secteur_Activite": f"{first_org['sector']}^{OID_SECTOR}" if first_org.get("sector") else "",
            "codeGenreActivite": [GENRE_ACTIVITE],
            "Mode_Acces_Raison": "",
            "Acces_Regulation_Medicale": "VRAI" if pro.get("medical_regulation") else "FAUX",
            "UITVersion": "1.0",
            "Palier_Authentification": PALIER,
            "PSI_Locale": PSI_LOCALE,
            "authMode": auth_mode,
        })
    return out
