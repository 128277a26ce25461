"""A real SMTP client outside Python: swaks over STARTTLS with a client certificate (issue 17).
``.ci/run`` installs the Debian package."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from mss_helpers import PRO_ID, first, messages, persona, port


def test_swaks_delivers_over_starttls_with_client_certificate(mss, certs) -> None:
    swaks = shutil.which("swaks")
    if swaks is None:
        assert not os.environ.get("CI"), "CI must install swaks (.ci/run)"
        pytest.skip("swaks is not installed (Debian package swaks; .ci/run installs it)")
    robert = persona(mss, "professional", PRO_ID)
    gp = first(mss, "professional", profession="10")
    before = len(messages(mss, mailbox=gp["mailbox"]))
    cert = certs["pro"]
    run = subprocess.run(
        [swaks, "--server", "localhost", "--port", str(port(mss, "smtp")), "--tls", "--tls-verify",
         "--tls-ca-path", str(mss.ctx.pki.ca_bundle), "--tls-cert", str(cert.chain_pem),
         "--tls-key", str(cert.key_pem), "--from", robert["mailbox"], "--to", gp["mailbox"],
         "--header", "Subject: via swaks", "--body", "Bonjour", "--timeout", "30"],
        capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "<~  250" in run.stdout
    after = messages(mss, mailbox=gp["mailbox"])
    assert len(after) == before + 1 and after[-1]["subject"] == "via swaks"
    # and without a certificate the server refuses the sender (530)
    run = subprocess.run(
        [swaks, "--server", "localhost", "--port", str(port(mss, "smtp")), "--tls",
         "--tls-ca-path", str(mss.ctx.pki.ca_bundle), "--from", robert["mailbox"], "--to", gp["mailbox"],
         "--timeout", "30"], capture_output=True, text=True, timeout=60)
    assert run.returncode != 0 and "530" in run.stdout
