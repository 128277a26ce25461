"""SMTP listeners with real smtplib clients over STARTTLS and implicit TLS (issue 17; FACTS §2.2)."""

from __future__ import annotations

import base64
import smtplib
import socket
import ssl

import pytest
from mss_helpers import (
    PRO_ID,
    first,
    messages,
    patient_of,
    persona,
    port,
    psc_token,
    simple_message,
    smtp_starttls,
    tls_client,
)

from sandbox.pki import CertKind, TestPKI


def _robert(mss) -> dict:
    return persona(mss, "professional", PRO_ID)


def _gp(mss) -> dict:
    return first(mss, "professional", profession="10")


def test_starttls_with_professional_certificate_delivers_to_inbox_and_sent(mss, certs) -> None:
    robert, gp = _robert(mss), _gp(mss)
    msg = simple_message(robert["mailbox"], [gp["mailbox"]])
    with smtp_starttls(mss, certs["pro"]) as s:
        assert s.send_message(msg) == {}
    inbox = messages(mss, mailbox=gp["mailbox"], folder="INBOX")
    sent = messages(mss, mailbox=robert["mailbox"], folder="Sent")
    assert inbox[-1]["message_id"] == msg["Message-ID"] and inbox[-1]["flags"] == []
    assert sent[-1]["message_id"] == msg["Message-ID"] and "\\Seen" in sent[-1]["flags"]
    assert inbox[-1]["uid"] >= 1 and sent[-1]["sha256"] == inbox[-1]["sha256"]


def test_implicit_tls_with_organisation_certificate(mss, certs) -> None:
    lab = first(mss, "organisation", category="lab")
    box = next(b for b in lab["mailboxes"] if b.startswith("lps."))
    gp = _gp(mss)
    msg = simple_message(box, [gp["mailbox"]], subject="Résultats")
    with smtplib.SMTP_SSL("localhost", port(mss, "smtps"), context=tls_client(mss, certs["org"]), timeout=30) as s:
        assert s.send_message(msg) == {}
    assert messages(mss, mailbox=gp["mailbox"])[-1]["message_id"] == msg["Message-ID"]


def test_mail_before_starttls_is_530(mss) -> None:
    with smtplib.SMTP("localhost", port(mss, "smtp"), timeout=30) as s:
        s.ehlo()
        assert "starttls" in s.esmtp_features
        code, text = s.mail("a@pro.sandbox.mssante.fr")
        assert code == 530 and b"STARTTLS" in text
        code, _ = s.docmd("AUTH", "XOAUTH2 " + base64.b64encode(b"user=a\x01auth=Bearer x\x01\x01").decode())
        assert code == 530


def test_no_credentials_is_530_and_wrong_sender_is_550(mss, certs) -> None:
    robert = _robert(mss)
    with smtp_starttls(mss, None) as s:
        code, text = s.mail(robert["mailbox"])
        assert code == 530 and b"Authentification requise" in text
    with smtp_starttls(mss, certs["pro"]) as s:
        code, text = s.mail(_gp(mss)["mailbox"])
        assert code == 550 and b"5.7.1" in text


def test_certificate_of_nobody_is_535(mss, certs) -> None:
    with smtp_starttls(mss, certs["nobody"]) as s:
        code, text = s.mail(_robert(mss)["mailbox"])
        assert code == 535


def test_untrusted_and_expired_certificates_fail_the_handshake(mss, tmp_path) -> None:
    foreign = TestPKI(tmp_path / "foreign")
    foreign.ensure()
    intruder = foreign.issue(CertKind.PROFESSIONAL, PRO_ID, tmp_path / "intruder")
    expired = mss.ctx.pki.issue(CertKind.PROFESSIONAL, PRO_ID, tmp_path / "expired", days=0)
    for cert in (intruder, expired):
        ctx = mss.ctx.pki.client_context()
        ctx.load_cert_chain(cert.chain_pem, cert.key_pem)
        with pytest.raises((ssl.SSLError, smtplib.SMTPServerDisconnected, ConnectionError)):
            with smtplib.SMTP("localhost", port(mss, "smtp"), timeout=30) as s:
                s.starttls(context=ctx)
                s.mail(_robert(mss)["mailbox"])
    with smtp_starttls(mss, None) as s:  # and the server keeps serving
        assert s.noop()[0] == 250


