"""Group ``mss`` of suite ``dpi-ldl``: the discharge letter through MSSanté to the correspondent and
to the patient's Mon espace santé mailbox, and the DPI's receiving side (FACTS §2.2–§2.7, A.4;
catalogue ``mssante-ref2``: Référentiel #2 ``ECO.*``, Ségur ``SC.MSS/*``, receipts ``MSS.MDN/*``).

Everything is judged from the SMTP and IMAP evidence the sandbox recorded: the raw message, the
session transcript (``RCPT TO`` attempts, refused or not) and the negotiated TLS version and suite.
"""

from __future__ import annotations

import asyncio
import base64
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from conformance import EvidenceQuery, Exchange, Group, Message, TestContext, Text, test
from conformance.suites.dpi_ldl.documents import CDA_MEDIA, FHIR_MEDIA, judge_fhir, judge_letter_cda
from conformance.suites.dpi_ldl.evidence import ins_returned, now, ordered
from conformance.suites.dpi_ldl.mail_evidence import (
    PATIENT_DOMAIN,
    Letter,
    header,
    is_receipt,
    letters,
    notification_fields,
    parse_message,
    rcpt_attempts,
    subject_pattern,
    xdm_problems,
)
from profiles import read_cda_header

#: Référentiel #2 ECO.1.1.3 (ECDHE_RSA suites); the sandbox's server key is ECDSA, so their ECDSA
#: forms are what a compliant client negotiates with it (mss/README.md "Deviations")
TLS12_SUITES = {f"ECDHE-{k}-{s}" for k in ("RSA", "ECDSA")
                for s in ("AES256-GCM-SHA384", "AES128-GCM-SHA256", "AES256-SHA384", "AES128-SHA256")}
TLS13_SUITES = {"TLS_AES_256_GCM_SHA384", "TLS_AES_128_GCM_SHA256"}


def M(id_: str, fr: str, en: str, hint_fr: str, hint_en: str) -> Message:  # noqa: N802 - short factory
    return Message(f"dpi-ldl.mss.{id_}", fr, en, hint_fr, hint_en)


STRUCTURE = M("structure", "Message {message} : {problem}.", "Message {message}: {problem}.",
              "Un message par patient : les documents structurés dans une pièce IHE_XDM.ZIP (INDEX.HTM, README.TXT, "
              "IHE_XDM/SUBSET01/METADATA.XML, documents avec hash et taille) et leur version PDF.",
              "One message per patient: structured documents in an IHE_XDM.ZIP attachment (INDEX.HTM, README.TXT, "
              "IHE_XDM/SUBSET01/METADATA.XML, documents with hash and size) and their PDF rendering.")
SUBJECT = M("subject", "Objet {subject!r} : la forme XDM/1.0/DDM+<libellé> {expected} est attendue.",
            "Subject {subject!r}: the form XDM/1.0/DDM+<label> {expected} is expected.",
            "Objet : XDM/1.0/DDM+<libellé du document> <NOM de naissance> <premier prénom> <JJ/MM/AAAA>.",
            "Subject: XDM/1.0/DDM+<document label> <BIRTH NAME> <first first name> <DD/MM/YYYY>.")
HEADERS = M("headers", "En-tête {name} : {problem}.", "Header {name}: {problem}.",
            "X-MSS-CODECDA = code de chaque CDA joint ; X-MSS-INS = O si un INS qualifié figure dans le CDA, N sinon "
            "(absents sans CDA) ; X-MSS-NIL sur tout message ; un Message-ID unique.",
            "X-MSS-CODECDA = the code of each attached CDA; X-MSS-INS = O when a qualified INS is in the CDA, N "
            "otherwise (absent without a CDA); X-MSS-NIL on every message; a unique Message-ID.")
CONTENT = M("content", "Document joint : {problem}.", "Attached document: {problem}.",
            "Joignez la lettre en CDA LDL-SES dans IHE_XDM.ZIP, avec le matricule INS renvoyé par INSi.",
            "Attach the letter as an LDL-SES CDA in IHE_XDM.ZIP, with the INS matricule INSi returned.")
