"""The OID returned with NIR matricules is configurable (``MES_SANDBOX_INS_OID``, FACTS §1.2)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from ins.settings import InsSettings
from sandbox.testing import running_sandbox


def test_default_is_cnam_qualification_oid(monkeypatch):
    monkeypatch.delenv("MES_SANDBOX_INS_OID", raising=False)
    assert InsSettings().oid == "1.2.250.1.213.1.4.8"


def test_invalid_oid_refused(monkeypatch):
    monkeypatch.setenv("MES_SANDBOX_INS_OID", "not-an-oid")
    with pytest.raises(ValidationError):
        InsSettings()


def test_configured_oid_on_the_wire(monkeypatch, kit):
    monkeypatch.setenv("MES_SANDBOX_INS_OID", "1.2.250.1.213.1.4.10")
    with running_sandbox() as sb, sb.client() as c:
        ans = kit.Insi(c, "default").post(kit.a1_request())
        assert (ans.cr, ans.oid) == ("00", "1.2.250.1.213.1.4.10")
        hist = kit.Insi(c, "default").traits("ECETINSI", "MURIEL", "M", "2009-07-14")
        assert {oid for _, _, oid in hist.history} == {"1.2.250.1.213.1.4.10"}
        p = c.get("/ins/fhir/Patient", params={"identifier": "urn:oid:1.2.250.1.213.1.4.10|297022A02077878"})
        ident = p.json()["entry"][0]["resource"]["identifier"][0]
        assert (ident["system"], ident["type"]["coding"][0]["code"]) == (
            "urn:oid:1.2.250.1.213.1.4.10", "INS-NIR-TEST")
