"""The MSSanté side of the DPI (FACTS §2.2–§2.5, A.4), with the mail clients of the standard library only:
``smtplib`` (STARTTLS, then SASL ``XOAUTH2`` with the professional's PSC access token, since a
certificate logs in to the sandbox's default workspace only), ``imaplib`` (STARTTLS, ``XOAUTH2``),
``email`` to compose the discharge letter (subject ``XDM/1.0/DDM+…``, ``IHE_XDM.ZIP`` + PDF,
``X-MSS-*`` headers, ``Disposition-Notification-To``) and the receipt (MDN, RFC 8098).

TLS as Référentiel #2 asks the client (ECO.1.1.2/1.1.3): TLS 1.2 only, ECDHE with AES-GCM or
AES-CBC and SHA-256/384. The sandbox's server key is ECDSA, so the ECDSA forms of the four
ECDHE_RSA suites are offered as well (mss/README.md "Deviations").
"""

from __future__ import annotations

import email
import email.policy
import imaplib
import smtplib
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage, Message
from email.utils import format_datetime, make_msgid
from pathlib import Path
from urllib.parse import urlsplit

#: ECO.1.1.3 (ECDHE_RSA) and their ECDSA forms, in OpenSSL names
ALLOWED_CIPHERS = ("ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:"
                   "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-SHA384:ECDHE-ECDSA-AES128-SHA256:"
                   "ECDHE-RSA-AES256-SHA384:ECDHE-RSA-AES128-SHA256")
#: a suite outside ECO.1.1.3 (the ``mss-weak-cipher`` fault)
WEAK_CIPHER = "ECDHE-ECDSA-CHACHA20-POLY1305"
PRODUCT_NIL = "SIM-DPI-0001"  # X-MSS-NIL: the product's référencement number (Convergence)


@dataclass
class MailEndpoints:
    """Where the operator's SMTP (STARTTLS) and IMAP (STARTTLS) listen, and the CA to trust."""

    smtp: tuple[str, int]
    imap: tuple[str, int]
    ca_file: str

    @classmethod
    def from_environment(cls, base_url: str) -> MailEndpoints:
        """The sandbox on this machine (ports and data folder from its settings, host from ``base_url``)."""
        from sandbox.settings import from_environment  # the same machine's settings, as the operator key

        s = from_environment()
        host = urlsplit(base_url).hostname or "127.0.0.1"
        return cls((host, s.smtp_port), (host, s.imap_port), str(Path(s.pki_dir) / "ca-bundle.pem"))


def tls_context(ca_file: str, *, weak: bool = False) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=ca_file)  # verifies the chain and the host name (ECO.1.1.4)
    ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers(WEAK_CIPHER if weak else ALLOWED_CIPHERS)
    return ctx


def xoauth2(user: str, token: str) -> str:
    return f"user={user}\x01auth=Bearer {token}\x01\x01"


def send(ep: MailEndpoints, msg: EmailMessage, sender: str, rcpts: list[str], token: str, *,
         weak_tls: bool = False, timeout: float = 30) -> dict[str, tuple[int, bytes]]:
    """Send over SMTP + STARTTLS + XOAUTH2; returns the recipients refused (empty when all accepted)."""
    with smtplib.SMTP(ep.smtp[0], ep.smtp[1], timeout=timeout) as s:
        s.starttls(context=tls_context(ep.ca_file, weak=weak_tls))
        s.ehlo()
        s.auth("XOAUTH2", lambda challenge=None: xoauth2(sender, token))
        try:
            return s.send_message(msg, from_addr=sender, to_addrs=rcpts)
        except smtplib.SMTPRecipientsRefused as exc:
            return dict(exc.recipients)


