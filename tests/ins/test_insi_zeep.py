"""Proof with a SOAP client nobody here wrote: zeep, driven by the sandbox-written WSDL
(``GET /ins/insi?wsdl``), with the INSi header blocks of FACTS A.1 as raw XML, over plain HTTP
with a workspace's key (``Authorization: Bearer``, docs/security.md "Credentials") set on zeep's
own ``requests`` session."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests
import zeep
import zeep.exceptions
from lxml import etree
from zeep.transports import Transport

BAM, LPS, WSA = "urn:siram:bam:ctxbam", "urn:siram:lps:ctxlps", "http://www.w3.org/2005/08/addressing"


def _el(ns: str, prefix: str, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    el = etree.Element(f"{{{ns}}}{tag}", nsmap={prefix: ns}, **attrs)
    el.text = text
    return el


def _sub(parent, ns: str, tag: str, text: str | None = None, **attrs: str):
    el = etree.SubElement(parent, f"{{{ns}}}{tag}", **attrs)
    el.text = text
    return el


def insi_headers(action: str) -> list:
    bam = _el(BAM, "ctxbam", "ContexteBAM", Version="01_02")
    for tag, text in (("Id", str(uuid.uuid4())), ("Temps", "2026-11-22T10:15:00Z"), ("Emetteur", "ZEEP")):
        _sub(bam, BAM, tag, text)
    _sub(bam, BAM, "COUVERTURE")
    lps = _el(LPS, "ctxlps", "ContexteLPS", Nature="CTXLPS", Version="01_00")
    for tag, text in (("Id", str(uuid.uuid4())), ("Temps", "2026-11-22T10:15:00Z"), ("Emetteur", "ZEEP")):
        _sub(lps, LPS, tag, text)
    soft = _sub(lps, LPS, "LPS")
    _sub(soft, LPS, "IDAM", "AM-ZEEP-01", R="4")
    _sub(soft, LPS, "Version", "4.3")
    _sub(soft, LPS, "Instance", str(uuid.uuid4()))
    _sub(soft, LPS, "Nom", "urn:lps:zeep:4.3")
    return [bam, lps, _el(WSA, "wsa", "Action", "urn:ServiceIdentiteCertifiee:1.0.0:" + action),
            _el(WSA, "wsa", "MessageID", f"uuid:{uuid.uuid4()}")]


@dataclass
class Vendor:
    workspace: str
    key: str


@pytest.fixture(scope="module")
def vendor(sandbox) -> Iterator[Vendor]:
    name = f"zeep-{uuid.uuid4().hex[:8]}"
    yield Vendor(name, sandbox.create_workspace(name))
    with sandbox.client() as c:
        c.delete(f"/sandbox/api/workspaces/{name}")


def _zeep(sandbox, **headers: str):
    session = requests.Session()
    session.headers.update(headers)
    return zeep.Client(sandbox.url("/ins/insi?wsdl"), transport=Transport(session=session)).service


@pytest.fixture(scope="module")
def service(sandbox, vendor):
    return _zeep(sandbox, Authorization=f"Bearer {vendor.key}")


def test_wsdl_is_served_as_xml(client):
    r = client.get("/ins/insi?wsdl")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/xml")
    assert b"soap12:address" in r.content and b"rechercherInsAvecCarteVitale" in r.content


def _traits(service, nom, prenom, sexe, date, lieu=None):
    return service.rechercherInsAvecTraitsIdentite(
        NomNaissance=nom, Prenom=[prenom], Sexe=sexe, DateNaissance=date, LieuNaissance=lieu,
        _soapheaders=insi_headers("rechercherInsAvecTraitsIdentite"))


@pytest.mark.parametrize(("traits", "number", "key"), [
    (("ADRTROIS", "DOMINIQUE", "F", "1997-02-26", "2A020"), "297022A020778", "78"),
    (("TCHITCHI", "CATARINA", "F", "1936-06-21"), "2360663220836", "56"),
    (("ECETINSI", "FLORIANT", "M", "2009-07-14", "63220"), "1090763220834", "89"),
])
def test_public_test_identities(service, traits, number, key):
    res = _traits(service, *traits)
    assert res.CR.CodeCR == "00" and res.CR.LibelleCR == "OK"
    assert (res.INDIVIDU.INSACTIF.IdIndividu.NumIdentifiant, res.INDIVIDU.INSACTIF.IdIndividu.Cle) == (number, key)
    assert res.INDIVIDU.INSACTIF.OID == "1.2.250.1.213.1.4.8"
    assert res.INDIVIDU.TIQ.NomNaissance == traits[0]


def test_ecetinsi_history_and_tchitchi_ola(service):
    res = _traits(service, "ECETINSI", "PIERRE-ALAIN", "M", "2009-07-14")
    assert [(h.IdIndividu.NumIdentifiant, h.IdIndividu.Cle) for h in res.INDIVIDU.INSHISTO] == [
        ("2090763220834", "39"), ("2090663220123", "55")]
    res = _traits(service, "TCHITCHI", "OLA", "F", "1936-06-21")
    assert res.CR.CodeCR == "01" and res.INDIVIDU is None


def test_vitale_operation(service):
    res = service.rechercherInsAvecCarteVitale(
        MatriculeOD={"NumIdentifiant": "297022A020778", "Cle": "78"}, DateNaissance="1997-02-26",
        RangNaissance="1", _soapheaders=insi_headers("rechercherInsAvecCarteVitale"))
    assert res.INDIVIDU.INSACTIF.IdIndividu.NumIdentifiant == "297022A020778"


def test_fault_surfaces_as_zeep_fault(service):
    with pytest.raises(zeep.exceptions.Fault) as err:
        _traits(service, "adrtrois", "DOMINIQUE", "F", "1997-02-26")
    fault = err.value
    assert fault.code.endswith("Sender")
    erreur = fault.detail.find("{urn:siram}Erreur")
    assert erreur.get("code") == "insi_420" and erreur.get("severite") == "erreur"
    assert "ADRTROIS" in erreur.text


def test_the_call_is_the_key_holders_evidence(sandbox, service, vendor):
    _traits(service, "ADRTROIS", "DOMINIQUE", "F", "1997-02-26")
    sandbox.call(sandbox.ctx.recorder.flush)
    assert [e for e in sandbox.exchanges(workspace=vendor.workspace) if e["service"] == "ins"]


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer msbw.nobody.forged"}], ids=["no-key", "forged"])
def test_zeep_without_a_valid_key_gets_insi_431(sandbox, headers):
    with pytest.raises(zeep.exceptions.Fault) as err:
        _traits(_zeep(sandbox, **headers), "ADRTROIS", "DOMINIQUE", "F", "1997-02-26")
    erreur = err.value.detail.find("{urn:siram}Erreur")
    assert erreur.get("code") == "insi_431" and "Authorization: Bearer" in erreur.text


def test_zeep_with_the_key_cannot_name_another_workspace(sandbox, vendor):
    other = _zeep(sandbox, Authorization=f"Bearer {vendor.key}", **{"X-Sandbox-Workspace": "default"})
    with pytest.raises(zeep.exceptions.Fault) as err:
        _traits(other, "ADRTROIS", "DOMINIQUE", "F", "1997-02-26")
    erreur = err.value.detail.find("{urn:siram}Erreur")
    assert erreur.get("code") == "insi_431" and vendor.workspace in erreur.text
