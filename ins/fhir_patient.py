"""FHIR face of INS: fr-core Patient INS resources and their search (FACTS §1.5, A.3, §8.1, §8.5).

Framework-free: search parameters in, :class:`PatientSearch` or :class:`sandbox.errors.FhirError`
out; identities in, JSON resources and a ``searchset`` Bundle out.

- Identifier slice by ``type`` (``fr-core-cs-v2-0203``: INS-NIR / INS-NIA / INS-NIR-TEST /
  INS-NIR-DEMO, chosen from the OID — the NSS slice shares OID ``.8``, so ``type`` discriminates),
  value = 15-character matricule, ``use`` official (``temp`` for a NIA).
- ``name[officialName]``: ``given`` = first first name only + extension
  ``fr-core-patient-birth-list-given-name`` = the whole INSi ``ListePrenom``.
- ``birthPlace`` core extension with ``fr-core-address-insee-code`` (TRE_R13-CommuneOM, COG).
- ``fr-core-identity-reliability``: the status the identity has right after a successful INSi call
  (RNIV: PROV → RECUP, VALI → QUAL; :mod:`ins.rniv`), coded in ``fr-core-cs-identity-status``
  (fr-core dev main; the published v2-0445 has no RECUP/QUAL — FACTS §1.5, App. C), method
  ``INSI``; ``validationMode`` ``CN`` for a qualified identity [U: the world keeps no ID document].
- Search: ``identifier`` (``[urn:oid:<INS OID>|]<15 characters>``), ``family``, ``given``
  (repeatable: every one must be a first name), ``birthdate`` (``YYYY-MM-DD``, optional ``eq``),
  ``gender`` (``male``/``female``), ``birthplace`` (COG). Names are normalised as INSi does (FHIR
  string search ignores case and accents) and matched exactly. At least ``identifier``, ``family``
  or ``birthdate`` is required (a search over a whole workspace is refused as too costly).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from ins.identifiers import IDENTIFIER_TYPE_SYSTEMS, INS_OIDS, OID_INS_NIA, TYPE_BY_OID
from ins.identities import Identity
from ins.messages import Problem
from ins.nir import check_matricule
from ins.reliability import IDENTITY_STATUS, RELIABILITY_URL
from ins.rniv import Event, Status, transition
from ins.traits import BIRTH_NAME_EXTRA, FIRST_NAME_EXTRA, check_cog, check_date, normalise
from sandbox.errors import FhirError, issue

FR_CORE = "https://hl7.fr/ig/fhir/core"
PROFILE = f"{FR_CORE}/StructureDefinition/fr-core-patient-ins"
IDENTIFIER_TYPE_SYSTEM = IDENTIFIER_TYPE_SYSTEMS[0]
STATUS_SYSTEM = IDENTITY_STATUS
METHOD_SYSTEM = f"{FR_CORE}/CodeSystem/fr-core-cs-identity-method-collection"
MODE_SYSTEM = f"{FR_CORE}/CodeSystem/fr-core-cs-mode-validation-identity"
BIRTH_LIST_URL = f"{FR_CORE}/StructureDefinition/fr-core-patient-birth-list-given-name"
BIRTH_PLACE_URL = "http://hl7.org/fhir/StructureDefinition/patient-birthPlace"
INSEE_CODE_URL = f"{FR_CORE}/StructureDefinition/fr-core-address-insee-code"
COMMUNE_SYSTEM = "https://mos.esante.gouv.fr/NOS/TRE_R13-CommuneOM/FHIR/TRE-R13-CommuneOM"

GENDER = {"M": "male", "F": "female"}
SEX_BY_GENDER = {v: k for k, v in GENDER.items()}
SUPPORTED = ("identifier", "family", "given", "birthdate", "gender", "birthplace", "_count")
IGNORED = ("_format", "_pretty", "_summary", "_elements")
MAX_COUNT = 100

EXPRESSION = {
    "identifier": "Patient.identifier", "family": "Patient.name.family", "given": "Patient.name.given",
    "birthdate": "Patient.birthDate", "gender": "Patient.gender",
    "birthplace": f"Patient.extension('{BIRTH_PLACE_URL}')", "_count": "_count",
}


def patient_resource(identity: Identity, *, collected: date | None = None) -> dict[str, Any]:
    """One fr-core Patient INS resource (shape of FACTS A.3)."""
    t = identity.traits
    status = transition(identity.status, Event.INSI_SUCCESS)
    reliability = [
        {"url": "identityStatus", "valueCoding": {"system": STATUS_SYSTEM, "code": status.value}},
        {"url": "methodCollection", "valueCoding": {"system": METHOD_SYSTEM, "code": "INSI"}},
        {"url": "dateCollection", "valueDate": (collected or date.today()).isoformat()},
    ]
    if status is Status.QUAL:
        reliability.append({"url": "validationMode", "valueCoding": {"system": MODE_SYSTEM, "code": "CN"}})
    oid = identity.ins.oid
    return {
        "resourceType": "Patient",
        "id": identity.id,
        "meta": {"profile": [PROFILE]},
        "extension": [
            {"url": RELIABILITY_URL, "extension": reliability},
            {"url": BIRTH_PLACE_URL, "valueAddress": {"extension": [
                {"url": INSEE_CODE_URL, "valueCoding": {"system": COMMUNE_SYSTEM, "code": t.birth_place}}]}},
        ],
        "identifier": [{
            "use": "temp" if oid == OID_INS_NIA else "official",
            "type": {"coding": [{"system": IDENTIFIER_TYPE_SYSTEM, "code": TYPE_BY_OID.get(oid, "INS-NIR")}]},
            "system": f"urn:oid:{oid}",
            "value": identity.ins.value,
        }],
        "name": [{
            "extension": [{"url": BIRTH_LIST_URL, "valueString": t.first_name_list}],
            "use": "official", "family": t.birth_name, "given": [t.first_names[0]],
        }],
        "gender": GENDER[t.sex],
        "birthDate": t.birth_date,
    }


def searchset(identities: list[Identity], base: str, self_url: str) -> dict[str, Any]:
    return {
        "resourceType": "Bundle", "type": "searchset", "total": len(identities),
        "link": [{"relation": "self", "url": self_url}],
        "entry": [{"fullUrl": f"{base}/Patient/{i.id}", "resource": patient_resource(i),
                   "search": {"mode": "match"}} for i in identities],
    }


@dataclass(frozen=True)
class PatientSearch:
    """Validated search: normalised traits and/or a matricule."""

    number: str | None = None  # 13 characters
    key: str | None = None
    oid: str | None = None  # system asked for (None = any INS OID)
    birth_name: str | None = None
    first_names: tuple[str, ...] = ()
    sex: str | None = None
    birth_date: str | None = None
    birth_place: str | None = None
    count: int = 50


def _error(param: str, problems: list[Problem], code: str = "value") -> FhirError:
    return FhirError(400, code, problems[0].text("fr"), issues=[
        issue("error", code, p.text("fr"), EXPRESSION.get(param, param),
              details={"coding": [{"system": "urn:mes-sandbox:ins:msg", "code": p.msg_id.value}],
                       "text": p.text("en")})
        for p in problems])


def _simple_error(param: str, fr: str, code: str = "value") -> FhirError:
    return FhirError(400, code, fr, expression=EXPRESSION.get(param, param))


def _name(param: str, raw: str, extra: str) -> str:
    norm = normalise(raw)
    bad = next((ch for ch in norm if not ("A" <= ch <= "Z" or ch in extra)), None)
    if not norm or bad is not None:
        raise _simple_error(param, f"Paramètre {param} « {raw} » invalide : lettres, {extra!r} uniquement "
                                   f"(caractère « {bad} »).")
    return norm


def parse_search(params: list[tuple[str, str]]) -> PatientSearch:
    """Check FHIR search parameters (``(name, value)`` pairs, repeated names kept)."""
    values: dict[str, list[str]] = {}
    for name, value in params:
        base, _, modifier = name.partition(":")
        if base in IGNORED:
            continue
        if base not in SUPPORTED:
            raise _simple_error(base, f"Paramètre de recherche non pris en charge : {name}. "
                                      f"Pris en charge : {', '.join(SUPPORTED)}.", "not-supported")
        if modifier and not (base in ("family", "given") and modifier == "exact"):
            raise _simple_error(base, f"Modificateur non pris en charge : {name}.", "not-supported")
        values.setdefault(base, []).append(value)
    for name, vals in values.items():
        if name != "given" and len(vals) > 1:
            raise _simple_error(name, f"Le paramètre {name} ne peut être répété.")
    one = {k: v[0] for k, v in values.items() if k != "given"}
    out: dict[str, Any] = {}
    if "identifier" in one:
        raw = one["identifier"]
        system, sep, value = raw.rpartition("|")
        if sep and system:
            oid = system.removeprefix("urn:oid:")
            if not system.startswith("urn:oid:") or oid not in INS_OIDS:
                raise _simple_error("identifier", f"Système d'identifiant « {system} » inconnu : "
                                                  f"urn:oid:{' | urn:oid:'.join(INS_OIDS)} attendu.")
            out["oid"] = oid
        problems = check_matricule(value, field="identifier")
        if problems:
            raise _error("identifier", problems)
        out["number"], out["key"] = value[:13].upper(), value[13:]
    if "family" in one:
        out["birth_name"] = _name("family", one["family"], BIRTH_NAME_EXTRA)
    if "given" in values:
        out["first_names"] = tuple(_name("given", g, FIRST_NAME_EXTRA) for g in values["given"])
    if "birthdate" in one:
        raw = one["birthdate"]
        if raw[:2].isalpha():
            if not raw.startswith("eq"):
                raise _simple_error("birthdate", f"Préfixe de date non pris en charge dans « {raw} » "
                                                 "(seul eq est accepté).", "not-supported")
            raw = raw[2:]
        problems: list[Problem] = []
        out["birth_date"] = check_date(raw, problems)
        if problems:
            raise _error("birthdate", problems)
    if "gender" in one:
        if one["gender"] not in SEX_BY_GENDER:
            raise _simple_error("gender", f"Genre « {one['gender']} » invalide : male ou female attendu "
                                          "(sexe INS M ou F).")
        out["sex"] = SEX_BY_GENDER[one["gender"]]
    if "birthplace" in one:
        problems = []
        out["birth_place"] = check_cog(one["birthplace"], problems, field="birthplace", strict=False)
        if problems:
            raise _error("birthplace", problems)
    if "_count" in one:
        if not one["_count"].isdigit():
            raise _simple_error("_count", "_count doit être un entier positif.")
        out["count"] = max(0, min(int(one["_count"]), MAX_COUNT))
    if not any(k in out for k in ("number", "birth_name", "birth_date")):
        raise FhirError(400, "too-costly", "Recherche trop large : précisez identifier, family ou birthdate.")
    return PatientSearch(**out)


def select(candidates: list[Identity], search: PatientSearch) -> list[Identity]:
    """Apply the criteria a repository query did not (key, OID, traits) — AND semantics."""
    out = []
    for i in candidates:
        t = i.traits
        if search.number is not None and (i.ins.number != search.number or i.ins.key != search.key):
            continue
        if search.oid is not None and i.ins.oid != search.oid:
            continue
        if search.birth_name is not None and t.birth_name != search.birth_name:
            continue
        if search.sex is not None and t.sex != search.sex:
            continue
        if search.birth_date is not None and t.birth_date != search.birth_date:
            continue
        if search.birth_place is not None and t.birth_place != search.birth_place:
            continue
        if any(f not in t.first_names for f in search.first_names):
            continue
        out.append(i)
    return out[: search.count]
