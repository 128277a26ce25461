"""INSi test helpers: requests built from fixtures that follow FACTS A.1 byte for byte (only the
``{placeholders}`` of A.1 are filled), sent over real sockets with httpx, answers parsed with the
standard library (a parser nobody here wrote)."""

from __future__ import annotations

import re
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

FIXTURES = Path(__file__).parent / "fixtures"
SOAP12 = "application/soap+xml; charset=utf-8"
NS = {"s": "http://www.w3.org/2003/05/soap-envelope", "r": "http://www.cnamts.fr/INSiResultat",
      "siram": "urn:siram", "sbx": "urn:mes-sandbox:insi", "wsa": "http://www.w3.org/2005/08/addressing"}


def fill(template: str, **values: str) -> str:
    """Fill A.1's placeholders; every ``{uuid}`` gets its own value."""
    out = re.sub(r"\{uuid\}", lambda _m: str(uuid.uuid4()), template)
    defaults = {"iso-datetime": "2026-11-22T10:15:00.000+01:00", "emitter": "TESTLPS",
                "n° autorisation CNDA": "AM-TEST-0001", "v": "1.0", "name": "TESTLPS"}
    for key, value in {**defaults, **values}.items():
        out = out.replace("{" + key + "}", value)
    return out


def traits_request(nom: str, prenoms: list[str] | str, sexe: str, date: str, lieu: str | None = None) -> str:
    template = (FIXTURES / "rechercherInsAvecTraitsIdentite.xml").read_text(encoding="utf-8")
    start = template.index("<ins:NomNaissance>")
    end = template.index("</ins:RECSANSVITALE>")
    prenoms = [prenoms] if isinstance(prenoms, str) else prenoms
    body = f"<ins:NomNaissance>{nom}</ins:NomNaissance>\n"
    body += "".join(f"      <ins:Prenom>{p}</ins:Prenom>\n" for p in prenoms)
    body += f"      <ins:Sexe>{sexe}</ins:Sexe>\n      <ins:DateNaissance>{date}</ins:DateNaissance>\n"
    if lieu is not None:
        body += f"      <!-- optional --><ins:LieuNaissance>{lieu}</ins:LieuNaissance>\n"
    return fill(template[:start] + body + "    " + template[end:])


def a1_request() -> str:
    """The A.1 request unchanged except for its placeholders."""
    return fill((FIXTURES / "rechercherInsAvecTraitsIdentite.xml").read_text(encoding="utf-8"))


def vitale_request(matricule_od: str, date: str, rang: str = "1") -> str:
    template = (FIXTURES / "rechercherInsAvecCarteVitale.xml").read_text(encoding="utf-8")
    return fill(template, **{"matricule-od": matricule_od, "date-naissance": date, "rang": rang})


@dataclass
class Answer:
    status: int
    content_type: str
    text: str
    cr: str | None = None
    libelle: str | None = None
    number: str | None = None
    key: str | None = None
    oid: str | None = None
    history: list[tuple[str, str, str]] = field(default_factory=list)
    tiq: dict[str, str] = field(default_factory=dict)
    fault_code: str | None = None  # soap:Code/Value
    fault_subcode: str | None = None
    erreur: dict[str, str] = field(default_factory=dict)  # siram:Erreur attributes + text
    problems: list[str] = field(default_factory=list)  # sbx:Probleme ids


def parse_answer(r: httpx.Response) -> Answer:
    ans = Answer(r.status_code, r.headers.get("content-type", ""), r.text)
    root = ET.fromstring(r.content)
    res = root.find(".//r:RESULTAT", NS)
    if res is not None:
        ans.cr = res.findtext("r:CR/r:CodeCR", namespaces=NS)
        ans.libelle = res.findtext("r:CR/r:LibelleCR", namespaces=NS)
        ind = res.find("r:INDIVIDU", NS)
        if ind is not None:
            ans.number = ind.findtext("r:INSACTIF/r:IdIndividu/r:NumIdentifiant", namespaces=NS)
            ans.key = ind.findtext("r:INSACTIF/r:IdIndividu/r:Cle", namespaces=NS)
            ans.oid = ind.findtext("r:INSACTIF/r:OID", namespaces=NS)
            for h in ind.findall("r:INSHISTO", NS):
                ans.history.append((h.findtext("r:IdIndividu/r:NumIdentifiant", namespaces=NS),
                                    h.findtext("r:IdIndividu/r:Cle", namespaces=NS),
                                    h.findtext("r:OID", namespaces=NS)))
            tiq = ind.find("r:TIQ", NS)
            ans.tiq = {c.tag.rsplit("}", 1)[-1]: c.text or "" for c in tiq} if tiq is not None else {}
    fault = root.find(".//s:Fault", NS)
    if fault is not None:
        ans.fault_code = fault.findtext("s:Code/s:Value", namespaces=NS)
        ans.fault_subcode = fault.findtext("s:Code/s:Subcode/s:Value", namespaces=NS)
    err = root.find(".//siram:Erreur", NS)
    if err is not None:
        ans.erreur = {**err.attrib, "text": err.text or ""}
    ans.problems = [p.get("id", "") for p in root.findall(".//sbx:Probleme", NS)]
    return ans


class Insi:
    def __init__(self, client: httpx.Client, workspace: str) -> None:
        self.client = client
        self.workspace = workspace

    def post(self, body: str | bytes, content_type: str = SOAP12, workspace: str | None = None) -> Answer:
        data = body.encode() if isinstance(body, str) else body
        headers = {"content-type": content_type, "x-sandbox-workspace": workspace or self.workspace}
        return parse_answer(self.client.post("/ins/insi", content=data, headers=headers))

    def traits(self, *args, **kw) -> Answer:
        return self.post(traits_request(*args, **kw))


@pytest.fixture()
def insi(client: httpx.Client, workspace: str) -> Insi:
    return Insi(client, workspace)


@pytest.fixture(scope="session")
def kit() -> SimpleNamespace:
    """Request builders and the answer parser, for tests that need no workspace."""
    return SimpleNamespace(fill=fill, traits_request=traits_request, a1_request=a1_request,
                           vitale_request=vitale_request, parse_answer=parse_answer, SOAP12=SOAP12,
                           NS=NS, Insi=Insi)
