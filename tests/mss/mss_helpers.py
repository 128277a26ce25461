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
    """The first persona of ``kind`` whose fields equal ``match`` (never ROBERT, the sender)."""
    with sb.client() as c:
        items = c.get("/sandbox/api/personas", params={"kind": kind, "limit": 1000}).json()["personas"]
    return next(p for p in items if p["id"] != PRO_ID and all(p.get(k) == v for k, v in match.items()))


def tls_client(sb: RunningSandbox, cert: Issued | None) -> ssl.SSLContext:
    return sb.ctx.pki.client_context(cert)


def smtp_starttls(sb: RunningSandbox, cert: Issued | None) -> smtplib.SMTP:
    s = smtplib.SMTP("localhost", port(sb, "smtp"), timeout=30)
    s.starttls(context=tls_client(sb, cert))
    s.ehlo()
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


CALLBACK = "http://127.0.0.1:8000/callback"


def psc_token(sb: RunningSandbox, idnps: str = PRO_ID, workspace: str = "default") -> str:
    """A PSC access token for ``idnps`` (authorization code + PKCE with the demo client)."""
    import base64
    import hashlib
    import secrets
    from urllib.parse import parse_qs, urlsplit

    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    client_id = "sandbox-demo" if workspace == "default" else f"sandbox-demo-{workspace}"
    realm = "/psc/realms/esante-wallet" if workspace == "default" else f"/psc/w/{workspace}/realms/esante-wallet"
    with sb.client() as c:
        secret = c.get(f"/sandbox/api/workspaces/{workspace}/psc/clients/{client_id}").json()["client_secret"]
        disco = c.get(realm + "/.well-known/wallet-openid-configuration").json()  # as PSC: wallet discovery
        r = c.get(disco["authorization_endpoint"], params={
            "response_type": "code", "client_id": client_id, "redirect_uri": CALLBACK, "scope": "openid scope_all",
            "state": "s", "nonce": "n", "code_challenge": challenge, "code_challenge_method": "S256",
            "acr_values": "eidas1", "login_hint": idnps})
        assert r.status_code == 302, r.text
        code = parse_qs(urlsplit(r.headers["location"]).query)["code"][0]
        r = c.post(disco["token_endpoint"], data={"grant_type": "authorization_code", "code": code,
                                          "redirect_uri": CALLBACK, "code_verifier": verifier},
                   auth=(client_id, secret))
        assert r.status_code == 200, r.text
        return r.json()["access_token"]


def messages(sb: RunningSandbox, **params: object) -> list[dict]:
    with sb.client() as c:
        r = c.get("/mss/api/messages", params={"limit": 1000, **params})
        r.raise_for_status()
        return r.json()["messages"]


def patient_of(sb: RunningSandbox, ordinal: int = 1) -> dict:
    return persona(sb, "patient", f"pat-{ordinal:04d}")


def imap_starttls(sb: RunningSandbox, cert: Issued | None):  # noqa: ANN201 - imaplib.IMAP4
    import imaplib

    m = imaplib.IMAP4("localhost", port(sb, "imap"), timeout=30)
    m.starttls(ssl_context=tls_client(sb, cert))
    return m


def login_external(m, mailbox: str = "") -> None:  # noqa: ANN001 - imaplib.IMAP4
    typ, _ = m.authenticate("EXTERNAL", lambda _challenge: mailbox.encode())
    assert typ == "OK"
