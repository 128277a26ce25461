"""Helpers of the MSSanté tests: listener ports, personas, TLS clients and message builders
(standard ``email``)."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import make_msgid

from sandbox.pki import Issued
from sandbox.testing import RunningSandbox

PRO_ID = "899700218896"  # ROBERT, public PSC test professional (seeded)


def port(sb: RunningSandbox, name: str) -> int:
    return sb.ctx.state["listeners"][name]


def persona(sb: RunningSandbox, kind: str, pid: str) -> dict:
    with sb.client() as c:
        r = c.get(f"/sandbox/api/personas/{kind}/{pid}")
        r.raise_for_status()
        return r.json()


def first(sb: RunningSandbox, kind: str, **match: str) -> dict:
    with sb.client() as c:
        items = c.get("/sandbox/api/personas", params={"kind": kind, "limit": 1000}).json()["personas"]
    return next(p for p in items if all(p.get(k) == v for k, v in match.items()))


def tls_client(sb: RunningSandbox, cert: Issued | None) -> ssl.SSLContext:
    return sb.ctx.pki.client_context(cert)


def smtp_starttls(sb: RunningSandbox, cert: Issued | None) -> smtplib.SMTP:
    s = smtplib.SMTP("localhost", port(sb, "smtp"), timeout=30)
    s.starttls(context=tls_client(sb, cert))
    return s


def simple_message(sender: str, to: list[str], subject: str = "Compte rendu", **headers: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain="pro.sandbox.mssante.fr")
    for k, v in headers.items():
        msg[k.replace("_", "-")] = v
    msg.set_content("Bonjour,\nci-joint le compte rendu.\n")
    return msg
