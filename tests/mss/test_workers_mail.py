"""``serve --workers 2``: every worker serves SMTP and IMAP (SO_REUSEPORT); a message sent
through one worker is read over IMAP from another (issue 17)."""

from __future__ import annotations

import os
import signal
import smtplib
import subprocess
import sys
import time
from email.message import EmailMessage

import httpx

from sandbox.pki import CertKind, TestPKI
from sandbox.testing import free_port, fresh_database

CLI = [sys.executable, "-c", "from sandbox.cli import main; main()"]
PRO_ID = "899700218896"


def _api(data_dir) -> httpx.Client:  # noqa: ANN001 - Path
    """A client of /sandbox/api with the operator key ``serve`` wrote in its data folder."""
    key = (data_dir / "operator-key").read_text().strip() if (data_dir / "operator-key").exists() else ""
    return httpx.Client(timeout=30, headers={"Authorization": f"Bearer {key}"})


def _exchanges(base: str, data_dir, **params: str) -> list[dict]:  # noqa: ANN001 - Path
    with _api(data_dir) as c:
        return c.get(base + "/sandbox/api/exchanges", params={"limit": 1000, **params}).json()["exchanges"]


def test_message_sent_through_one_worker_is_read_from_another(tmp_path) -> None:
    import imaplib

    ports = {name: free_port() for name in ("PORT", "HTTPS_PORT", "SMTP_PORT", "SMTPS_PORT", "IMAP_PORT", "IMAPS_PORT")}
    base = f"http://127.0.0.1:{ports['PORT']}"
    with fresh_database(tmp_path) as url:
        env = {**os.environ, "MES_SANDBOX_DATA_DIR": str(tmp_path), "MES_SANDBOX_DATABASE_URL": url,
               **{f"MES_SANDBOX_{k}": str(v) for k, v in ports.items()}}
        proc = subprocess.Popen([*CLI, "serve", "--workers", "2"], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        try:
            deadline = time.monotonic() + 90
            while True:
                try:
                    with smtplib.SMTP("127.0.0.1", ports["SMTP_PORT"], timeout=5) as probe:
                        probe.noop()
                    with _api(tmp_path) as c:
                        c.get(base + "/sandbox/api/workspaces").raise_for_status()
                    break
                except (OSError, httpx.TransportError, httpx.HTTPStatusError):
                    assert proc.poll() is None and time.monotonic() < deadline, "serve did not come up"
                    time.sleep(0.2)
            with _api(tmp_path) as c:
                robert = c.get(f"{base}/sandbox/api/personas/professional/{PRO_ID}").json()
            pki = TestPKI(tmp_path / "pki")
            cert = pki.issue(CertKind.PROFESSIONAL, PRO_ID, tmp_path / "pro")
            tls = pki.client_context(cert)
            msg = EmailMessage()
            msg["From"], msg["To"], msg["Subject"] = robert["mailbox"], robert["mailbox"], "entre workers"
            msg.set_content("x")
            with smtplib.SMTP("localhost", ports["SMTP_PORT"], timeout=30) as s:
                s.starttls(context=tls)
                s.ehlo()
                assert s.send_message(msg) == {}
            deadline = time.monotonic() + 10
            while not (sent := [e for e in _exchanges(base, tmp_path, service="mss", protocol="smtp")
                                if e["operation"] == "smtp-session" and e["summary"]["messages"]]):
                assert time.monotonic() < deadline
                time.sleep(0.1)
            smtp_pid = sent[0]["summary"]["process"]
            readers: set[int] = set()
            for n in range(24):  # new connections until the kernel hands one to the other worker
                m = imaplib.IMAP4("localhost", ports["IMAP_PORT"], timeout=30)
                m.starttls(ssl_context=tls)
                assert m.authenticate("EXTERNAL", lambda _c: robert["mailbox"].encode())[0] == "OK"
                m.select("INBOX")
                typ, data = m.search(None, "SUBJECT", '"entre workers"')
                assert typ == "OK" and data[0].split(), f"connection {n} did not see the message"
                m.logout()
                deadline = time.monotonic() + 10
                while len(found := [e for e in _exchanges(base, tmp_path, service="mss", protocol="imap")
                                    if e["operation"] == "imap-session"]) <= n:
                    assert time.monotonic() < deadline
                    time.sleep(0.1)
                readers = {e["summary"]["process"] for e in found}
                if readers - {smtp_pid}:
                    break
            assert readers - {smtp_pid}, "every IMAP connection went to the worker that took the SMTP one"
            proc.send_signal(signal.SIGTERM)
            out, _ = proc.communicate(timeout=60)
            assert proc.returncode == 0, out
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
