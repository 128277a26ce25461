"""A DPI's INSi traits search (FACTS §1.2, appendix A.1–A.2): SOAP 1.2 over httpx (mutual TLS
with an ``INSI-AUTO`` organisation certificate when given one, else plain HTTP with the sandbox's
key), one first name per call as the
CNAM client does, the matricule returned split (13 characters + key) and joined back into the
15-character INS, CR ``01``/``02`` handled by refining with the other first names, then the
birth place (COG).
"""

from __future__ import annotations

import unicodedata
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape

import httpx
from defusedxml import ElementTree as ET  # noqa: N817 - the usual alias

SOAP12 = "application/soap+xml; charset=utf-8"
ACTION = "urn:ServiceIdentiteCertifiee:1.0.0:rechercherInsAvecTraitsIdentite"
NS = {"s": "http://www.w3.org/2003/05/soap-envelope", "r": "http://www.cnamts.fr/INSiResultat",
      "siram": "urn:siram"}


class InsiError(RuntimeError):
    """A SOAP Fault (``code`` = its ``siram:Erreur`` code) or an unreadable answer."""

    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.code = code

    @property
    def technical(self) -> bool:
        """A fault of the service (worth one more try), not of the request (``insi_4xx``)."""
        return not self.code.startswith("insi_4")


def normalise(text: str) -> str:
    """Upper case without accents, as INSi expects the software to send traits (FACTS §1.2)."""
    plain = unicodedata.normalize("NFKD", text)
    return "".join(c for c in plain if not unicodedata.combining(c)).upper().strip()


@dataclass(frozen=True)
class Traits:
    birth_name: str
    first_names: tuple[str, ...]
    sex: str
    birth_date: str
    birth_place: str = ""

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Traits:
        firsts = d.get("first_names") or []
        return cls(d["birth_name"], tuple(firsts if isinstance(firsts, list) else str(firsts).split()),
                   d["sex"], d["birth_date"], d.get("birth_place") or "")


@dataclass
class InsiAnswer:
    cr: str
    number: str = ""
    key: str = ""
    oid: str = ""
    first_names: str = ""

    @property
    def ins(self) -> str:
        return self.number + self.key


