"""IMAP over the mail store with real clients (imaplib, imapclient): STARTTLS and IMAPS, client
certificate or PSC token, INBOX and Sent, flags, UID, SEARCH, FETCH, APPEND, IDLE (issue 17)."""

from __future__ import annotations

import base64
import email
import imaplib
import socket
import ssl
import threading
import time

import pytest
from mss_helpers import (
    PRO_ID,
    first,
    imap_starttls,
    login_external,
    persona,
    port,
    psc_token,
    simple_message,
    smtp_starttls,
    tls_client,
)


def _send(mss, certs, subject: str) -> tuple[dict, dict]:
    robert = persona(mss, "professional", PRO_ID)
    gp = first(mss, "professional", profession="10")
    with smtp_starttls(mss, certs["pro"]) as s:
        s.send_message(simple_message(robert["mailbox"], [gp["mailbox"]], subject=subject))
    return robert, gp


def test_read_sent_folder_with_certificate_over_starttls(mss, certs) -> None:
    robert, _ = _send(mss, certs, "lu par IMAP")
    m = imap_starttls(mss, certs["pro"])
    try:
        login_external(m, robert["mailbox"])
        typ, folders = m.list()
        assert typ == "OK" and any(b"Sent" in f for f in folders) and any(b"INBOX" in f for f in folders)
        typ, data = m.select("Sent")
        assert typ == "OK" and int(data[0]) >= 1
        typ, data = m.uid("SEARCH", None, "ALL")
        uids = data[0].split()
        typ, data = m.uid("FETCH", uids[-1], "(FLAGS RFC822)")
        assert typ == "OK"
        raw = next(part[1] for part in data if isinstance(part, tuple))
        assert email.message_from_bytes(raw)["Subject"] == "lu par IMAP"
        assert b"\\Seen" in data[0][0]
    finally:
        m.logout()


def test_inbox_flags_search_append_expunge(mss, certs, tmp_path) -> None:
    from sandbox.pki import CertKind

    robert, gp = _send(mss, certs, "pour le médecin")
    gp_cert = mss.ctx.pki.issue(CertKind.PROFESSIONAL, gp["id"], tmp_path / "gp")
    m = imap_starttls(mss, gp_cert)
    try:
        login_external(m)  # one mailbox: the authorisation id may be empty
        typ, data = m.select("INBOX")
        total = int(data[0])
        assert total >= 1
        typ, data = m.search(None, "UNSEEN")
        unseen = data[0].split()
        assert unseen
        typ, _ = m.store(unseen[-1], "+FLAGS", "(\\Seen \\Flagged)")
        assert typ == "OK"
        typ, data = m.fetch(unseen[-1], "(FLAGS)")
        assert b"\\Seen" in data[0] and b"\\Flagged" in data[0]
        # APPEND without a flag list (imaplib's default) and with one
        note = b"From: " + gp["mailbox"].encode() + b"\r\nSubject: brouillon\r\n\r\nnote\r\n"
        assert m.append("Sent", None, None, note)[0] == "OK"
        assert m.append("Sent", "(\\Seen)", None, note)[0] == "OK"
        typ, data = m.select("Sent")
        assert int(data[0]) >= 2
        typ, data = m.search(None, "SUBJECT", "brouillon")
        found = data[0].split()
        assert len(found) >= 2
        m.store(found[0], "+FLAGS", "(\\Deleted)")
        assert m.expunge()[0] == "OK"
        typ, data = m.search(None, "SUBJECT", "brouillon")
        assert len(data[0].split()) == len(found) - 1
    finally:
        m.logout()
    with mss.client() as c:  # the flags are in the store, seen by the API
        msgs = c.get("/mss/api/messages", params={"mailbox": gp["mailbox"], "folder": "INBOX"}).json()["messages"]
        assert any("\\Flagged" in x["flags"] for x in msgs)


def test_imaps_with_psc_token_and_imapclient(mss, certs) -> None:
    from imapclient import IMAPClient

    robert, _ = _send(mss, certs, "via imapclient")
    token = psc_token(mss)
    with IMAPClient("localhost", port=port(mss, "imaps"), ssl=True, ssl_context=tls_client(mss, None),
                    timeout=30) as client:
        client.oauth2_login(robert["mailbox"], token)
        client.select_folder("Sent", readonly=True)
        uids = client.search(["SUBJECT", "via imapclient"])
        assert uids
        fetched = client.fetch(uids, ["ENVELOPE", "RFC822.SIZE"])
        assert fetched[uids[0]][b"ENVELOPE"].subject == b"via imapclient"


