"""Wire format without a server: the response is FACTS A.1's ``RESULTAT``, byte for byte once the
A.1 layout whitespace is removed; requests parse into typed objects."""

from __future__ import annotations

import re

from ins.identities import Identity, InsNumber
from ins.insi_errors import InsiError, InsiFault
from ins.insi_service import CR, InsiResult
from ins.insi_soap import Operation, parse_request, resultat_xml
from ins.rniv import Status
from ins.traits import Traits

A1_RESPONSE = """<RESULTAT xmlns="http://www.cnamts.fr/INSiResultat">
  <CR><CodeCR>00</CodeCR><LibelleCR>OK</LibelleCR></CR>
  <INDIVIDU>
    <INSACTIF><IdIndividu><NumIdentifiant>297022A020778</NumIdentifiant><Cle>78</Cle></IdIndividu>
              <OID>1.2.250.1.213.1.4.8</OID></INSACTIF>
    <TIQ><NomNaissance>ADRTROIS</NomNaissance><ListePrenom>DOMINIQUE</ListePrenom>
         <Sexe>F</Sexe><DateNaissance>1997-02-26</DateNaissance><LieuNaissance>2A020</LieuNaissance></TIQ>
  </INDIVIDU>
</RESULTAT>"""

ADRTROIS = Identity("pat-0001", Traits("ADRTROIS", ("DOMINIQUE",), "F", "1997-02-26", "2A020"),
                    InsNumber("297022A020778", "78", "1.2.250.1.213.1.4.8"), (), Status.QUAL, None, None)


def _squeeze(xml: str) -> str:
    return re.sub(r">\s+<", "><", xml.strip())


def test_resultat_00_is_a1_exactly():
    assert resultat_xml(InsiResult(CR.OK, ADRTROIS, 1)) == _squeeze(A1_RESPONSE)


def test_resultat_01_and_02_hold_only_cr():
    assert resultat_xml(InsiResult(CR.NOT_FOUND)) == (
        '<RESULTAT xmlns="http://www.cnamts.fr/INSiResultat"><CR><CodeCR>01</CodeCR>'
        "<LibelleCR>Aucune identite trouvee</LibelleCR></CR></RESULTAT>")
    assert "<CodeCR>02</CodeCR><LibelleCR>Plusieurs identites trouvees</LibelleCR>" in resultat_xml(
        InsiResult(CR.SEVERAL))


def test_parse_a1_request(kit):
    req = parse_request(kit.a1_request().encode(), kit.SOAP12)
    assert req.operation is Operation.TRAITS
    assert (req.traits.birth_name, req.traits.first_names, req.traits.birth_place) == (
        "ADRTROIS", ("DOMINIQUE",), "2A020")
    assert req.header.idam == "AM-TEST-0001" and req.header.message_id.startswith("uuid:")
    assert req.header.lps_name == "urn:lps:TESTLPS:1.0" and not req.header.has_security


def test_wsse_security_header_is_understood(kit):
    body = kit.a1_request().replace(
        "<soap:Header>",
        '<soap:Header><wsse:Security soap:mustUnderstand="true" xmlns:wsse="http://docs.oasis-open.org/'
        'wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"/>', 1)
    assert parse_request(body.encode(), kit.SOAP12).header.has_security


def test_fault_wire_shape():
    wire = InsiFault(InsiError.TECHNICAL, message_id="uuid:1").to_wire()
    body = wire.body.decode()
    assert wire.status == 500 and wire.media_type.startswith("application/soap+xml")
    assert "<soap:Value>soap:Receiver</soap:Value><soap:Subcode><soap:Value>soap:siram_40</soap:Value>" in body
    assert '<siram:Erreur xmlns:siram="urn:siram" code="insi_102" messageID="uuid:1" severite="fatal">' in body