def test_relay_and_unknown_recipients_are_refused(mss, certs) -> None:
    robert = _robert(mss)
    with smtp_starttls(mss, certs["pro"]) as s:
        assert s.mail(robert["mailbox"])[0] == 250
        code, text = s.rcpt("someone@gmail.com")
        assert code == 550 and b"espace de confiance" in text
        code, text = s.rcpt("nobody@pro.sandbox.mssante.fr")
        assert code == 550 and b"5.1.1" in text
        code, text = s.rcpt("100000000000000@patient.mssante.fr")
        assert code == 550 and b"patient inconnu" in text


def test_one_patient_per_message(mss, certs) -> None:
    robert = _robert(mss)
    p1, p2 = patient_of(mss, 1), patient_of(mss, 2)
    with smtp_starttls(mss, certs["pro"]) as s:
        assert s.mail(robert["mailbox"])[0] == 250
        assert s.rcpt(p1["mailbox"])[0] == 250
        code, text = s.rcpt(p2["mailbox"])
        assert code == 550 and b"Un seul patient" in text


def test_oversized_message_is_552_and_nothing_is_stored(mss, certs) -> None:
    robert, gp = _robert(mss), _gp(mss)
    before = len(messages(mss, mailbox=gp["mailbox"]))
    msg = simple_message(robert["mailbox"], [gp["mailbox"]])
    msg.add_attachment(b"x" * (26 * 1024 * 1024), maintype="application", subtype="octet-stream", filename="big")
    with smtp_starttls(mss, certs["pro"]) as s:
        with pytest.raises((smtplib.SMTPDataError, smtplib.SMTPSenderRefused)) as info:
            s.send_message(msg)
        assert info.value.smtp_code == 552
    assert len(messages(mss, mailbox=gp["mailbox"])) == before


def test_psc_token_over_xoauth2_and_oauthbearer(mss) -> None:
    robert, gp = _robert(mss), _gp(mss)
    token = psc_token(mss)
    for mech, blob in (
        ("XOAUTH2", f"user={robert['mailbox']}\x01auth=Bearer {token}\x01\x01"),
        ("OAUTHBEARER", f"n,a={robert['mailbox']},\x01auth=Bearer {token}\x01\x01"),
    ):
        msg = simple_message(robert["mailbox"], [gp["mailbox"]], subject=f"via {mech}")
        with smtp_starttls(mss, None) as s:
            s.ehlo()
            assert mech in s.esmtp_features["auth"] and "PLAIN" not in s.esmtp_features["auth"]
            code, _ = s.docmd("AUTH", f"{mech} " + base64.b64encode(blob.encode()).decode())
            assert code == 235
            assert s.send_message(msg) == {}
        assert messages(mss, mailbox=gp["mailbox"])[-1]["subject"] == f"via {mech}"
    with smtp_starttls(mss, None) as s:
        s.ehlo()
        bad = f"user=x\x01auth=Bearer {token[:-4]}AAAA\x01\x01"
        code, text = s.docmd("AUTH", "XOAUTH2 " + base64.b64encode(bad.encode()).decode())
        assert code == 535 and b"refus" in text