@dataclass
class InsiClient:
    http: httpx.Client
    url: str
    workspace: str
    #: the sandbox key sent as ``Authorization: Bearer`` when calling without a client certificate
    key: str = ""
    idam: str = "AM-SIM-DPI-0001"
    lps_name: str = "urn:lps:mes-sandbox-dpi-simulator:1.0"
    calls: list[InsiAnswer] = field(default_factory=list)

    def envelope(self, birth_name: str, first_names: list[str], sex: str, birth_date: str,
                 birth_place: str = "") -> str:
        now = datetime.now(UTC).isoformat(timespec="milliseconds")
        body = f"<ins:NomNaissance>{escape(birth_name)}</ins:NomNaissance>"
        body += "".join(f"<ins:Prenom>{escape(p)}</ins:Prenom>" for p in first_names)
        body += f"<ins:Sexe>{escape(sex)}</ins:Sexe><ins:DateNaissance>{escape(birth_date)}</ins:DateNaissance>"
        if birth_place:
            body += f"<ins:LieuNaissance>{escape(birth_place)}</ins:LieuNaissance>"
        return (
            '<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope" xmlns:ctxbam="urn:siram:bam:ctxbam" '
            'xmlns:ctxlps="urn:siram:lps:ctxlps" xmlns:wsa="http://www.w3.org/2005/08/addressing" '
            'xmlns:ins="http://www.cnamts.fr/INSiRecSans"><soap:Header>'
            f'<ctxbam:ContexteBAM Version="01_02"><ctxbam:Id>{uuid.uuid4()}</ctxbam:Id><ctxbam:Temps>{now}'
            '</ctxbam:Temps><ctxbam:Emetteur>SIMDPI</ctxbam:Emetteur><ctxbam:COUVERTURE/></ctxbam:ContexteBAM>'
            f'<ctxlps:ContexteLPS Nature="CTXLPS" Version="01_00"><ctxlps:Id>{uuid.uuid4()}</ctxlps:Id>'
            f'<ctxlps:Temps>{now}</ctxlps:Temps><ctxlps:Emetteur>SIMDPI</ctxlps:Emetteur><ctxlps:LPS>'
            f'<ctxlps:IDAM R="4">{escape(self.idam)}</ctxlps:IDAM><ctxlps:Version>1.0</ctxlps:Version>'
            f'<ctxlps:Instance>{uuid.uuid4()}</ctxlps:Instance><ctxlps:Nom>{escape(self.lps_name)}</ctxlps:Nom>'
            f'</ctxlps:LPS></ctxlps:ContexteLPS><wsa:Action>{ACTION}</wsa:Action>'
            f'<wsa:MessageID>uuid:{uuid.uuid4()}</wsa:MessageID></soap:Header><soap:Body>'
            f'<ins:RECSANSVITALE>{body}</ins:RECSANSVITALE></soap:Body></soap:Envelope>')

    def _headers(self) -> dict[str, str]:
        headers = {"content-type": SOAP12, "x-sandbox-workspace": self.workspace}
        if self.key:
            headers["authorization"] = f"Bearer {self.key}"
        return headers

    def call(self, birth_name: str, first_names: list[str], sex: str, birth_date: str,
             birth_place: str = "") -> InsiAnswer:
        r = self.http.post(self.url, content=self.envelope(birth_name, first_names, sex, birth_date,
                                                           birth_place).encode(),
                           headers=self._headers())
        try:
            root = ET.fromstring(r.content)
        except ET.ParseError as exc:
            raise InsiError(f"INSi answered HTTP {r.status_code}, not XML: {exc}") from None
        fault = root.find(".//s:Fault", NS)
        if fault is not None:
            erreur = root.find(".//siram:Erreur", NS)
            code = erreur.get("code", "") if erreur is not None else ""
            raise InsiError(f"SOAP Fault {code}", code)
        cr = root.findtext(".//r:CR/r:CodeCR", default="", namespaces=NS)
        ans = InsiAnswer(cr)
        active = root.find(".//r:INDIVIDU/r:INSACTIF", NS)
        if active is not None:
            ans.number = active.findtext("r:IdIndividu/r:NumIdentifiant", default="", namespaces=NS)
            ans.key = active.findtext("r:IdIndividu/r:Cle", default="", namespaces=NS)
            ans.oid = active.findtext("r:OID", default="", namespaces=NS)
            ans.first_names = root.findtext(".//r:TIQ/r:ListePrenom", default="", namespaces=NS)
        self.calls.append(ans)
        return ans

    def search(self, traits: Traits, *, normalise_traits: bool = True,
               repeat_on: frozenset[str] = frozenset()) -> InsiAnswer:
        """Traits search, one first name per call; on CR 01/02 try the next first names, then add
        the birth place (FACTS §1.2: "refine with other first names then COG"). ``repeat_on``
        copies a vendor mistake: on those CRs the very same request is sent again."""
        name = normalise(traits.birth_name) if normalise_traits else traits.birth_name
        firsts = [normalise(p) if normalise_traits else p for p in traits.first_names] or [""]
        attempts: list[tuple[str, str]] = [(f, "") for f in firsts]
        if traits.birth_place:
            attempts.append((firsts[0], traits.birth_place))
        ans = InsiAnswer("")
        i = 0
        while i < len(attempts):
            first, place = attempts[i]
            ans = self.call(name, [first], traits.sex, traits.birth_date, place)
            if ans.cr not in ("01", "02"):
                return ans
            if ans.cr in repeat_on:
                return self.call(name, [first], traits.sex, traits.birth_date, place)
            i += 1
        return ans
