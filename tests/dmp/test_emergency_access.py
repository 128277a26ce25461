"""Emergency access (FACTS §3.5): centre_15 belongs to SAMU regulators, and a patient's opposition
to bris de glace or to the regulation centre is honoured."""

from __future__ import annotations

from dmp_helpers import ONLY_MT, ONLY_MT_DOCTOR, OTHER_PRO, REGULATOR, cr_bio_bundle

BDG = {"X-DMP-Access-Mode": "bris_de_glace"}
C15 = {"X-DMP-Access-Mode": "centre_15"}


def _find(dmp, idnps: str, headers: dict) -> object:  # noqa: ANN001
    return dmp.find(dmp.pro_token(idnps), headers=headers, patient=f"Patient/{ONLY_MT}", status="current")


def test_regulator_persona_and_psc_claim(dmp) -> None:
    pro = dmp.http.get(f"/sandbox/api/personas/professional/{REGULATOR}",
                       headers={"X-Sandbox-Workspace": dmp.workspace})
    assert pro.status_code == 200, pro.text
    assert pro.json()["medical_regulation"] is True
    r = dmp.http.get("/psc/realms/esante-wallet/protocol/openid-connect/userinfo",
                     headers=dmp.headers(dmp.pro_token(REGULATOR)))
    assert r.json()["Acces_Regulation_Medicale"] == "VRAI"
    r = dmp.http.get("/psc/realms/esante-wallet/protocol/openid-connect/userinfo",
                     headers=dmp.headers(dmp.pro_token(OTHER_PRO)))
    assert r.json()["Acces_Regulation_Medicale"] == "FAUX"


def test_centre_15_only_for_regulators(dmp) -> None:
    assert dmp.provide(cr_bio_bundle(ONLY_MT), token=dmp.pro_token(ONLY_MT_DOCTOR)).status_code == 200
    r = _find(dmp, OTHER_PRO, C15)
    assert r.status_code == 403 and "dmp.acc.18" in r.text
    r = _find(dmp, REGULATOR, C15)
    assert r.status_code == 200 and r.json()["total"] == 1


def test_patient_opposition_to_emergency_access_is_honoured(dmp) -> None:
    state = dmp.dmp_state(ONLY_MT)
    dmp.set_dmp(ONLY_MT, medecin_traitant=state["medecin_traitant"], authorize_all=False,
                refuses_bris_de_glace=True, refuses_centre_15=True)
    assert dmp.dmp_state(ONLY_MT)["refuses_bris_de_glace"] is True
    r = _find(dmp, OTHER_PRO, BDG)
    assert r.status_code == 403 and "dmp.acc.19" in r.text
    r = _find(dmp, REGULATOR, C15)
    assert r.status_code == 403 and "dmp.acc.20" in r.text
    dmp.set_dmp(ONLY_MT, medecin_traitant=state["medecin_traitant"], authorize_all=False)
    assert _find(dmp, OTHER_PRO, BDG).status_code == 200