def test_login_with_token_as_password_and_wrong_mailbox(mss) -> None:
    robert = persona(mss, "professional", PRO_ID)
    gp = first(mss, "professional", profession="10")
    token = psc_token(mss)
    m = imap_starttls(mss, None)
    try:
        with pytest.raises(imaplib.IMAP4.error):
            m.login(gp["mailbox"], token)  # not ROBERT's mailbox
        assert m.login(robert["mailbox"], token)[0] == "OK"
    finally:
        m.logout()


def test_login_before_starttls_and_without_credentials_is_refused(mss, certs) -> None:
    robert = persona(mss, "professional", PRO_ID)
    m = imaplib.IMAP4("localhost", port(mss, "imap"), timeout=30)
    try:
        with pytest.raises(imaplib.IMAP4.error):
            m.login(robert["mailbox"], "x")
    finally:
        m.logout()
    m = imap_starttls(mss, None)
    try:
        with pytest.raises(imaplib.IMAP4.error):
            m.authenticate("EXTERNAL", lambda _c: robert["mailbox"].encode())
    finally:
        m.logout()


def test_idle_sees_a_message_delivered_meanwhile(mss, certs) -> None:
    robert = persona(mss, "professional", PRO_ID)
    ctx = tls_client(mss, certs["pro"])
    with socket.create_connection(("localhost", port(mss, "imaps")), timeout=30) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as tls:
            f = tls.makefile("rwb")

            def cmd(line: bytes) -> bytes:
                """Send ``line``; the lines answered up to the tagged one (or the first, untagged)."""
                f.write(line + b"\r\n")
                f.flush()
                line = out = f.readline()
                while line.startswith(b"*"):
                    line = f.readline()
                    out += line
                return out

            f.readline()
            f.write(b"a1 AUTHENTICATE EXTERNAL\r\n")
            f.flush()
            assert f.readline().startswith(b"+")
            assert b"a1 OK" in cmd(base64.b64encode(robert["mailbox"].encode()))
            assert b"a2 OK" in cmd(b"a2 SELECT Sent")
            f.write(b"a3 IDLE\r\n")
            f.flush()
            assert f.readline().startswith(b"+")
            threading.Timer(0.3, lambda: _send(mss, certs, "pendant IDLE")).start()
            deadline = time.monotonic() + 20
            line = b""
            while b"EXISTS" not in line and time.monotonic() < deadline:
                line = f.readline()
            assert b"EXISTS" in line
            f.write(b"DONE\r\n")
            f.flush()
            rest = f.readline()
            while rest.startswith(b"*"):
                rest = f.readline()
            assert rest.startswith(b"a3 OK")


def test_literal_abuse_ends_the_session_and_server_keeps_serving(mss, certs) -> None:
    ctx = tls_client(mss, certs["pro"])
    for attack in (b"a1 LOGIN {999999999+}\r\n", b"a1 LOGIN {999999999}\r\n", b"a1 NOOP " + b"x" * 200_000 + b"\r\n"):
        with socket.create_connection(("localhost", port(mss, "imaps")), timeout=30) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as tls:
                tls.recv(4096)
                tls.sendall(attack)
                data = b""
                try:  # BYE and the connection closed, or BAD and no literal awaited
                    while b"BYE" not in data and b"BAD" not in data:
                        chunk = tls.recv(4096)
                        if not chunk:
                            break
                        data += chunk
                except (ssl.SSLError, ConnectionError):
                    pass
                assert b"BYE" in data or b"a1 BAD" in data, data
    m = imap_starttls(mss, certs["pro"])
    assert m.noop()[0] == "OK"
    m.logout()


def test_imap_session_evidence(mss, certs) -> None:
    robert = persona(mss, "professional", PRO_ID)
    m = imap_starttls(mss, certs["pro"])
    login_external(m, robert["mailbox"])
    m.select("INBOX")
    m.logout()
    mss.call(mss.ctx.recorder.flush)
    sessions = [e for e in mss.exchanges(service="mss", protocol="imap") if e["operation"] == "imap-session"]
    mine = next(e for e in reversed(sessions) if e["summary"]["mailbox"] == robert["mailbox"])
    assert mine["summary"]["tls"]["version"] in ("TLSv1.2", "TLSv1.3")
    assert mine["actor"] == f"professional:{PRO_ID}"
    assert any("SELECT" in line for line in mine["summary"]["transcript"])
