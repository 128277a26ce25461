"""MSSanté Ref#2 ECO.1.1.2/1.1.3 (FACTS §2.2): a client restricted to TLS 1.2 and one of the four
allowed ``ECDHE_RSA`` suites completes STARTTLS on the SMTP listener, and the session evidence
records the suite negotiated, for the conformance runner to judge.

Depends on the RSA server certificate beside the ECDSA one (sandbox/pki.py, branch "dur"): with an
ECDSA-only server key no ``ECDHE_RSA`` suite can be negotiated and this test fails."""

from __future__ import annotations

import smtplib
import ssl

import pytest
from mss_helpers import PRO_ID, persona, port, simple_message

REF2_SUITES = ("ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-RSA-AES128-GCM-SHA256",  # 0xC030, 0xC02F
               "ECDHE-RSA-AES256-SHA384", "ECDHE-RSA-AES128-SHA256")  # 0xC028, 0xC027


@pytest.mark.parametrize("suite", REF2_SUITES)
def test_smtp_negotiates_each_ref2_suite(mss, certs, suite: str) -> None:
    tls = mss.ctx.pki.client_context(certs["pro"])
    tls.maximum_version = ssl.TLSVersion.TLSv1_2
    tls.set_ciphers(suite)
    me = persona(mss, "professional", PRO_ID)["mailbox"]
    with smtplib.SMTP("localhost", port(mss, "smtp"), timeout=30) as s:
        s.starttls(context=tls)
        assert s.sock.cipher()[0] == suite and s.sock.version() == "TLSv1.2"
        assert s.send_message(simple_message(me, [me], subject=f"suite {suite}")) == {}
    sessions = [x for x in mss.exchanges(operation="smtp-session")
                if (x.get("summary") or {}).get("tls", {}) and x["summary"]["tls"]["cipher"] == suite]
    assert sessions and sessions[-1]["summary"]["tls"]["version"] == "TLSv1.2"
