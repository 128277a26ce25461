"""INSi traits and carte Vitale searches over real HTTP, requests from FACTS A.1 fixtures."""

from __future__ import annotations

from collections import defaultdict


def test_a1_request_unchanged_returns_adrtrois(kit, insi):
    ans = insi.post(kit.a1_request())
    assert ans.status == 200
    assert ans.content_type.startswith("application/soap+xml")
    assert (ans.cr, ans.libelle) == ("00", "OK")
    assert (ans.number, ans.key, ans.oid) == ("297022A020778", "78", "1.2.250.1.213.1.4.8")
    assert ans.tiq == {"NomNaissance": "ADRTROIS", "ListePrenom": "DOMINIQUE", "Sexe": "F",
                       "DateNaissance": "1997-02-26", "LieuNaissance": "2A020"}
    assert ans.history == []


def test_adrtrois_without_birth_place(insi):
    ans = insi.traits("ADRTROIS", "DOMINIQUE", "F", "1997-02-26")
    assert (ans.cr, ans.number, ans.key) == ("00", "297022A020778", "78")


def test_tchitchi_any_first_name_and_ola_not_found(insi):
    for prenom in ("CATARINA", "BELLA"):
        ans = insi.traits("TCHITCHI", prenom, "F", "1936-06-21")
        assert (ans.cr, ans.number, ans.key) == ("00", "2360663220836", "56")
        assert ans.tiq["ListePrenom"] == "CATARINA BELLA"
    ola = insi.traits("TCHITCHI", "OLA", "F", "1936-06-21")
    assert (ola.cr, ola.libelle) == ("01", "Aucune identite trouvee")
    assert ola.number is None and "INDIVIDU" not in ola.text


def test_ecetinsi_with_two_inshisto(insi):
    ans = insi.traits("ECETINSI", "PIERRE-ALAIN", "M", "2009-07-14", "63220")
    assert (ans.cr, ans.number, ans.key) == ("00", "1090763220834", "89")
    assert ans.tiq["ListePrenom"] == "PIERRE-ALAIN MURIEL FLORIANT"
    assert [(n, k) for n, k, _ in ans.history] == [("2090763220834", "39"), ("2090663220123", "55")]
    assert all(oid == "1.2.250.1.213.1.4.8" for _, _, oid in ans.history)


def test_several_first_names_in_one_request(insi):
    ans = insi.traits("TCHITCHI", ["OLA", "BELLA"], "F", "1936-06-21")
    assert ans.cr == "00"


def test_wrong_sex_date_or_place_is_not_found(insi):
    assert insi.traits("ADRTROIS", "DOMINIQUE", "M", "1997-02-26").cr == "01"
    assert insi.traits("ADRTROIS", "DOMINIQUE", "F", "1997-02-27").cr == "01"
    assert insi.traits("ADRTROIS", "DOMINIQUE", "F", "1997-02-26", "75056").cr == "01"


def _homonym_pairs(client, workspace):
    r = client.get("/sandbox/api/personas", params={"kind": "patient", "limit": 1000},
                   headers={"x-sandbox-workspace": workspace})
    groups = defaultdict(list)
    for p in r.json()["personas"]:
        if "homonym" in p["tags"]:
            groups[(p["birth_name"], p["sex"], p["birth_date"])].append(p)
    return [g for g in groups.values() if len(g) == 2]


def test_homonyms_02_without_cog_00_with_it(insi, client, workspace):
    pairs = _homonym_pairs(client, workspace)
    assert len(pairs) >= 3
    for a, b in pairs:
        shared = (set(a["first_names"]) & set(b["first_names"])).pop()
        ans = insi.traits(a["birth_name"], shared, a["sex"], a["birth_date"])
        assert (ans.cr, ans.libelle) == ("02", "Plusieurs identites trouvees")
        assert ans.number is None
        for p in (a, b):
            one = insi.traits(p["birth_name"], shared, p["sex"], p["birth_date"], p["birth_place"])
            assert (one.cr, one.number + one.key) == ("00", p["matricule"])


def test_vitale_search_selects_beneficiary(kit, insi, client, workspace):
    r = client.get("/sandbox/api/personas", params={"kind": "patient", "limit": 1000},
                   headers={"x-sandbox-workspace": workspace})
    adrtrois = next(p for p in r.json()["personas"] if p["birth_name"] == "ADRTROIS")
    od = adrtrois["vitale"]["matricule_od"]
    ans = insi.post(kit.vitale_request(od[:13], "1997-02-26", "1"))
    assert (ans.cr, ans.number, ans.key) == ("00", "297022A020778", "78")
    assert insi.post(kit.vitale_request(od[:13], "1997-02-26", "2")).cr == "01"
    assert insi.post(kit.vitale_request(od, "1997-02-26", "1")).cr == "00"  # 15 characters accepted


def test_response_relates_to_request_message_id(kit, insi):
    body = kit.a1_request()
    mid = body.split("<wsa:MessageID>")[1].split("</wsa:MessageID>")[0]
    ans = insi.post(body)
    assert f"<wsa:RelatesTo>{mid}</wsa:RelatesTo>" in ans.text
    assert "rechercherInsAvecTraitsIdentiteResponse" in ans.text


def test_evidence_records_traits_cr_ins_and_idam(kit, insi, sandbox, workspace):
    insi.post(kit.a1_request())
    insi.traits("TCHITCHI", "OLA", "F", "1936-06-21")
    ex = sandbox.exchanges(workspace=workspace, service="ins")
    soap = [e for e in ex if e["protocol"] == "soap"]
    assert len(soap) == 2
    by_cr = {e["summary"]["cr"]: e for e in soap}
    ok = by_cr["00"]
    assert ok["operation"] == "rechercherInsAvecTraitsIdentite"
    assert ok["actor"] == "IDAM=AM-TEST-0001"
    assert ok["summary"]["ins"] == "297022A02077878"
    assert ok["summary"]["request"]["NomNaissance"] == "ADRTROIS"
    assert by_cr["01"]["summary"]["ins"] is None


def test_workspace_isolation_unknown_workspace_is_a_fault(kit, insi):
    ans = insi.post(kit.a1_request(), workspace="no-such-workspace-x")
    assert ans.status == 500
    assert ans.erreur["code"] == "insi_490"


def test_content_type_with_action_parameter_accepted(kit, insi):
    ct = kit.SOAP12 + '; action="urn:ServiceIdentiteCertifiee:1.0.0:rechercherInsAvecTraitsIdentite"'
    assert insi.post(kit.a1_request(), content_type=ct).cr == "00"


def test_vitale_search_narrowed_by_matricule_individu_and_name(kit, insi):
    body = kit.vitale_request("297022A020778", "1997-02-26").replace(
        "<ins:MatriculeOD>",
        "<ins:MatriculeIndividu><ins:NumIdentifiant>297022A020778</ins:NumIdentifiant>"
        "<ins:Cle>78</ins:Cle></ins:MatriculeIndividu><ins:MatriculeOD>")
    assert insi.post(body).cr == "00"
    other = body.replace("<ins:NumIdentifiant>297022A020778</ins:NumIdentifiant><ins:Cle>78</ins:Cle>",
                         "<ins:NumIdentifiant>236066322083656</ins:NumIdentifiant>", 1)
    assert insi.post(other).cr == "01"
    named = kit.vitale_request("297022A020778", "1997-02-26").replace(
        "<ins:DateNaissance>", "<ins:NomNaissance>TCHITCHI</ins:NomNaissance><ins:DateNaissance>", 1)
    assert insi.post(named).cr == "01"
