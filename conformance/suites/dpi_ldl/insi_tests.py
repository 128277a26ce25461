"""Group ``insi`` of suite ``dpi-ldl``: identity through the INSi teleservice and the RNIV rules
(FACTS §1.1–§1.5, appendix A.1–A.2)."""

from __future__ import annotations

import re
from typing import Any

from conformance import EvidenceQuery, Exchange, Group, Message, TestContext, Text, test
from conformance.suites.dpi_ldl.evidence import (
    contained,
    document_reference,
    gap_seconds,
    letter,
    now,
    ordered,
    patient_params,
    patient_text,
    settle,
    soap_request,
)

ACTION = "urn:ServiceIdentiteCertifiee:1.0.0:rechercherInsAvecTraitsIdentite"
NAME_RE = re.compile(r"^[A-Z\-' ]+$")
FIRST_RE = re.compile(r"^[A-Z\-']+$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
FR_CORE = "https://hl7.fr/ig/fhir/core/StructureDefinition"
#: a retry sooner than this after a technical error is a burst
MIN_RETRY_GAP = 0.2

SOAP_FAULT = Message(
    "dpi-ldl.insi.fault", "INSi a répondu une faute SOAP {code} : la requête n'est pas conforme.",
    "INSi answered SOAP Fault {code}: the request is not conformant.",
    "Lisez le détail siram:Erreur et les sbx:Probleme de la réponse citée.",
    "Read the siram:Erreur detail and the sbx:Probleme of the cited answer.")
ENVELOPE = Message(
    "dpi-ldl.insi.envelope", "En-tête INSi incorrect : {field} = {value!r} ({expected} attendu).",
    "Wrong INSi header: {field} = {value!r} ({expected} expected).",
    "Construisez l'enveloppe SOAP 1.2 avec wsa:Action, wsa:MessageID, ContexteBAM 01_02 et ContexteLPS 01_00 "
    "portant l'IDAM (autorisation CNDA), le nom et la version du logiciel.",
    "Build the SOAP 1.2 envelope with wsa:Action, wsa:MessageID, ContexteBAM 01_02 and ContexteLPS 01_00 carrying "
    "the IDAM (CNDA authorisation), the software's name and version.")
TRAIT = Message(
    "dpi-ldl.insi.trait", "Trait {field} = {value!r} : {expected}.", "Trait {field} = {value!r}: {expected}.",
    "Normalisez les traits avant l'appel : majuscules sans accent, un prénom par appel, sexe M/F, date AAAA-MM-JJ, "
    "code officiel géographique sur 5 caractères.",
    "Normalise the traits before calling: upper case without accents, one first name per call, sex M/F, date "
    "YYYY-MM-DD, 5-character official geographic code.")
NOT_FOUND_RESULT = Message(
    "dpi-ldl.insi.no-00", "La recherche n'a pas abouti à une réponse 00 (codes reçus : {crs}).",
    "The search did not end with a 00 answer (codes received: {crs}).",
    "Vérifiez les traits envoyés.", "Check the traits sent.")
CR_NOT_SEEN = Message(
    "dpi-ldl.insi.cr-not-seen", "Le premier appel n'a pas reçu le code retour {cr} programmé (reçu {got!r}).",
    "The first call did not receive the scripted return code {cr} (received {got!r}).", "", "")
SAME_REQUEST = Message(
    "dpi-ldl.insi.same-request", "Après le code retour {cr}, le logiciel a renvoyé la même recherche ({traits}).",
    "After return code {cr}, the software sent the same search again ({traits}).",
    "Sur {cr}, affinez : essayez les autres prénoms de naissance un par un, puis ajoutez le lieu de naissance.",
    "On {cr}, refine: try the other birth first names one at a time, then add the birth place.")
BURST = Message(
    "dpi-ldl.insi.burst", "Après une faute SOAP, nouvelle tentative {gap:.3f} s plus tard ({count} appels) : "
    "les relances doivent être espacées et limitées.", "After a SOAP Fault, retry {gap:.3f} s later ({count} calls): "
    "retries must be spaced and limited.",
    "Sur une faute technique, relancez au plus une fois après une pause, puis informez l'utilisateur ; "
    "n'enregistrez aucune identité.", "On a technical fault, retry at most once after a pause, then tell the user; "
    "record no identity.")
PROV_SENT = Message(
    "dpi-ldl.insi.prov-sent", "Le matricule {matricule} d'une identité provisoire (PROV) a été transmis au DMP "
    "({operation}).", "The matricule {matricule} of a provisional (PROV) identity was sent to the DMP ({operation}).",
    "Ne transmettez le matricule INS que pour une identité qualifiée (QUAL) ; n'alimentez pas le DMP sinon.",
    "Send the INS matricule only for a qualified identity (QUAL); do not feed the DMP otherwise.")
NO_PATIENT = Message(
    "dpi-ldl.insi.no-patient", "La lettre ne décrit pas le patient (Patient contenu référencé par subject ou "
    "sourcePatientInfo).", "The letter does not describe the patient (contained Patient referenced by subject or "
    "sourcePatientInfo).", "Ajoutez le patient (fr-core-patient-ins) avec ses traits INS.",
    "Add the patient (fr-core-patient-ins) with its INS traits.")
TRAITS_COPY = Message(
    "dpi-ldl.insi.traits-copy", "Patient.{field} = {value!r} ; attendu {expected!r} (traits renvoyés par INSi).",
    "Patient.{field} = {value!r}; expected {expected!r} (traits INSi returned).",
    "Reprenez les traits INSi tels quels : given = le premier prénom seul, la liste complète dans l'extension "
    "fr-core-patient-birth-list-given-name, sexe M/F → male/female.",
    "Copy the INSi traits as they are: given = the first first name only, the full list in extension "
    "fr-core-patient-birth-list-given-name, sex M/F → male/female.")


def _soap_query(label: str = "INSi rechercherInsAvecTraitsIdentite") -> EvidenceQuery:
    return EvidenceQuery(service="ins", protocol="soap", label=label)


def _search_prompt(p: dict[str, Any], extra: Text | None = None) -> Text:
    base = Text(f"Recherchez l'INS du patient {patient_text(p)} par ses traits (INSi).",
                f"Look up the INS of patient {patient_text(p)} by its traits (INSi).")
    return Text(f"{base.fr} {extra.fr}", f"{base.en} {extra.en}") if extra else base


def _check_request(ctx: TestContext, ex: Exchange, req: dict[str, Any]) -> None:
    for field, value, ok, expected in (
            ("wsa:Action", req.get("action"), req.get("action") == ACTION, ACTION),
            ("wsa:MessageID", req.get("message_id"), bool(req.get("message_id")), "uuid:…"),
            ("ContexteBAM/@Version", req.get("bam_version"), req.get("bam_version") == "01_02", "01_02"),
            ("ContexteLPS/@Version", req.get("lps_version"), req.get("lps_version") == "01_00", "01_00"),
            ("ContexteLPS/LPS/IDAM", req.get("idam"), bool(req.get("idam")), "IDAM"),
            ("ContexteLPS/LPS/Nom", req.get("lps_name"), bool(req.get("lps_name")), "urn:lps:<nom>:<version>")):
        ctx.check(ok, ENVELOPE, exchanges=(ex,), field=field, value=value, expected=expected)


@test("01", title=Text("Recherche INSi par traits normalisés", "INSi traits search with normalised traits"),
      description=Text("Enveloppe SOAP 1.2 INSi complète ; nom de naissance en majuscules sans accent, un prénom par "
                       "appel, sexe M/F, date AAAA-MM-JJ ; réponse 00.",
                       "Complete INSi SOAP 1.2 envelope; birth name upper case without accents, one first name per "
                       "call, sex M/F, date YYYY-MM-DD; answer 00."),
      verifies=("INS.INSI/01", "INS.INSI/02"))
async def traits_search(ctx: TestContext) -> None:
    p = ctx.inputs["patient_typed"]
    found = await ctx.wait_for(_soap_query(), prompt=_search_prompt(p, Text(
        "Saisissez les traits tels qu'indiqués (minuscules comprises) : le logiciel doit les normaliser.",
        "Type the traits as given (lower case included): the software must normalise them.")),
        action="insi.search", params=patient_params(p))
    ex = ordered(found)[0]
    summary = ex.summary or {}
    if not ctx.check("faultCode" not in summary, SOAP_FAULT, exchanges=(ex,), code=summary.get("faultCode", "")):
        return
    req = soap_request(await ctx.request_body(ex))
    _check_request(ctx, ex, req)
    name = req.get("birth_name", "")
    ctx.check(bool(NAME_RE.match(name)), TRAIT, exchanges=(ex,), field="NomNaissance", value=name,
              expected="majuscules sans accent / upper case without accents")
    firsts = req.get("first_names", [])
    ctx.check(len(firsts) == 1 and bool(FIRST_RE.match(firsts[0])), TRAIT, exchanges=(ex,), field="Prenom",
              value=" ".join(firsts), expected="un seul prénom normalisé / one normalised first name")
    ctx.check(req.get("sex") in ("M", "F"), TRAIT, exchanges=(ex,), field="Sexe", value=req.get("sex"),
              expected="M | F")
    ctx.check(bool(DATE_RE.match(req.get("birth_date", ""))), TRAIT, exchanges=(ex,), field="DateNaissance",
              value=req.get("birth_date"), expected="AAAA-MM-JJ / YYYY-MM-DD")
    place = req.get("birth_place", "")
    ctx.check(not place or len(place) == 5, TRAIT, exchanges=(ex,), field="LieuNaissance", value=place,
              expected="5 caractères / 5 characters")
    ctx.check(summary.get("cr") == "00", NOT_FOUND_RESULT, exchanges=(ex,), crs=summary.get("cr"))


async def _refinement(ctx: TestContext, cr: str, kind: str) -> None:
    p = ctx.inputs["patient_homonyms"]
    await ctx.drive.fault("ins", kind)
    found = ordered(await ctx.wait_for(_soap_query("INSi (x2)"), count=2, prompt=_search_prompt(p, Text(
        f"Le téléservice répondra {cr} à la première recherche : affinez-la comme le prévoit le guide INS.",
        f"The teleservice will answer {cr} to the first search: refine it as the INS guide says.")),
        action="insi.search", params=patient_params(p)))
    first, second = found[0], found[1]
    if not ctx.check((first.summary or {}).get("cr") == cr, CR_NOT_SEEN, exchanges=(first,), cr=cr,
                     got=(first.summary or {}).get("cr")):
        return
    a = (first.summary or {}).get("request") or {}
    b = (second.summary or {}).get("request") or {}
    same = (a.get("Prenom"), a.get("LieuNaissance")) == (b.get("Prenom"), b.get("LieuNaissance"))
    ctx.check(not same, SAME_REQUEST, exchanges=(first, second), cr=cr,
              traits=f"{' '.join(b.get('Prenom') or [])} {b.get('LieuNaissance') or ''}".strip())


@test("02", title=Text("Code retour 02 : recherche affinée", "Return code 02: search refined"),
      description=Text("INSi répond 02 (plusieurs identités) : le logiciel affine avec un autre prénom puis le lieu "
                       "de naissance, sans renvoyer la même requête.", "INSi answers 02 (several identities): the "
                       "software refines with another first name then the birth place, without sending the same "
                       "request again."),
      verifies=("INS.INSI/04",))
async def cr02(ctx: TestContext) -> None:
    await _refinement(ctx, "02", "multiple")


@test("03", title=Text("Code retour 01 : autre prénom", "Return code 01: another first name"),
      description=Text("INSi répond 01 (aucune identité) : le logiciel relance avec un autre prénom ou le lieu de "
                       "naissance, sans renvoyer la même requête.", "INSi answers 01 (no identity): the software "
                       "tries another first name or the birth place, without sending the same request again."),
      verifies=("INS.INSI/03",))
async def cr01(ctx: TestContext) -> None:
    await _refinement(ctx, "01", "not_found")


@test("04", title=Text("Faute technique INSi : relances limitées", "INSi technical fault: limited retries"),
      description=Text("INSi répond deux fois une faute SOAP (siram:Erreur) : le logiciel relance au plus une fois, "
                       "après une pause.", "INSi answers a SOAP Fault (siram:Erreur) twice: the software retries "
                       "at most once, after a pause."),
      verifies=("INS.INSI/05",))
async def technical_fault(ctx: TestContext) -> None:
    p = ctx.inputs["patient"]
    await ctx.drive.fault("ins", "soap_fault", times=2)
    found = ordered(await ctx.wait_for(_soap_query("INSi (x2)"), count=2, prompt=_search_prompt(p, Text(
        "Le téléservice sera en erreur technique.", "The teleservice will fail technically.")),
        action="insi.search", params=patient_params(p)))
    # a burst shows in the first gap already (no need to wait for what would follow)
    gap = gap_seconds(found[0], found[1])
    ctx.check(gap >= MIN_RETRY_GAP and len(found) <= 2, BURST, exchanges=found[:4], gap=gap, count=len(found))


@test("05", title=Text("Identité provisoire : aucun matricule transmis", "Provisional identity: no matricule sent"),
      description=Text("Pour un patient dont l'identité est provisoire (PROV), le logiciel ne transmet pas le "
                       "matricule INS et n'alimente pas le DMP.", "For a patient whose identity is provisional "
                       "(PROV), the software does not send the INS matricule and does not feed the DMP."),
      verifies=("INS.RNIV/01", "INS.RNIV/05"))
async def provisional(ctx: TestContext) -> None:
    p = ctx.inputs["patient_prov"]
    matricule = str(p.get("matricule", ""))
    start = now()
    await ctx.wait_for(EvidenceQuery(where=lambda e: e.service in ("ins", "dmp") and (
        e.protocol == "soap" or e.operation in ("dmp.td0.2", "dmp.iti-65")), label="INSi or DMP call"),
        prompt=Text(f"Le patient {patient_text(p)} a une identité provisoire (PROV) dans le logiciel : tentez "
                    "d'envoyer sa lettre de liaison au DMP (le logiciel doit s'y refuser ; une recherche INSi est "
                    "permise).",
                    f"Patient {patient_text(p)} has a provisional identity (PROV) in the software: try to send their "
                    "discharge letter to the DMP (the software must refuse; an INSi search is allowed)."),
        action="dmp.feed", params=patient_params(p))
    calls = await settle(ctx, start, EvidenceQuery(service="dmp"))
    for ex in calls:
        if ex.operation == "dmp.iti-65":
            sent = matricule[:13] in (await ctx.request_body(ex)).decode("utf-8", "replace")
        else:
            sent = matricule[:13] in str((ex.summary or {}).get("query", ""))
        ctx.check(not sent, PROV_SENT, exchanges=(ex,), matricule=matricule, operation=ex.operation)


@test("06", title=Text("Traits INS repris tels que renvoyés", "INS traits copied as returned"),
      description=Text("Le patient de la lettre porte les traits INSi : nom de naissance, premier prénom dans given, "
                       "liste des prénoms dans l'extension dédiée, sexe, date de naissance.",
                       "The letter's patient carries the INSi traits: birth name, first first name in given, list "
                       "of first names in the dedicated extension, sex, birth date."),
      verifies=("INS.RNIV/04",))
async def traits_copied(ctx: TestContext) -> None:
    ex, bundle = await letter(ctx)
    doc = document_reference(bundle) or {}
    pat = contained(doc, (doc.get("context") or {}).get("sourcePatientInfo")) or contained(doc, doc.get("subject"))
    if pat is None:
        ctx.fail(NO_PATIENT, exchanges=(ex,), at="DocumentReference.contained")
    p = ctx.inputs["patient"]
    name = next((n for n in pat.get("name") or [] if isinstance(n, dict)), {})
    list_url = f"{FR_CORE}/fr-core-patient-birth-list-given-name"
    birth_list = next((e.get("valueString") for e in name.get("extension") or []
                       if isinstance(e, dict) and e.get("url") == list_url), None)
    for field, value, expected in (
            ("name.family", name.get("family"), p["birth_name"]),
            ("name.given", name.get("given"), [p["first_names"][0]]),
            ("name.extension[birth-list-given-name]", birth_list, " ".join(p["first_names"])),
            ("gender", pat.get("gender"), {"M": "male", "F": "female"}[p["sex"]]),
            ("birthDate", pat.get("birthDate"), p["birth_date"])):
        ctx.check(value == expected, TRAITS_COPY, at=f"Patient.{field}", exchanges=(ex,), field=field, value=value,
                  expected=expected)


group = Group("insi", Text("INSi et identitovigilance", "INSi and identity rules"),
              Text("Identité nationale de santé : téléservice INSi, codes retour, statuts RNIV.",
                   "National health identity: INSi teleservice, return codes, RNIV statuses."),
              (traits_search, cr02, cr01, technical_fault, provisional, traits_copied))