TLS = M("tls", "Session {session} : {problem}.", "Session {session}: {problem}.",
        "Client : TLS 1.2, suites ECDHE avec AES-GCM ou AES-CBC et SHA-256/384 (Référentiel #2 ECO.1.1.2/1.1.3).",
        "Client: TLS 1.2, ECDHE suites with AES-GCM or AES-CBC and SHA-256/384 (Référentiel #2 ECO.1.1.2/1.1.3).")
PATIENT = M("patient", "Message au patient : {problem}.", "Message to the patient: {problem}.",
            "Un seul patient par message, à <INS>@patient.mssante.fr ; X-MSS-MES: FIN quand les réponses sont "
            "bloquées.",
            "One patient per message, to <INS>@patient.mssante.fr; X-MSS-MES: FIN when replies are blocked.")
ASK_RECEIPT = M("ask-receipt", "Accusé de réception : {problem}.", "Receipt: {problem}.",
                "Ajoutez Disposition-Notification-To avec l'adresse d'envoi du message.",
                "Add Disposition-Notification-To with the message's sending address.")
RECEIPT = M("receipt", "Accusé renvoyé : {problem}.", "Receipt sent back: {problem}.",
            "Relevez la BAL en IMAP et renvoyez un MDN (RFC 8098) : multipart/report; "
            "report-type=disposition-notification, Original-Message-ID, Final-Recipient, Disposition processed.",
            "Read the mailbox over IMAP and send back an MDN (RFC 8098): multipart/report; "
            "report-type=disposition-notification, Original-Message-ID, Final-Recipient, Disposition processed.")


def _name(letter: Letter) -> str:
    return str(letter.msg.get("Message-ID") or letter.ex.id)


def _patient_address(letter: Letter) -> list[str]:
    return [a for a in letter.recipients if a.endswith("@" + PATIENT_DOMAIN)]


def _cdas(letter: Letter) -> list[tuple[str, bytes]]:
    return letter.documents(CDA_MEDIA)


@test("01", title=Text("Lettre par MSSanté : pièces jointes IHE XDM", "Letter through MSSanté: IHE XDM attachments"),
      description=Text("La lettre part au correspondant et au patient avec une pièce IHE_XDM.ZIP complète (INDEX.HTM, "
                       "README.TXT, METADATA.XML dont chaque fiche désigne un fichier de même SHA-1 et taille), le CDA "
                       "et sa version PDF.", "The letter goes to the correspondent and to the patient with a complete "
                       "IHE_XDM.ZIP (INDEX.HTM, README.TXT, METADATA.XML whose every entry names a file of the same "
                       "SHA-1 and size), the CDA and its PDF rendering."),
      verifies=("ECO.2.1.1",))
async def xdm_attachment(ctx: TestContext) -> None:
    found = await letters(ctx)
    gp = str(ctx.inputs["correspondent"]).lower()
    delivered = {a for m in found if m.ex.status == "250" for a in m.recipients}
    ctx.check(gp in delivered and any(a.endswith("@" + PATIENT_DOMAIN) for a in delivered), STRUCTURE,
              exchanges=[m.ex for m in found], message="-", problem=f"remis à / delivered to {sorted(delivered)} ; "
              f"attendus / expected {gp} et / and <INS>@{PATIENT_DOMAIN}")
    for m in found:
        if not ctx.check(m.xdm is not None, STRUCTURE, at="attachment IHE_XDM.ZIP", exchanges=(m.ex,),
                         message=_name(m), problem="pas de pièce IHE_XDM.ZIP / no IHE_XDM.ZIP attachment"):
            continue
        assert m.xdm is not None
        for problem in xdm_problems(m.xdm):
            ctx.check(False, STRUCTURE, at="IHE_XDM.ZIP", exchanges=(m.ex,), message=_name(m), problem=problem)
        ctx.check(bool(_cdas(m) or m.documents(FHIR_MEDIA)), STRUCTURE, at="IHE_XDM.ZIP", exchanges=(m.ex,),
                  message=_name(m), problem="aucun document structuré / no structured document")
        ctx.check(bool(m.pdfs or m.documents(("application/pdf",))), STRUCTURE, exchanges=(m.ex,), message=_name(m),
                  problem="pas de version PDF lisible / no readable PDF rendering")


