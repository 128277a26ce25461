"""Client side of the INSi traits search, for ``mes-sandbox insi search`` (FACTS §1.1–1.2): build the
``rechercherInsAvecTraitsIdentite`` SOAP 1.2 request with its ContexteBAM / ContexteLPS headers, as
an LPS sends it, and read the answer's CR code, INS and traits. Standard library only."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from xml.sax.saxutils import escape

SOAP12 = "application/soap+xml; charset=utf-8"
ACTION = "urn:ServiceIdentiteCertifiee:1.0.0:rechercherInsAvecTraitsIdentite"
_RESULT_NS = "{http://www.cnamts.fr/INSiResultat}"
_SOAP_NS = "{http://www.w3.org/2003/05/soap-envelope}"


def traits_request(birth_name: str, first_names: list[str], sex: str, birth_date: str, birth_place: str = "",
                   *, emitter: str = "MES-SANDBOX-CLI", cnda: str = "AM-TEST-0001") -> str:
    """The SOAP 1.2 envelope of a traits search (values XML-escaped)."""
    now = datetime.now().astimezone().isoformat(timespec="milliseconds")
    lps = escape(emitter)
    body = f"<ins:NomNaissance>{escape(birth_name)}</ins:NomNaissance>"
    body += "".join(f"<ins:Prenom>{escape(p)}</ins:Prenom>" for p in first_names)
    body += f"<ins:Sexe>{escape(sex)}</ins:Sexe><ins:DateNaissance>{escape(birth_date)}</ins:DateNaissance>"
    if birth_place:
        body += f"<ins:LieuNaissance>{escape(birth_place)}</ins:LieuNaissance>"
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope" xmlns:ctxbam="urn:siram:bam:ctxbam"
 xmlns:ctxlps="urn:siram:lps:ctxlps" xmlns:wsa="http://www.w3.org/2005/08/addressing"
 xmlns:ins="http://www.cnamts.fr/INSiRecSans">
 <soap:Header>
  <ctxbam:ContexteBAM Version="01_02"><ctxbam:Id>{uuid.uuid4()}</ctxbam:Id><ctxbam:Temps>{now}</ctxbam:Temps>
   <ctxbam:Emetteur>{lps}</ctxbam:Emetteur><ctxbam:COUVERTURE/></ctxbam:ContexteBAM>
  <ctxlps:ContexteLPS Nature="CTXLPS" Version="01_00"><ctxlps:Id>{uuid.uuid4()}</ctxlps:Id>
   <ctxlps:Temps>{now}</ctxlps:Temps><ctxlps:Emetteur>{lps}</ctxlps:Emetteur>
   <ctxlps:LPS><ctxlps:IDAM R="4">{escape(cnda)}</ctxlps:IDAM><ctxlps:Version>1.0</ctxlps:Version>
    <ctxlps:Instance>{uuid.uuid4()}</ctxlps:Instance><ctxlps:Nom>urn:lps:{lps}:1.0</ctxlps:Nom></ctxlps:LPS>
  </ctxlps:ContexteLPS>
  <wsa:Action>{ACTION}</wsa:Action><wsa:MessageID>uuid:{uuid.uuid4()}</wsa:MessageID>
 </soap:Header>
 <soap:Body><ins:RECSANSVITALE>{body}</ins:RECSANSVITALE></soap:Body>
</soap:Envelope>
"""


@dataclass
class TraitsAnswer:
    """What a traits search answered: CR code and label, the INS when one was found, or a Fault."""

    cr: str = ""
    label: str = ""
    ins: str = ""
    oid: str = ""
    traits: dict[str, str] = field(default_factory=dict)
    fault: str = ""


def read_answer(xml: bytes) -> TraitsAnswer:
    """Parse an INSi answer or SOAP Fault (defusedxml: whatever answers on that URL is untrusted)."""
    from defusedxml.ElementTree import fromstring

    root = fromstring(xml)
    ans = TraitsAnswer()
    fault = root.find(f".//{_SOAP_NS}Fault")
    if fault is not None:
        err = fault.find(".//{urn:siram}Erreur")
        code = f"{err.get('code')}: " if err is not None and err.get("code") else ""
        ans.fault = code + " ".join(t.strip() for t in fault.itertext() if t.strip())
        return ans
    res = root.find(f".//{_RESULT_NS}RESULTAT")
    if res is None:
        return ans
    ans.cr = res.findtext(f"{_RESULT_NS}CR/{_RESULT_NS}CodeCR") or ""
    ans.label = res.findtext(f"{_RESULT_NS}CR/{_RESULT_NS}LibelleCR") or ""
    active = res.find(f"{_RESULT_NS}INDIVIDU/{_RESULT_NS}INSACTIF")
    if active is not None:
        ident = active.find(f"{_RESULT_NS}IdIndividu")
        if ident is not None:
            ans.ins = (ident.findtext(f"{_RESULT_NS}NumIdentifiant") or "") + (ident.findtext(f"{_RESULT_NS}Cle") or "")
        ans.oid = active.findtext(f"{_RESULT_NS}OID") or ""
    tiq = res.find(f"{_RESULT_NS}INDIVIDU/{_RESULT_NS}TIQ")
    if tiq is not None:
        ans.traits = {c.tag.rsplit("}", 1)[-1]: c.text or "" for c in tiq}
    return ans
