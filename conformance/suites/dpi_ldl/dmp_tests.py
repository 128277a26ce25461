"""Group ``dmp`` of suite ``dpi-ldl``: the discharge letter in the DMP through PDSm / IHE MHD
(FACTS §3.2–§3.5, §5, §8 items 11–13)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

from conformance import EvidenceQuery, Group, Message, TestContext, Text, test
from conformance.suites.dpi_ldl.dmp_visibility import patient_masking
from conformance.suites.dpi_ldl.documents import CDA_MEDIA, FHIR_MEDIA, judge_cda, judge_fhir, judge_letter_cda
from conformance.suites.dpi_ldl.evidence import (
    DMP_SEARCH_OPS,
    FEED_PROMPT,
    binary_data,
    codings,
    contained,
    document_reference,
    entries,
    gap_seconds,
    ins_returned,
    letter,
    now,
    ordered,
    patient_params,
    patient_text,
    query_params,
    resources,
    settle,
    subject_identifier,
)

NOS = "https://mos.esante.gouv.fr/NOS"
TRE_A03 = f"{NOS}/TRE_A03-ClasseDocument/FHIR/TRE-A03-ClasseDocument"
TRE_A08 = f"{NOS}/TRE_A08-HL7Confidentiality/FHIR/TRE-A08-HL7Confidentiality"
TRE_A07 = f"{NOS}/TRE_A07-StatutVisibiliteDocument/FHIR/TRE-A07-StatutVisibiliteDocument"
CONFIDENTIALITY_SYSTEMS = (TRE_A08, "http://terminology.hl7.org/CodeSystem/v3-Confidentiality",
                           "urn:oid:2.16.840.1.113883.5.25")
INS_OIDS = {"1.2.250.1.213.1.4.8": "INS-NIR", "1.2.250.1.213.1.4.9": "INS-NIA", "1.2.250.1.213.1.4.10": "INS-NIR-TEST",
            "1.2.250.1.213.1.4.11": "INS-NIR-DEMO"}
LDL = {"type": "11490-0", "class": "10", "format": "urn:asip:ci-sis:ldl-ses:2017", "template": "1.2.250.1.213.1.1.1.29"}
PATCHABLE = ("/status", "/securityLabel", "/extension")


def nir_key_ok(value: str) -> bool:
    """FACTS §1.3: key = 97 − (N mod 97), 2A → 19 and 2B → 18 before the division."""
    if len(value) != 15 or not value[13:].isdigit():
        return False
    body = value[:13].upper().replace("2A", "19", 1) if value[5:7] == "2A" else value[:13].upper()
    body = body.replace("2B", "18", 1) if value[5:7] == "2B" else body
    return body.isdigit() and 97 - int(body) % 97 == int(value[13:])


def M(id_: str, fr: str, en: str, hint_fr: str = "", hint_en: str = "") -> Message:  # noqa: N802 - short factory
    return Message(f"dpi-ldl.dmp.{id_}", fr, en, hint_fr, hint_en)


NO_TD02 = M("td02", "Aucune vérification de l'existence du DMP (TD0.2 Patient?identifier=…|{ins}) avant le versement.",
            "No check that the DMP exists (TD0.2 Patient?identifier=…|{ins}) before feeding it.",
            "Avant chaque alimentation, interrogez Patient?identifier=urn:oid:1.2.250.1.213.1.4.8|<INS> et "
            "n'alimentez qu'un DMP ouvert.",
            "Before each feed, ask Patient?identifier=urn:oid:1.2.250.1.213.1.4.8|<INS> and feed only an open DMP.")
SUBJECT_OID = M("subject-oid", "Le sujet est identifié dans le système {system!r} ; INSi a renvoyé ce matricule avec "
                "l'OID {expected}.", "The subject is identified in system {system!r}; INSi returned this matricule "
                "with OID {expected}.", "Codez le matricule avec l'OID renvoyé par INSi (urn:oid:<OID>) ; "
                "1.2.250.1.213.1.4.10 n'est pas un OID de qualification.", "Code the matricule with the OID INSi "
                "returned (urn:oid:<OID>); 1.2.250.1.213.1.4.10 is not a qualification OID.")
SUBJECT_VALUE = M("subject-ins", "Matricule INS du sujet {value!r} : {problem}.", "Subject INS matricule {value!r}: "
                  "{problem}.", "Transmettez les 15 caractères (NumIdentifiant de 13 caractères + Cle) renvoyés par "
                  "INSi.", "Send the 15 characters (13-character NumIdentifiant + Cle) INSi returned.")
SUBJECT_TYPE = M("subject-type", "Le Patient contenu type son identifiant {code!r} ; {expected} est attendu pour l'OID "
                 "{oid}.", "The contained Patient types its identifier {code!r}; {expected} is expected for OID {oid}.",
                 "Typez l'identifiant INS (fr-core-cs-v2-0203) selon son OID : le NSS partage l'OID du NIR.",
                 "Type the INS identifier (fr-core-cs-v2-0203) after its OID: the NSS shares the NIR's OID.")
META = M("metadata", "{field} = {value!r} ; {expected} attendu pour une lettre de liaison.",
         "{field} = {value!r}; {expected} expected for a discharge letter.",
         "Métadonnées LDL : type LOINC 11490-0, classe TRE_A03 10, format urn:asip:ci-sis:ldl-ses:2017, "
         "confidentialité TRE_A08 N/R/V.", "LDL metadata: LOINC type 11490-0, TRE_A03 class 10, format "
         "urn:asip:ci-sis:ldl-ses:2017, TRE_A08 confidentiality N/R/V.")
STRUCTURE = M("structure", "Lot ITI-65 : {problem}.", "ITI-65 batch: {problem}.",
              "Un Bundle transaction avec la SubmissionSet (List), la DocumentReference et le Binary.",
              "A transaction Bundle with the SubmissionSet (List), the DocumentReference and the Binary.")
CONTENT = M("content", "Contenu CDA : {problem}.", "CDA content: {problem}.",
            "Le CDA porte le modèle LDL-SES 1.2.250.1.213.1.1.1.29, le code 11490-0 et le même patient que les "
            "métadonnées.", "The CDA carries template LDL-SES 1.2.250.1.213.1.1.1.29, code 11490-0 and the same "
            "patient as the metadata.")
AUTHOR = M("author", "Auteur de la fiche : {problem}.", "Entry author: {problem}.",
           "Décrivez l'auteur réel (Practitioner contenu, identifiant RPPS/IDNPS du professionnel connecté).",
           "Describe the real author (contained Practitioner, RPPS/IDNPS of the logged-in professional).")
BEARER = M("bearer", "Le DMP a été appelé {problem}.", "The DMP was called {problem}.",
           "Présentez le jeton d'accès PSC dans l'en-tête Authorization: Bearer, jamais dans l'URL.",
           "Present the PSC access token in the Authorization: Bearer header, never in the URL.")
REPLACE = M("replace", "Remplacement : {problem}.", "Replacement: {problem}.",
            "Versez le nouveau document avec relatesTo (code replaces, target DocumentReference/<id>) ; PDSm4DMP "
            "TD2.1 passe l'ancien à superseded dans le même lot.", "Feed the new document with relatesTo (code "
            "replaces, target DocumentReference/<id>); PDSm4DMP TD2.1 sets the old one superseded in the same batch.")
SEARCH = M("search", "Recherche de documents : {problem}.", "Document search: {problem}.",
           "ITI-67 : GET DocumentReference?patient.identifier=urn:oid:1.2.250.1.213.1.4.8|<INS>&status=current.",
           "ITI-67: GET DocumentReference?patient.identifier=urn:oid:1.2.250.1.213.1.4.8|<INS>&status=current.")
MASK = M("mask", "Masquage : {problem}.", "Masking: {problem}.",
         "PATCH conditionnel DocumentReference?identifier=<system>|<value> ajoutant à securityLabel le code MASQUE_PS "
         "du système TRE_A07-StatutVisibiliteDocument (orthographe exacte).", "Conditional PATCH "
         "DocumentReference?identifier=<system>|<value> adding code MASQUE_PS of system "
         "TRE_A07-StatutVisibiliteDocument (exact spelling) to securityLabel.")
NO_DMP_FED = M("no-dmp-fed", "Le logiciel a versé un document pour un patient sans DMP ({detail}).",
               "The software fed a document for a patient without a DMP ({detail}).",
               "Vérifiez l'existence du DMP (TD0.2) et ne versez pas quand la réponse est vide.",
               "Check the DMP exists (TD0.2) and do not feed when the answer is empty.")
RETRY = M("retry", "Après le 503 (Retry-After: {announced} s) : {problem}.",
          "After the 503 (Retry-After: {announced} s): {problem}.",
          "Respectez Retry-After, limitez les tentatives (3 au plus) et ne relancez pas un lot refusé (4xx) à "
          "l'identique.",
          "Honour Retry-After, limit attempts (3 at most) and do not resend a refused (4xx) batch unchanged.")
RETRIEVE = M("retrieve", "Consultation : {problem}.", "Retrieval: {problem}.",
             "Lisez le contenu à l'adresse content.attachment.url de la fiche trouvée (ITI-68).",
             "Read the content at the content.attachment.url of the entry found (ITI-68).")


def _letter_doc(bundle: Any) -> dict[str, Any]:
    return document_reference(bundle) or {}


@test("01", title=Text("Existence du DMP vérifiée avant le versement", "DMP existence checked before feeding"),
      description=Text("Avant la lettre, le logiciel interroge Patient?identifier=<INS> (TD0.2) pour le même patient.",
                       "Before the letter, the software asks Patient?identifier=<INS> (TD0.2) for the same patient."),
      verifies=("PDSM.TD02/01",))
async def dmp_checked(ctx: TestContext) -> None:
    ex, bundle = await letter(ctx)
    _, ins = subject_identifier(_letter_doc(bundle))
    nir = ins[:13]  # the same person even if the letter mangles the key (judged by dmp.02)
    checks = [e for e in await ctx.find(EvidenceQuery(service="dmp", operation="dmp.td0.2"))
              if e.started_at <= ex.started_at and nir
              and unquote(str((e.summary or {}).get("query", ""))).rsplit("|", 1)[-1][:13] == nir]
    ctx.check(bool(checks) and checks[-1].status == "200", NO_TD02, exchanges=(ex, *checks[-1:]), ins=ins)


@test("02", title=Text("Patient désigné par son INS qualifié", "Patient designated by their qualified INS"),
      description=Text("Le sujet de la lettre est le matricule INS renvoyé par INSi (15 caractères, clé exacte), codé "
                       "avec l'OID renvoyé (1.2.250.1.213.1.4.8 pour un NIR) et typé selon sa nature ; dans le CDA, "
                       "les règles INS du lecteur d'en-tête de profiles (CDA-INS-*).",
                       "The letter's subject is the INS matricule INSi returned (15 characters, valid key), coded with "
                       "the OID returned (1.2.250.1.213.1.4.8 for a NIR) and typed after its nature; in the CDA, the "
                       "INS rules of the profiles header reader (CDA-INS-*)."),
      verifies=("PDSM.ITI-65/07", "INS.RNIV/02", "INS.RNIV/03"))
async def subject_ins(ctx: TestContext) -> None:
    ex, bundle = await letter(ctx)
    doc = _letter_doc(bundle)
    system, value = subject_identifier(doc)
    returned = await ins_returned(ctx)
    if len(value) != 15:
        ctx.check(False, SUBJECT_VALUE, at="DocumentReference.subject", exchanges=(ex,), value=value,
                  problem=f"{len(value)} caractères au lieu de 15 / {len(value)} characters instead of 15")
    else:
        ctx.check(nir_key_ok(value) or value[:1] in "78", SUBJECT_VALUE, at="DocumentReference.subject",
                  exchanges=(ex,), value=value, problem="clé de contrôle fausse / wrong check key")
    ctx.check(value in returned, SUBJECT_VALUE, at="DocumentReference.subject", exchanges=(ex,), value=value,
              problem="matricule que INSi n'a pas renvoyé / matricule INSi did not return")
    expected = returned.get(value) or "1.2.250.1.213.1.4.8"
    ctx.check(system == f"urn:oid:{expected}", SUBJECT_OID, at="DocumentReference.subject", exchanges=(ex,),
              system=system, expected=expected)
    content = (doc.get("content") or [{}])[0]
    data = binary_data(bundle, str((content.get("attachment") or {}).get("url", "")))
    if str((content.get("attachment") or {}).get("contentType", "")) in CDA_MEDIA:  # the CDA's INS (FACTS §5)
        judge_cda(ctx, data, (ex,), at="Binary:", only=("CDA-INS", "CDA-BIRTH-TIME"))
    pat = contained(doc, (doc.get("context") or {}).get("sourcePatientInfo")) or contained(doc, doc.get("subject"))
    for ident in (pat or {}).get("identifier") or []:
        if isinstance(ident, dict) and ident.get("value") == value:
            code = next((c.get("code") for c in codings(ident.get("type"))), None)
            oid = str(ident.get("system", "")).removeprefix("urn:oid:")
            ctx.check(code == INS_OIDS.get(expected), SUBJECT_TYPE, at="Patient.identifier.type", exchanges=(ex,),
                      code=code, expected=INS_OIDS.get(expected), oid=oid)


@test("03", title=Text("Métadonnées de la lettre de liaison", "Discharge letter metadata"),
      description=Text("Lot transaction complet ; type LOINC 11490-0, classe TRE_A03 10, format "
                       "urn:asip:ci-sis:ldl-ses:2017, confidentialité TRE_A08 ; SubmissionSet complète ; contenu "
                       "jugé par profiles (CDA : lecteur d'en-tête, règles citées par identifiant, modèle LDL-SES ; "
                       "FHIR : profiles.validate) et cohérent avec les métadonnées.", "Complete transaction batch; "
                       "LOINC type 11490-0, TRE_A03 class 10, format urn:asip:ci-sis:ldl-ses:2017, TRE_A08 "
                       "confidentiality; complete SubmissionSet; content judged by profiles (CDA: header reader, "
                       "rules cited by id, LDL-SES template; FHIR: profiles.validate) and consistent with the "
                       "metadata."),
      verifies=("PDSM.ITI-65/01", "PDSM.ITI-65/02", "PDSM.ITI-65/03", "PDSM.ITI-65/04", "PDSM.ITI-65/05",
                "PDSM.ITI-65/08", "CISIS.LDL/01", "CISIS.DOC/01", "CISIS.DOC/02"))
async def metadata(ctx: TestContext) -> None:
    ex, bundle = await letter(ctx)
    ctx.check(bundle.get("type") == "transaction", STRUCTURE, at="Bundle.type", exchanges=(ex,),
              problem=f"type {bundle.get('type')!r} (transaction attendu / expected)")
    lists, binaries = resources(bundle, "List"), resources(bundle, "Binary")
    ctx.check(bool(lists) and bool(binaries), STRUCTURE, at="Bundle.entry", exchanges=(ex,),
              problem="SubmissionSet ou Binary absent / SubmissionSet or Binary missing")
    doc = _letter_doc(bundle)
    types = [(c.get("system"), c.get("code")) for c in codings(doc.get("type"))]
    ctx.check(("http://loinc.org", LDL["type"]) in types, META, at="DocumentReference.type", exchanges=(ex,),
              field="type", value=types, expected="http://loinc.org|11490-0")
    classes = [(c.get("system"), c.get("code")) for cat in doc.get("category") or [] for c in codings(cat)]
    ctx.check((TRE_A03, LDL["class"]) in classes, META, at="DocumentReference.category", exchanges=(ex,),
              field="category (classCode)", value=classes, expected="TRE_A03-ClasseDocument|10")
    content = (doc.get("content") or [{}])[0]
    fmt = content.get("format") or {}
    ctx.check(fmt.get("code") == LDL["format"], META, at="DocumentReference.content.format", exchanges=(ex,),
              field="content.format (formatCode)", value=fmt.get("code"), expected=LDL["format"])
    labels = [(c.get("system"), c.get("code")) for lab in doc.get("securityLabel") or [] for c in codings(lab)]
    conf = [code for system, code in labels if system in CONFIDENTIALITY_SYSTEMS]
    ctx.check(len(conf) == 1 and conf[0] in ("N", "R", "V"), META, at="DocumentReference.securityLabel",
              exchanges=(ex,), field="securityLabel", value=labels, expected="TRE_A08 N | R | V")
    sset = lists[0] if lists else {}
    urls = {e.get("url") for e in sset.get("extension") or [] if isinstance(e, dict)}
    for needed in ("ihe-designationType", "ihe-sourceId"):
        ctx.check(any(str(u).endswith(needed) for u in urls), STRUCTURE, at="List.extension", exchanges=(ex,),
                  problem=f"SubmissionSet sans {needed} / without {needed}")
    ctx.check(sset.get("subject") == doc.get("subject"), STRUCTURE, at="List.subject", exchanges=(ex,),
              problem="SubmissionSet et DocumentReference désignent des patients différents / different patients")
    data = binary_data(bundle, str((content.get("attachment") or {}).get("url", "")))
    _, ins = subject_identifier(doc)
    media = str((content.get("attachment") or {}).get("contentType", ""))
    if media in FHIR_MEDIA:  # a FHIR document: its profiles (CISIS.DOC/02)
        judge_fhir(ctx, data, (ex,), at="Binary:")
        return
    # a CDA: the header reader of profiles; its INS rules are judged with the subject (dmp.02)
    h = judge_letter_cda(ctx, data, (ex,), at="Binary:", exclude=("CDA-INS",))
    ctx.check(ins in [e for _, e in h.patient_ids], CONTENT, exchanges=(ex,),
              problem=f"patient du CDA {h.patient_ids} différent du sujet {ins} / CDA patient differs from the subject")
    ctx.check(h.code in [c for _, c in types], CONTENT, exchanges=(ex,),
              problem=f"code du CDA {h.code!r}, type des métadonnées {types} / CDA code differs from the metadata type")


@test("04", title=Text("Auteur : le professionnel connecté", "Author: the logged-in professional"),
      description=Text("La fiche décrit son auteur (Practitioner contenu) avec l'identifiant du professionnel "
                       "authentifié par PSC, qui présente son jeton en en-tête Bearer.",
                       "The entry describes its author (contained Practitioner) with the identifier of the "
                       "professional PSC authenticated, who presents the token in a Bearer header."),
      verifies=("PDSM.ITI-65/06", "PSC.OIDC/07"))
async def author(ctx: TestContext) -> None:
    ex, bundle = await letter(ctx)
    ctx.check(ex.actor.startswith("professional:"), BEARER, exchanges=(ex,),
              problem=f"sans jeton de professionnel (acteur {ex.actor!r}) / without a professional's token")
    ctx.check("access_token" not in str((ex.summary or {}).get("query", "")), BEARER, exchanges=(ex,),
              problem="avec le jeton dans l'URL / with the token in the URL")
    idnps = ex.actor.removeprefix("professional:")
    doc = _letter_doc(bundle)
    authors = [contained(doc, a) for a in doc.get("author") or []]
    if not ctx.check(any(authors), AUTHOR, at="DocumentReference.author", exchanges=(ex,),
                     problem="aucun auteur contenu / no contained author"):
        return
    ids = [i.get("value") for a in authors if a for i in a.get("identifier") or [] if isinstance(i, dict)]
    ctx.check(idnps in ids, AUTHOR, at="DocumentReference.author", exchanges=(ex,),
              problem=f"identifiants {ids}, professionnel connecté {idnps} / logged-in professional")
    att = ((doc.get("content") or [{}])[0]).get("attachment") or {}
    for field in ("custodian", "date"):
        ctx.check(bool(doc.get(field)), AUTHOR, at=f"DocumentReference.{field}", exchanges=(ex,),
                  problem=f"{field} absent")
    for field in ("title", "size", "hash"):
        ctx.check(field in att, AUTHOR, at=f"DocumentReference.content.attachment.{field}", exchanges=(ex,),
                  problem=f"attachment.{field} absent")


@test("05", title=Text("Remplacement avec relatesTo", "Replacement with relatesTo"),
      description=Text("La lettre corrigée est versée avec relatesTo replaces vers la fiche remplacée, qui passe à "
                       "superseded.", "The corrected letter is fed with relatesTo replaces to the replaced entry, "
                       "which becomes superseded."),
      verifies=("PDSM.ITI-65/09",))
async def replacement(ctx: TestContext) -> None:
    await letter(ctx)
    p = ctx.inputs["patient"]
    start = now()
    await ctx.wait_for(EvidenceQuery(service="dmp", operation="dmp.iti-65", label="DMP ITI-65"), prompt=Text(
        f"Corrigez la lettre de liaison du patient {patient_text(p)} et envoyez la version corrigée au DMP "
        "(remplacement).", f"Correct the discharge letter of patient {patient_text(p)} and send the corrected "
        "version to the DMP (replacement)."), action="dmp.replace", params=patient_params(p))
    # the replacement is the step's last ITI-65 (a software may first send a letter it had not sent yet)
    ex = (await settle(ctx, start, EvidenceQuery(service="dmp", operation="dmp.iti-65")))[-1]
    bundle = await ctx.request_json(ex)
    doc = _letter_doc(bundle)
    known: set[str] = set()
    for prior in await ctx.find(EvidenceQuery(service="dmp", operation="dmp.iti-65", status="200")):
        if prior.started_at < ex.started_at:
            for e in entries(await ctx.response_json(prior)):
                loc = str((e.get("response") or {}).get("location", ""))
                if loc.startswith("DocumentReference/"):
                    known.add(loc.split("/")[1])
    rel = [r for r in doc.get("relatesTo") or [] if isinstance(r, dict)]
    if not ctx.check(bool(rel), REPLACE, at="DocumentReference.relatesTo", exchanges=(ex,),
                     problem="relatesTo absent : un second document indépendant est créé / a second independent "
                             "document is created"):
        return
    target = str((rel[0].get("target") or {}).get("reference", ""))
    ctx.check(rel[0].get("code") == "replaces", REPLACE, at="DocumentReference.relatesTo.code", exchanges=(ex,),
              problem=f"code {rel[0].get('code')!r} (replaces attendu / expected)")
    ctx.check(target.startswith("DocumentReference/") and target.split("/")[1] in known, REPLACE,
              at="DocumentReference.relatesTo.target", exchanges=(ex,),
              problem=f"cible {target!r} : pas une fiche versée par le logiciel / not an entry the software fed")
    ctx.check(ex.status == "200", REPLACE, exchanges=(ex,), problem=f"refusé : HTTP {ex.status} / refused")


@test("06", title=Text("Recherche ITI-67 avec patient et status", "ITI-67 search with patient and status"),
      description=Text("La recherche de documents est un ITI-67 portant patient(.identifier) et status.",
                       "The document search is an ITI-67 carrying patient(.identifier) and status."),
      verifies=("PDSM.ITI-67/01", "PSC.OIDC/07"))
async def search(ctx: TestContext) -> None:
    p = ctx.inputs["patient"]
    found = await ctx.wait_for(EvidenceQuery(service="dmp", operation=DMP_SEARCH_OPS, label="DMP ITI-67"), prompt=Text(
        f"Affichez la liste des documents DMP du patient {patient_text(p)}.",
        f"Show the list of DMP documents of patient {patient_text(p)}."), action="dmp.search", params=patient_params(p))
    ex = ordered(found)[0]
    if not ctx.check(ex.operation == "dmp.iti-67", SEARCH, exchanges=(ex,),
                     problem=f"{ex.operation} au lieu d'une recherche ITI-67 / instead of an ITI-67 search"):
        return
    q = query_params(ex)
    ctx.check(bool(q.get("patient") or q.get("patient.identifier")), SEARCH, exchanges=(ex,),
              problem="paramètre patient ou patient.identifier absent / patient parameter missing")
    ctx.check(bool(q.get("status")), SEARCH, exchanges=(ex,), problem="paramètre status absent / status missing")
    ctx.check("access_token" not in q, BEARER, exchanges=(ex,), problem="avec le jeton dans l'URL / token in the URL")
    ctx.check(ex.status == "200", SEARCH, exchanges=(ex,), problem=f"refusée : HTTP {ex.status} / refused")


@test("07", title=Text("Masquage aux professionnels", "Masking from professionals"),
      description=Text("Le masquage est un PATCH conditionnel ne touchant que securityLabel, avec le code MASQUE_PS de "
                       "TRE_A07-StatutVisibiliteDocument.", "Masking is a conditional PATCH touching securityLabel "
                       "only, with code MASQUE_PS of TRE_A07-StatutVisibiliteDocument."),
      verifies=("PDSM.PATCH/01", "PDSM.ITI-65/05"))
async def masking(ctx: TestContext) -> None:
    await letter(ctx)
    p = ctx.inputs["patient"]
    found = await ctx.wait_for(EvidenceQuery(service="dmp", operation="dmp.pdsm-patch", label="DMP PATCH"), prompt=Text(
        f"Masquez aux autres professionnels la dernière lettre de liaison du patient {patient_text(p)}.",
        f"Mask the latest discharge letter of patient {patient_text(p)} from other professionals."),
        action="dmp.mask", params=patient_params(p))
    ex = ordered(found)[0]
    conditional = str((ex.summary or {}).get("path", "")).endswith("/DocumentReference")
    ctx.check(conditional and "identifier" in query_params(ex), MASK, exchanges=(ex,),
              problem="PATCH non conditionnel (DocumentReference?identifier= attendu) / not a conditional PATCH")
    body = await ctx.request_body(ex)
    try:
        ops = json.loads(body)
    except ValueError:
        ops = None
    values: list[Any] = []
    if isinstance(ops, list):
        for op in ops:
            path = str((op or {}).get("path", "")) if isinstance(op, dict) else ""
            ctx.check(path.startswith(PATCHABLE), MASK, exchanges=(ex,), problem=f"chemin {path!r} non modifiable")
            values.append(op.get("value") if isinstance(op, dict) else None)
    elif isinstance(ops, dict) and ops.get("resourceType") == "Parameters":
        values = [part.get("valueCoding") or part.get("valueCodeableConcept")
                  for prm in ops.get("parameter") or [] for part in prm.get("part") or [] if isinstance(part, dict)]
    found_codes = [(c.get("system"), c.get("code")) for v in values if isinstance(v, dict)
                   for c in (codings(v) or ([v] if "code" in v else []))]
    ctx.check((TRE_A07, "MASQUE_PS") in found_codes, MASK, exchanges=(ex,),
              problem=f"codes {found_codes} (TRE_A07-StatutVisibiliteDocument|MASQUE_PS attendu / expected)")
    ctx.check(ex.status == "200", MASK, exchanges=(ex,), problem=f"refusé : HTTP {ex.status} / refused")


@test("08", title=Text("Patient sans DMP : rien n'est versé", "Patient without a DMP: nothing is fed"),
      description=Text("Pour un patient sans DMP, le logiciel le constate (TD0.2) et ne verse pas.",
                       "For a patient without a DMP, the software finds it out (TD0.2) and does not feed."),
      verifies=("PDSM.TD02/01",))
async def missing_dmp(ctx: TestContext) -> None:
    p = ctx.inputs["patient_no_dmp"]
    start = now()
    found = await ctx.wait_for(EvidenceQuery(service="dmp", operation=("dmp.td0.2", "dmp.iti-65"),
                                             label="DMP TD0.2 or ITI-65"),
                               prompt=FEED_PROMPT.format(patient=patient_text(p)), action="dmp.feed",
                               params=patient_params(p))
    first = ordered(found)[0]
    ctx.check(first.operation == "dmp.td0.2", NO_DMP_FED, exchanges=(first,),
              detail="sans vérifier l'existence du DMP / without checking the DMP exists")
    fed = [e for e in await settle(ctx, start, EvidenceQuery(service="dmp", operation="dmp.iti-65"))
           if e.id != first.id]
    ctx.check(not fed, NO_DMP_FED, exchanges=fed[:3], detail=f"{len(fed)} ITI-65 après TD0.2 / after TD0.2")


@test("09", title=Text("DMP indisponible (503) : Retry-After respecté", "DMP unavailable (503): Retry-After honoured"),
      description=Text("Le DMP répond 503 avec Retry-After : le logiciel attend le délai annoncé et limite ses "
                       "tentatives.", "The DMP answers 503 with Retry-After: the software waits the announced delay "
                       "and limits its attempts."),
      verifies=("PDSM.ITI-65/10",))
async def unavailable(ctx: TestContext) -> None:
    announced = int(ctx.inputs["retry_after"])
    await ctx.drive.fault("dmp", "unavailable", operation="iti-65", params={"retry_after": announced})
    p = ctx.inputs["patient"]
    start = now()
    found = ordered(await ctx.wait_for(
        EvidenceQuery(service="dmp", operation="dmp.iti-65", label="DMP ITI-65 (x2)"), count=2,
        prompt=Text(f"{FEED_PROMPT.fr.format(patient=patient_text(p))} Le DMP sera indisponible un moment.",
                    f"{FEED_PROMPT.en.format(patient=patient_text(p))} The DMP will be unavailable for a while."),
        action="dmp.feed", params=patient_params(p)))
    first, second = found[0], found[1]
    if not ctx.check(first.status == "503", RETRY, exchanges=(first,), announced=announced,
                     problem=f"premier versement non refusé (HTTP {first.status}) / first feed not refused"):
        return
    gap = gap_seconds(first, second)
    ctx.check(gap >= announced - 0.05, RETRY, exchanges=(first, second), announced=announced,
              problem=f"nouvelle tentative après {gap:.2f} s / retried after {gap:.2f} s")
    attempts = [e for e in await ctx.find(EvidenceQuery(service="dmp", operation="dmp.iti-65"))
                if e.started_at >= start]
    ctx.check(len(attempts) <= 3, RETRY, exchanges=attempts[:5], announced=announced,
              problem=f"{len(attempts)} tentatives / attempts")


@test("10", title=Text("Consultation ITI-68 à l'adresse du contenu", "ITI-68 retrieval at the content address"),
      description=Text("Le contenu est lu à l'adresse content.attachment.url d'une fiche trouvée par ITI-67.",
                       "The content is read at the content.attachment.url of an entry an ITI-67 search found."),
      verifies=("PDSM.ITI-68/01",))
async def retrieve(ctx: TestContext) -> None:
    await letter(ctx)
    p = ctx.inputs["patient"]
    start = now()
    found = await ctx.wait_for(EvidenceQuery(service="dmp", operation="dmp.iti-68", label="DMP ITI-68"), prompt=Text(
        f"Ouvrez la dernière lettre de liaison du patient {patient_text(p)} depuis le DMP.",
        f"Open the latest discharge letter of patient {patient_text(p)} from the DMP."),
        action="dmp.retrieve", params=patient_params(p))
    ex = ordered(found)[0]
    path = str((ex.summary or {}).get("path", ""))
    urls: list[str] = []
    searches = [e for e in await ctx.find(EvidenceQuery(service="dmp", operation="dmp.iti-67", status="200"))
                if start <= e.started_at <= ex.started_at]
    for s in searches:
        for e in entries(await ctx.response_json(s)):
            for c in (e.get("resource") or {}).get("content") or []:
                url = str(((c or {}).get("attachment") or {}).get("url", ""))
                if url:
                    urls.append(url)
    ctx.check(any(u.endswith(path.split("/dmp/fhir/", 1)[-1]) for u in urls if path), RETRIEVE,
              exchanges=(ex, *searches[-1:]),
              problem=f"{path} n'est pas une adresse de contenu renvoyée par la recherche / is not a content address "
                      "the search returned")
    ctx.check(ex.status == "200", RETRIEVE, exchanges=(ex,), problem=f"refusée : HTTP {ex.status} / refused")




group = Group("dmp", Text("DMP (PDSm / IHE MHD)", "DMP (PDSm / IHE MHD)"),
              Text("La lettre de liaison dans le DMP : versement, remplacement, masquage, recherche, consultation, "
                   "erreurs, masquage par le patient.", "The discharge letter in the DMP: feed, replacement, masking, "
                   "search, retrieval, errors, masking by the patient."),
              (dmp_checked, subject_ins, metadata, author, replacement, search, masking, missing_dmp, unavailable,
               retrieve, patient_masking))