@test("02", title=Text("Objet XDM/1.0/DDM+", "XDM/1.0/DDM+ subject"),
      description=Text("L'objet suit XDM/1.0/DDM+<libellé> <NOM> <prénom> <JJ/MM/AAAA> du patient.",
                       "The subject follows XDM/1.0/DDM+<label> <NAME> <first name> <DD/MM/YYYY> of the patient."),
      verifies=("ECO.2.1.3",))
async def subject(ctx: TestContext) -> None:
    p = ctx.inputs["patient"]
    pattern = subject_pattern(p)
    y, mo, d = str(p["birth_date"]).split("-")
    for m in await letters(ctx):
        subj = str(m.msg.get("Subject", ""))
        ctx.check(bool(pattern.match(subj)), SUBJECT, at="header:Subject", exchanges=(m.ex,), subject=subj,
                  expected=f"{p['birth_name']} {p['first_names'][0]} {d}/{mo}/{y}")


@test("03", title=Text("En-têtes X-MSS-* et Message-ID", "X-MSS-* headers and Message-ID"),
      description=Text("X-MSS-CODECDA reprend le code de chaque CDA joint et X-MSS-INS vaut O si le CDA porte un INS "
                       "qualifié (lus par le lecteur d'en-tête CDA de profiles), absents sans CDA ; X-MSS-NIL et un "
                       "Message-ID sur chaque message.", "X-MSS-CODECDA carries the code of each attached CDA and "
                       "X-MSS-INS is O when the CDA carries a qualified INS (read by the profiles CDA header reader), "
                       "both absent without a CDA; X-MSS-NIL and a Message-ID on every message."),
      verifies=("ECO.2.4.1", "ECO.2.4.2", "ECO.2.4.3", "SC.MSS/CONF.14", "SC.MSS/CONF.15", "SC.MSS/CONF.16",
                "ECO.2.2.1"))
async def mss_headers(ctx: TestContext) -> None:
    seen_ids: set[str] = set()
    for m in await letters(ctx):
        headers = [read_cda_header(data) for _, data in _cdas(m)]
        headers = [h for h in headers if h.code or h.patient_ins]
        codecda, ins = header(m.msg, "X-MSS-CODECDA"), header(m.msg, "X-MSS-INS")
        if headers:
            codes = sorted(h.code for h in headers)
            found = sorted(c.strip() for c in (codecda or "").split(",") if c.strip())
            ctx.check(found == codes, HEADERS, at="header:X-MSS-CODECDA", exchanges=(m.ex,), name="X-MSS-CODECDA",
                      problem=f"{codecda!r} ; codes des CDA / CDA codes {codes}")
            expected = "O" if all(h.ins_qualified for h in headers) else "N"
            ctx.check(ins == expected, HEADERS, at="header:X-MSS-INS", exchanges=(m.ex,), name="X-MSS-INS",
                      problem=f"{ins!r} au lieu de / instead of {expected!r}")
        else:
            for name, value in (("X-MSS-CODECDA", codecda), ("X-MSS-INS", ins)):
                ctx.check(value is None, HEADERS, at=f"header:{name}", exchanges=(m.ex,), name=name,
                          problem=f"{value!r} sans document CDA / without a CDA document")
        ctx.check(bool(header(m.msg, "X-MSS-NIL")), HEADERS, at="header:X-MSS-NIL", exchanges=(m.ex,),
                  name="X-MSS-NIL", problem="absent ou vide / missing or empty")
        mid = header(m.msg, "Message-ID") or ""
        ctx.check(bool(mid) and mid not in seen_ids, HEADERS, at="header:Message-ID", exchanges=(m.ex,),
                  name="Message-ID", problem=f"{mid!r} absent ou répété / missing or repeated")
        seen_ids.add(mid)


