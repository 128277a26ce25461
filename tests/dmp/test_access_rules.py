"""One test per row of dmp.access_rules.RULES and VISIBILITY (FACTS §3.5, appendix B)."""

from __future__ import annotations

import pytest

from dmp.access_rules import RULES, VISIBILITY, AccessRequest, Action, DmpFacts, Mode, Role, decide

INS = "297022A02077878"
MT, PRO, BLOCKED, OTHER = "8MT", "8PRO", "8BLOCKED", "8OTHER"
OPEN = DmpFacts(INS, True, medecin_traitant=MT, authorized=(PRO,), blocked=(BLOCKED,), legal_reps=("pat-rep",))
CLOSED = DmpFacts(INS, False, medecin_traitant=MT)
REFUSING = DmpFacts(INS, True, medecin_traitant=MT, refuses_bris_de_glace=True, refuses_centre_15=True)


def req(role: Role = Role.PROFESSIONAL, actor: str = PRO, action: Action = Action.CONSULT,
        dmp: DmpFacts | None = OPEN, **kw) -> AccessRequest:  # noqa: ANN003
    return AccessRequest(role, actor, action, dmp, **kw)


CASES = {
    "dmp.acc.01": (req(dmp=None), False, 404),
    "dmp.acc.02": (req(dmp=CLOSED, actor=MT), False, 403),
    "dmp.acc.03": (req(Role.PATIENT, "pat-x", actor_ins="OTHERINS"), False, 403),
    "dmp.acc.04": (req(Role.LEGAL_REP, "pat-stranger"), False, 403),
    "dmp.acc.05": (req(actor=BLOCKED, mode=Mode.BRIS_DE_GLACE), False, 403),
    "dmp.acc.06": (req(action=Action.FEED, ins_qualified=False), False, 422),
    "dmp.acc.07": (req(actor=OTHER, action=Action.FEED), True, 200),
    "dmp.acc.08": (req(action=Action.DELETE, is_author=False), False, 403),
    "dmp.acc.09": (req(action=Action.DELETE, is_author=True), True, 200),
    "dmp.acc.10": (req(actor=OTHER, mode=Mode.CENTRE_15, regulator=True), True, 200),
    "dmp.acc.11": (req(actor=OTHER, mode=Mode.BRIS_DE_GLACE), True, 200),
    "dmp.acc.12": (req(actor=MT), True, 200),
    "dmp.acc.13": (req(actor=PRO), True, 200),
    "dmp.acc.14": (req(actor=OTHER), False, 403),
    "dmp.acc.15": (req(Role.PATIENT, "pat-0001", actor_ins=INS), True, 200),
    "dmp.acc.16": (req(Role.LEGAL_REP, "pat-rep"), True, 200),
    "dmp.acc.17": (req(actor=MT, action=Action.READ_AUDIT), True, 200),
    "dmp.acc.18": (req(actor=OTHER, mode=Mode.CENTRE_15), False, 403),
    "dmp.acc.19": (req(actor=OTHER, mode=Mode.BRIS_DE_GLACE, dmp=REFUSING), False, 403),
    "dmp.acc.20": (req(actor=OTHER, mode=Mode.CENTRE_15, regulator=True, dmp=REFUSING), False, 403),
    "dmp.acc.99": (req(Role.PATIENT, "pat-0001", action=Action.FEED, actor_ins=INS), False, 403),
}


def test_every_rule_has_a_case() -> None:
    assert set(CASES) == {r.id for r in RULES}


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule(rule_id: str) -> None:
    request, allowed, status = CASES[rule_id]
    d = decide(request)
    assert (d.rule, d.allowed, d.status) == (rule_id, allowed, status)
    assert d.text


def test_blocked_professional_may_still_feed() -> None:
    assert decide(req(actor=BLOCKED, action=Action.FEED)).rule == "dmp.acc.07"
    assert decide(req(actor=BLOCKED, action=Action.UPDATE)).rule == "dmp.acc.05"


def test_emergency_modes_are_flagged() -> None:
    assert decide(req(actor=OTHER, mode=Mode.BRIS_DE_GLACE)).emergency
    assert decide(req(actor=OTHER, mode=Mode.CENTRE_15, regulator=True)).emergency
    assert not decide(req(actor=PRO)).emergency


VIS_CASES = {
    # MASQUE_PS hidden from professionals, except the médecin traitant DMP
    "dmp.vis.01": [(req(actor=PRO), "hide_masked_ps", True), (req(actor=MT), "hide_masked_ps", False)],
    # INVISIBLE_PATIENT hidden from the patient and legal representatives, not from professionals
    "dmp.vis.02": [(req(Role.PATIENT, "pat-0001", actor_ins=INS), "hide_invisible_patient", True),
                   (req(Role.LEGAL_REP, "pat-rep"), "hide_invisible_patient", True),
                   (req(actor=PRO), "hide_invisible_patient", False)],
    # INVISIBLE_REPRESENTANTS_LEGAUX hidden from legal representatives only
    "dmp.vis.03": [(req(Role.LEGAL_REP, "pat-rep"), "hide_invisible_rl", True),
                   (req(Role.PATIENT, "pat-0001", actor_ins=INS), "hide_invisible_rl", False)],
}


def test_every_visibility_row_has_a_case() -> None:
    assert set(VIS_CASES) == {h.id for h in VISIBILITY}


@pytest.mark.parametrize("row_id", sorted(VIS_CASES))
def test_visibility_row(row_id: str) -> None:
    for request, flag, expected in VIS_CASES[row_id]:
        assert getattr(decide(request), flag) is expected, (row_id, request)