def fetch_unseen(ep: MailEndpoints, mailbox: str, token: str, *, timeout: float = 30) -> list[Message]:
    """Read the unseen messages of ``mailbox``'s INBOX over IMAP (they become \\Seen)."""
    out: list[Message] = []
    m = imaplib.IMAP4(ep.imap[0], ep.imap[1], timeout=timeout)
    try:
        m.starttls(ssl_context=tls_context(ep.ca_file))
        m.authenticate("XOAUTH2", lambda _: xoauth2(mailbox, token).encode())
        m.select("INBOX")
        _, data = m.uid("SEARCH", None, "UNSEEN")  # type: ignore[arg-type]
        for uid in (data[0] or b"").split():
            _, parts = m.uid("FETCH", uid.decode(), "(RFC822)")
            raw = next((p[1] for p in parts if isinstance(p, tuple)), b"")
            out.append(email.message_from_bytes(raw, policy=email.policy.default))
    finally:
        try:
            m.logout()
        except (imaplib.IMAP4.error, OSError):
            pass
    return out


def letter_message(*, sender: str, to: list[str], subject: str, xdm: bytes | None, pdf: bytes,
                   headers: dict[str, str], ask_receipt: bool) -> EmailMessage:
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["From"], msg["To"], msg["Subject"] = sender, ", ".join(to), subject
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1])
    for name, value in headers.items():
        msg[name] = value
    if ask_receipt:
        msg["Disposition-Notification-To"] = sender
    msg.set_content("Veuillez trouver ci-joint la lettre de liaison à la sortie.\n")
    if xdm is not None:
        msg.add_attachment(xdm, maintype="application", subtype="zip", filename="IHE_XDM.ZIP")
    msg.add_attachment(pdf, maintype="application", subtype="pdf", filename="lettre-de-liaison.pdf")
    return msg


def mdn(original: Message, *, me: str, processed: bool = True) -> tuple[EmailMessage, str]:
    """The receipt for ``original`` (FACTS §2.5, A.4) and the address it goes to (its
    ``Disposition-Notification-To``)."""
    to = str(original.get("Disposition-Notification-To", "")).strip().strip("<>")
    report = EmailMessage(policy=email.policy.SMTP)
    report["From"], report["To"] = me, to
    report["Subject"] = f"Accusé de réception : {original.get('Subject', '')}"
    report["Date"] = format_datetime(datetime.now(UTC))
    report["Message-ID"] = make_msgid(domain=me.rsplit("@", 1)[-1])
    if original.get("Message-ID"):
        report["In-Reply-To"] = report["References"] = str(original["Message-ID"])
    report["X-MSS-NIL"] = PRODUCT_NIL
    disposition = "processed" if processed else "processed/Error: 906^Autre erreur"
    report.set_content("Le message a été intégré dans le dossier du patient.\n")
    fields = EmailMessage()
    notification = (f"Reporting-UA: dpi-simulator; mes-sandbox\r\nOriginal-Recipient: rfc822;{me}\r\n"
                    f"Final-Recipient: rfc822;{me}\r\nOriginal-Message-ID: {original.get('Message-ID', '')}\r\n"
                    f"Disposition: automatic-action/MDN-sent-automatically; {disposition}\r\n")
    fields.set_content(notification.encode(), maintype="message", subtype="disposition-notification", cte="7bit")
    report.make_mixed()
    report.attach(fields)
    report.replace_header("Content-Type", "multipart/report")
    report.set_param("report-type", "disposition-notification")
    return report, to


def plain_reply(original: Message, *, me: str) -> tuple[EmailMessage, str]:
    """A human "bien reçu" answer instead of a receipt (the ``mss-reply-not-mdn`` fault)."""
    reply = EmailMessage(policy=email.policy.SMTP)
    to = str(original.get("Disposition-Notification-To") or original.get("From", "")).strip().strip("<>")
    reply["From"], reply["To"] = me, to
    reply["Subject"] = f"Re: {original.get('Subject', '')}"
    reply["Date"] = format_datetime(datetime.now(UTC))
    reply["Message-ID"] = make_msgid(domain=me.rsplit("@", 1)[-1])
    reply["X-MSS-NIL"] = PRODUCT_NIL
    reply.set_content("Bien reçu, merci.\n")
    return reply, to