@test("04", title=Text("Contenu : CDA LDL-SES validé", "Content: LDL-SES CDA validated"),
      description=Text("Le CDA joint est lu par le lecteur d'en-tête CDA de profiles (règles de l'en-tête français, "
                       "chaque règle en défaut citée par son identifiant) : modèle LDL-SES, code 11490-0, matricule "
                       "INS renvoyé par INSi avec son OID ; un document FHIR joint est validé par profiles.validate.",
                       "The attached CDA is read by the profiles CDA header reader (French header rules, each failed "
                       "rule cited by its id): LDL-SES template, code 11490-0, the INS matricule INSi returned with "
                       "its OID; an attached FHIR document is validated by profiles.validate."),
      verifies=("CISIS.LDL/01", "CISIS.DOC/02", "INS.RNIV/02"))
async def content(ctx: TestContext) -> None:
    returned = await ins_returned(ctx)
    for m in await letters(ctx):
        cdas, fhirs = _cdas(m), m.documents(FHIR_MEDIA)
        ctx.check(bool(cdas), CONTENT, exchanges=(m.ex,),
                  problem="aucun document CDA dans IHE_XDM.ZIP / no CDA document in IHE_XDM.ZIP")
        for name, data in cdas:
            h = judge_letter_cda(ctx, data, (m.ex,), at=f"IHE_XDM.ZIP:{name}")
            ctx.check(returned.get(h.patient_ins) == h.patient_ins_oid, CONTENT, at=f"IHE_XDM.ZIP:{name}",
                      exchanges=(m.ex,), problem=f"INS {h.patient_ins!r} (OID {h.patient_ins_oid}) : pas un matricule "
                      "renvoyé par INSi avec cet OID / not a matricule INSi returned with this OID")
        for name, data in fhirs:
            judge_fhir(ctx, data, (m.ex,), at=f"IHE_XDM.ZIP:{name}:")


@test("05", title=Text("TLS 1.2 et suites autorisées", "TLS 1.2 and allowed suites"),
      description=Text("Chaque session SMTP et IMAP du logiciel négocie TLS 1.2 avec une suite ECDHE AES-GCM/AES-CBC "
                       "SHA-256/384 (formes ECDSA acceptées : la clé du serveur du bac à sable est ECDSA) ; TLS 1.3 "
                       "(suites AES-GCM) est accepté sauf si l'entrée mss_tls12_only le refuse.",
                       "Every SMTP and IMAP session of the software negotiates TLS 1.2 with an ECDHE AES-GCM/AES-CBC "
                       "SHA-256/384 suite (ECDSA forms accepted: the sandbox's server key is ECDSA); TLS 1.3 (AES-GCM "
                       "suites) is accepted unless input mss_tls12_only refuses it."),
      verifies=("ECO.1.1.2", "ECO.1.1.3"))
async def tls(ctx: TestContext) -> None:
    found = await letters(ctx)
    ids = {m.ex.correlation_id for m in found}
    sessions: list[Exchange] = []
    for _ in range(20):  # a session is recorded when it closes, just after its last message
        sessions = [s for s in await ctx.find(EvidenceQuery(service="mss", persona=ctx.inputs["professional"],
                                                            operation=("smtp-session", "imap-session")))]
        if ids <= {s.correlation_id for s in sessions}:
            break
        await asyncio.sleep(0.1)
    ctx.check(ids <= {s.correlation_id for s in sessions}, TLS, exchanges=[m.ex for m in found], session="-",
              problem="session SMTP de la lettre non enregistrée / the letter's SMTP session was not recorded")
    for s in ordered(sessions):
        facts = (s.summary or {}).get("tls") or {}
        version, cipher = str(facts.get("version") or ""), str(facts.get("cipher") or "")
        ok = (version == "TLSv1.2" and cipher in TLS12_SUITES) or (
            version == "TLSv1.3" and cipher in TLS13_SUITES and not ctx.inputs["mss_tls12_only"])
        ctx.check(ok, TLS, exchanges=(s,), session=f"{s.operation} {s.correlation_id[:8]}",
                  problem=f"{version or 'sans TLS / no TLS'} {cipher}".strip())


