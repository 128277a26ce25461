"""SMTP listeners with real smtplib clients over STARTTLS and implicit TLS (issue 17)."""

from __future__ import annotations

import smtplib
import ssl

import pytest
from mss_helpers import PRO_ID, first, persona, port, simple_message, smtp_starttls, tls_client


def test_starttls_with_professional_certificate_delivers_to_inbox_and_sent(mss, certs) -> None:
    robert = persona(mss, "professional", PRO_ID)
    gp = first(mss, "professional", profession="10")
    msg = simple_message(robert["mailbox"], [gp["mailbox"]])
    with smtp_starttls(mss, certs["pro"]) as s:
        refused = s.send_message(msg)
    assert refused == {}
    with mss.client() as c:
        inbox = c.get("/mss/api/messages", params={"mailbox": gp["mailbox"], "folder": "INBOX"}).json()["messages"]
        sent = c.get("/mss/api/messages", params={"mailbox": robert["mailbox"], "folder": "Sent"}).json()["messages"]
    assert [m["message_id"] for m in inbox][-1] == msg["Message-ID"]
    assert sent[-1]["message_id"] == msg["Message-ID"] and "\\Seen" in sent[-1]["flags"]