def test_session_evidence_has_tls_facts_and_no_token(mss, certs) -> None:
    robert, gp = _robert(mss), _gp(mss)
    token = psc_token(mss)
    msg = simple_message(robert["mailbox"], [gp["mailbox"]], subject="evidence")
    with smtp_starttls(mss, None) as s:
        s.ehlo()
        blob = base64.b64encode(f"user=x\x01auth=Bearer {token}\x01\x01".encode()).decode()
        assert s.docmd("AUTH", f"XOAUTH2 {blob}")[0] == 235
        s.send_message(msg)
    mss.call(mss.ctx.recorder.flush)
    sessions = [e for e in mss.exchanges(service="mss", protocol="smtp") if e["operation"] == "smtp-session"]
    mine = next(e for e in reversed(sessions) if any(m.get("message_ids") for m in e["summary"]["messages"])
                and e["summary"]["auth"] and e["summary"]["auth"]["method"] == "token")
    assert mine["summary"]["tls"]["version"] in ("TLSv1.2", "TLSv1.3") and mine["summary"]["tls"]["cipher"]
    assert mine["actor"] == f"professional:{PRO_ID}" and mine["workspace"] == "default"
    text = str(mine)
    assert token not in text and blob not in text and "sha256:" in text
    assert any(line.startswith("S: 250") for line in mine["summary"]["transcript"])
    per_message = [e for e in mss.exchanges(correlation_id=mine["correlation_id"]) if e["operation"] == "smtp-message"]
    stored = messages(mss, mailbox=gp["mailbox"])[-1]
    assert per_message and per_message[0]["request_body"]["sha256"] == stored["sha256"]


def test_command_flood_is_cut_off_and_server_keeps_serving(mss, certs) -> None:
    with socket.create_connection(("localhost", port(mss, "smtp")), timeout=30) as raw:
        raw.recv(1024)
        raw.sendall(b"EHLO flood\r\n" + b"NOOP\r\n" * 200)
        data = b""
        while b"421" not in data:
            chunk = raw.recv(65536)
            if not chunk:
                break
            data += chunk
        assert b"421" in data
    with smtp_starttls(mss, certs["pro"]) as s:
        assert s.noop()[0] == 250


def test_malformed_mime_is_stored_not_lost(mss, certs) -> None:
    robert, gp = _robert(mss), _gp(mss)
    raw = (f"From: {robert['mailbox']}\r\nTo: {gp['mailbox']}\r\nSubject: broken\r\n"
           "Content-Type: multipart/mixed; boundary=\"nope\"\r\n\r\n--other\r\nno end\r\n").encode()
    with smtp_starttls(mss, certs["pro"]) as s:
        assert s.sendmail(robert["mailbox"], [gp["mailbox"]], raw) == {}
    stored = messages(mss, mailbox=gp["mailbox"])[-1]
    assert stored["subject"] == "broken"
    with mss.client() as c:
        assert c.get(f"/mss/api/messages/{stored['id']}/raw").content == raw


def test_a_store_that_rolls_back_answers_451_and_its_evidence_claims_nothing_stored(mss, certs, monkeypatch) -> None:
    """The accepted message's exchange is built inside the delivery's transaction; when that
    transaction rolls back, the 451 recorded instead names no message id and no 250."""
    from mss import delivery

    robert, gp = _robert(mss), _gp(mss)
    st = delivery.store(mss.ctx)
    real = st._deliver_batch_sync

    def rolled_back(conn, batch):  # noqa: ANN001, ANN202 - the transaction's function, failing at its end
        real(conn, batch=batch)  # rows and the exchange written, then the commit never happens
        raise RuntimeError("disk full (test)")

    monkeypatch.setattr(st, "_deliver_batch_sync", rolled_back)
    before = len(messages(mss, mailbox=gp["mailbox"]))
    msg = simple_message(robert["mailbox"], [gp["mailbox"]], subject="rolled back")
    with smtp_starttls(mss, certs["pro"]) as s:
        with pytest.raises(smtplib.SMTPDataError) as info:
            s.send_message(msg)
        assert info.value.smtp_code == 451
        session = s.docmd("NOOP")  # the session keeps serving
        assert session[0] == 250
    monkeypatch.undo()
    assert len(messages(mss, mailbox=gp["mailbox"])) == before  # nothing kept
    mss.call(mss.ctx.recorder.flush)
    refused = [e for e in mss.exchanges(service="mss", protocol="smtp", status="451")
               if e["operation"] == "smtp-message" and e["summary"]["to"] == [gp["mailbox"]]]
    assert refused, "the 451 is recorded"
    assert "message_ids" not in refused[-1]["summary"] and refused[-1]["summary"]["reply"].startswith("451")