@test("06", title=Text("Message au patient : un seul patient, réponses bloquées",
                       "Message to the patient: one patient, replies blocked"),
      description=Text("Le message part à <INS>@patient.mssante.fr du matricule INS qualifié, sans autre adresse de "
                       "patient (ni tentée en RCPT TO, ni en en-tête), et porte X-MSS-MES: FIN comme demandé.",
                       "The message goes to <INS>@patient.mssante.fr of the qualified INS matricule, with no other "
                       "patient address (neither tried in RCPT TO nor in a header), and carries X-MSS-MES: FIN as "
                       "asked."),
      verifies=("ECO.2.2.8", "SC.MSS/CONF.21", "ECO.2.1.1", "INS.RNIV/03"))
async def patient_message(ctx: TestContext) -> None:
    returned = await ins_returned(ctx)
    found = await letters(ctx)
    to_patient = [m for m in found if _patient_address(m)]
    if not ctx.check(bool(to_patient), PATIENT, exchanges=[m.ex for m in found],
                     problem="aucun message remis à une messagerie de patient / no message delivered to a patient"):
        return
    sessions = {s.correlation_id: s for s in await ctx.find(EvidenceQuery(
        service="mss", operation="smtp-session", persona=ctx.inputs["professional"]))}
    for m in to_patient:
        address = _patient_address(m)[0]
        ctx.check(address.split("@")[0].upper() in returned, PATIENT, at="RCPT TO", exchanges=(m.ex,),
                  problem=f"{address} : pas le matricule renvoyé par INSi / not the matricule INSi returned")
        tried = set(rcpt_attempts(sessions[m.ex.correlation_id])) if m.ex.correlation_id in sessions else set()
        listed = {a.lower() for name in ("To", "Cc") for a in str(m.msg.get(name, "")).replace(",", " ").split()
                  if "@" in a}
        patients = sorted({a.strip("<>") for a in tried | listed | set(_patient_address(m))
                           if a.strip("<>").endswith("@" + PATIENT_DOMAIN)})
        ctx.check(len(patients) == 1, PATIENT, at="RCPT TO", exchanges=(m.ex,),
                  problem=f"{len(patients)} patients adressés / patients addressed: {patients}")
        ctx.check(header(m.msg, "X-MSS-MES") == "FIN", PATIENT, at="header:X-MSS-MES", exchanges=(m.ex,),
                  problem=f"X-MSS-MES = {header(m.msg, 'X-MSS-MES')!r} alors que les réponses devaient être bloquées "
                          "/ although replies were to be blocked")


@test("07", title=Text("Accusé de réception demandé", "Receipt asked for"),
      description=Text("Le message demande un accusé (Disposition-Notification-To) à l'adresse d'envoi, seule à "
                       "laquelle un intégrateur répond.", "The message asks for a receipt "
                       "(Disposition-Notification-To) at the sending address, the only one an integrating system "
                       "answers."),
      verifies=("MSS.MDN/01",))
async def receipt_asked(ctx: TestContext) -> None:
    for m in await letters(ctx):
        dnt = (header(m.msg, "Disposition-Notification-To") or "").strip("<>").lower()
        sender = str((m.ex.summary or {}).get("from", "")).lower()
        ctx.check(dnt == sender, ASK_RECEIPT, at="header:Disposition-Notification-To", exchanges=(m.ex,),
                  problem=f"Disposition-Notification-To {dnt or 'absent'!r}, expéditeur / sender {sender!r}")


@test("08", title=Text("Réception : relève IMAP et accusé MDN", "Receiving: IMAP read and MDN receipt"),
      description=Text("Le bac à sable envoie au logiciel un message du correspondant demandant un accusé ; le "
                       "logiciel le relève en IMAP puis renvoie un MDN (multipart/report, Original-Message-ID, "
                       "Final-Recipient, Disposition processed) à l'adresse Disposition-Notification-To.",
                       "The sandbox sends the software a message from the correspondent asking for a receipt; the "
                       "software reads it over IMAP, then sends an MDN (multipart/report, Original-Message-ID, "
                       "Final-Recipient, Disposition processed) to the Disposition-Notification-To address."),
      verifies=("MSS.MDN/02",))
