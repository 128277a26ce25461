"""Feeding requires a qualified INS: the RNIV status comes from ins/ (dmp/identity.py)."""

from __future__ import annotations

from dmp_helpers import PAT1, PROV, cr_bio_bundle

from dmp import identity
from ins import NotQualified, Status, qualification
from ins.identities import IdentityRepository

RECUP = "291039913410639"  # pat-0026: INS retrieved through INSi, not checked against an ID document


def test_status_read_from_ins(dmp) -> None:
    ctx = dmp.sb.ctx
    found = dmp.sb.call(IdentityRepository(ctx.db).by_matricule, dmp.workspace, RECUP[:13])
    assert found, "ins/ holds the workspace's reference identities"
    recup = dmp.sb.call(identity.patient_qualification, ctx, dmp.workspace, RECUP)
    assert (recup.status, recup.reason, recup.qualified) == (Status.RECUP, NotQualified.STATUS, False)
    assert "RECUP" in recup.text("fr")
    assert dmp.sb.call(identity.patient_qualification, ctx, dmp.workspace, PAT1).qualified
    unknown = dmp.sb.call(qualification, ctx.db, dmp.workspace, "000000000000000")
    assert (unknown.status, unknown.reason) == (None, NotQualified.UNKNOWN)
    wrong_key = dmp.sb.call(qualification, ctx.db, dmp.workspace, PAT1[:13] + "00")
    assert wrong_key.reason is NotQualified.KEY


def test_recup_and_prov_identities_cannot_feed(dmp) -> None:
    for ins in (RECUP, PROV):
        r = dmp.provide(cr_bio_bundle(ins))
        assert r.status_code == 422 and "dmp.acc.06" in r.text