async def receive(ctx: TestContext) -> None:
    pro, gp = ctx.inputs["professional"], str(ctx.inputs["correspondent"]).lower()
    persona = await ctx.drive.http("GET", f"/sandbox/api/personas/professional/{pro}")
    me = str(persona.json()["mailbox"]).lower()
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = gp, me, "Résultat de consultation"
    msg["Date"], msg["Message-ID"] = format_datetime(now()), make_msgid(domain=gp.rsplit("@", 1)[-1])
    msg["Disposition-Notification-To"] = gp
    msg.set_content("Bonjour, voici le compte rendu de consultation. Merci d'accuser réception.\n")
    r = await ctx.drive.http("POST", "/mss/api/send", json={
        "from": gp, "to": [me], "raw": base64.b64encode(msg.as_bytes()).decode()})
    r.raise_for_status()
    start = now()
    await ctx.wait_for(
        EvidenceQuery(service="mss", operation="smtp-message", persona=pro, label=f"SMTP message to {gp}",
                      where=lambda e: gp in [str(a).lower() for a in (e.summary or {}).get("to") or []]),
        prompt=Text(f"Un message de {gp} demandant un accusé de réception est arrivé dans {me} : relevez-le dans le "
                    "logiciel et laissez-le en accuser réception.", f"A message from {gp} asking for a receipt reached "
                    f"{me}: read it in the software and let it acknowledge it."),
        action="mss.receive", params={"mailbox": me, "from": gp, "message_id": str(msg["Message-ID"])})
    answers = [e for e in await ctx.find(EvidenceQuery(service="mss", operation="smtp-message", persona=pro))
               if e.started_at >= start and gp in [str(a).lower() for a in (e.summary or {}).get("to") or []]]
    mdns = []
    for ex in answers:
        answer = parse_message(await ctx.request_body(ex))
        if is_receipt(answer):
            mdns.append((ex, answer))
    if not ctx.check(bool(mdns), RECEIPT, exchanges=answers[:3], problem=f"{len(answers)} message(s) à / to {gp}, "
                     "aucun accusé MDN (multipart/report) / no MDN (multipart/report)"):
        return
    ex, answer = mdns[0]
    ctx.check(answer.get_param("report-type") == "disposition-notification", RECEIPT, exchanges=(ex,),
              problem=f"report-type {answer.get_param('report-type')!r}")
    fields = notification_fields(answer)
    ctx.check(fields.get("original-message-id") == str(msg["Message-ID"]), RECEIPT, exchanges=(ex,),
              problem=f"Original-Message-ID {fields.get('original-message-id')!r} au lieu de / instead of "
                      f"{msg['Message-ID']}")
    ctx.check(me in fields.get("final-recipient", "").lower(), RECEIPT, exchanges=(ex,),
              problem=f"Final-Recipient {fields.get('final-recipient')!r}")
    disposition = fields.get("disposition", "")
    ctx.check("processed" in disposition and "-action/MDN-sent-" in disposition, RECEIPT, exchanges=(ex,),
              problem=f"Disposition {disposition!r}")
    reads = [s for s in await ctx.find(EvidenceQuery(service="mss", operation="imap-session", persona=pro))
             if s.started_at >= start and s.started_at <= ex.started_at
             and any("FETCH" in str(line).upper() for line in (s.summary or {}).get("transcript") or []
                     if str(line).startswith("C: "))]
    ctx.check(bool(reads), RECEIPT, exchanges=(ex,),
              problem="accusé envoyé sans relève IMAP du message / receipt sent without reading the message over IMAP")


group = Group("mss", Text("MSSanté", "MSSanté"),
              Text("La lettre de liaison par messagerie sécurisée au correspondant et au patient ; réception et "
                   "accusés.",
                   "The discharge letter by secure messaging to the correspondent and the patient; receiving and "
                   "receipts."),
              (xdm_attachment, subject, mss_headers, content, tls, patient_message, receipt_asked, receive))
