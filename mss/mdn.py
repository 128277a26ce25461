"""Message disposition notifications from integrating software (FACTS §2.5 and appendix A.4;
RFC 8098): ``multipart/report; report-type=disposition-notification`` with a human part, the
``message/disposition-notification`` part (``Final-Recipient``, ``Original-Message-ID``,
``Disposition: automatic-action/MDN-sent-automatically; processed`` or ``processed/Error:
<code>^<label>`` with the codes 900–906), the original message, and its ``IHE_XDM.ZIP`` and PDF
attachments again. Sent only when the original asked (``Disposition-Notification-To``) and that
address is the envelope sender (loop protection, FACTS §2.5).
"""

from __future__ import annotations

import email
import email.policy
import unicodedata
from datetime import UTC, datetime
from email.header import Header
from email.message import Message
from email.mime.base import MIMEBase
from email.mime.message import MIMEMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, getaddresses, make_msgid
from typing import TYPE_CHECKING, Any

from mss import headers, mailboxes
from mss.store import INBOX, SENT, Delivery
from sandbox.evidence import Direction, Exchange, Protocol

if TYPE_CHECKING:
    from sandbox.context import SandboxContext

KO_PREFIX = "[KO Intégration système !] "
ERROR_LABELS = {
    900: "Version incorrecte", 901: "Auteur non autorisé", 902: "Identifiant de patient inconnu",
    903: "INS absent du CDA", 904: "INS ne correspondant pas exactement", 905: "INS incomplet",
    906: "Autre erreur",
}


def build(original: bytes, *, reporter: str, notify_to: str, error: tuple[int, str] | None) -> bytes:
    """The MDN ``reporter`` sends about ``original`` (bytes of an RFC 5322 message)."""
    orig = email.message_from_bytes(original, policy=email.policy.compat32)
    subject = headers.text(orig.get("Subject"))
    report = MIMEMultipart("report", report_type="disposition-notification")
    report["From"] = reporter
    report["To"] = notify_to
    title = (KO_PREFIX + subject) if error else subject
    report["Subject"] = Header(title, "utf-8")  # type: ignore[assignment]
    report["Date"] = format_datetime(datetime.now(UTC))
    report["Message-ID"] = make_msgid(domain=mailboxes.domain_of(reporter) or "mssante.fr")
    orig_id = str(orig.get("Message-ID") or "").strip()
    if orig_id:
        report["In-Reply-To"] = orig_id
        report["References"] = orig_id
    disposition = "automatic-action/MDN-sent-automatically; processed"
    if error:
        code, label = error
        disposition += f"/Error: {code}^{_ascii(label)}"  # RFC 8098 fields are ASCII
        human = (f"Le message n'a pas pu être intégré : {code}^{label}^messageErrorCondition|E^Error^errorSeverity\n"
                 f"The message could not be integrated: {code} {label}\n")
    else:
        human = "Le message a été intégré. / The message was integrated.\n"
    report.attach(MIMEText(human, "plain", "utf-8"))
    fields = [("Reporting-UA", "mes-sandbox; MSSante"),
              ("Original-Recipient", f"rfc822;{reporter}"), ("Final-Recipient", f"rfc822;{reporter}")]
    if orig_id:
        fields.append(("Original-Message-ID", orig_id))
    fields.append(("Disposition", disposition))
    notification = MIMEBase("message", "disposition-notification")
    notification.set_payload("".join(f"{k}: {v}\r\n" for k, v in fields))
    report.attach(notification)
    report.attach(MIMEMessage(orig))
    _attach_documents(report, orig)
    return report.as_bytes()


def is_report(h: Message) -> bool:
    """An MDN or a KO mail: never answered by another receipt."""
    content_type = str(h.get("Content-Type") or "").lower()
    return "disposition-notification" in content_type or headers.text(h.get("Subject")).startswith(KO_PREFIX.strip())


def build_ko_mail(original: bytes, *, reporter: str, notify_to: str, error: tuple[int, str]) -> bytes:
    """The "standard" mail an integrating software sends when no MDN was asked and the message
    could not be integrated (FACTS §2.5): subject ``[KO Intégration système !][<code>] <subject>``,
    the original as ``message/rfc822`` and its attachments again."""
    orig = email.message_from_bytes(original, policy=email.policy.compat32)
    code, label = error
    mail = MIMEMultipart("mixed")
    mail["From"] = reporter
    mail["To"] = notify_to
    mail["Subject"] = Header(f"{KO_PREFIX.strip()}[{code}] {headers.text(orig.get('Subject'))}",  # type: ignore[assignment]
                             "utf-8")
    mail["Date"] = format_datetime(datetime.now(UTC))
    mail["Message-ID"] = make_msgid(domain=mailboxes.domain_of(reporter) or "mssante.fr")
    orig_id = str(orig.get("Message-ID") or "").strip()
    if orig_id:
        mail["In-Reply-To"] = mail["References"] = orig_id
    mail.attach(MIMEText(f"Le message n'a pas pu être intégré : {code}^{label}\n"
                         f"The message could not be integrated: {code} {label}\n", "plain", "utf-8"))
    mail.attach(MIMEMessage(orig))
    _attach_documents(mail, orig)
    return mail.as_bytes()


def _attach_documents(target: MIMEMultipart, orig: Message) -> None:
    for part in orig.walk():
        name = (part.get_filename() or "").lower()
        if part.get_content_type() in ("application/zip", "application/pdf") or name.endswith((".zip", ".pdf")):
            copy = MIMEBase(*part.get_content_type().split("/", 1))
            copy.set_payload(part.get_payload())
            for header in ("Content-Transfer-Encoding", "Content-Disposition"):
                if part.get(header):
                    copy[header] = part[header]
            target.attach(copy)


async def send_ko_mail(ctx: SandboxContext, workspace: str, *, original: bytes, recipient: str, sender: str,
                       error: tuple[int, str]) -> dict[str, Any]:
    """Deliver the KO mail ``recipient`` owes ``sender`` (the envelope sender) for ``original``."""
    from mss.delivery import store  # delivery imports this module

    started = datetime.now(UTC)
    raw = build_ko_mail(original, reporter=recipient, notify_to=sender, error=error)
    box = await mailboxes.find(ctx, workspace, sender)
    targets = [(recipient, SENT)] + ([(box.address, INBOX)] if box is not None else [])
    h = email.message_from_bytes(raw, policy=email.policy.compat32)
    stored = await store(ctx).deliver(workspace, Delivery(
        raw=raw, targets=targets, sender=recipient, recipients=[sender], subject=headers.text(h["Subject"]),
        message_id=str(h["Message-ID"]), origin={"via": "ko-mail"}, flags={SENT: ["\\Seen"]},
        checks={"findings": [], "ko": {"error": list(error)}}))
    summary = {"from": recipient, "to": sender, "error_code": error[0], "message_ids": [m.id for m in stored]}
    _record(ctx, workspace, started, summary, raw, "sent", operation="ko-mail")
    return summary


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def disposition_of(raw: bytes) -> dict[str, str] | None:
    """The fields of a received MDN's ``message/disposition-notification`` part, or None."""
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    for part in msg.walk():
        if part.get_content_type() == "message/disposition-notification":
            payload = part.get_payload()
            text = payload if isinstance(payload, str) else "".join(
                p.as_string() if isinstance(p, Message) else str(p) for p in payload)
            fields: dict[str, str] = {}
            for line in text.splitlines():
                key, sep, value = line.partition(":")
                if sep:
                    fields[key.strip()] = value.strip()
            return fields
    return None


async def send_receipt(ctx: SandboxContext, workspace: str, *, original: bytes, recipient: str, sender: str,
                       notify_to: str, error: tuple[int, str] | None) -> dict[str, Any] | None:
    """Build and deliver the MDN ``recipient`` owes for ``original``; None when none is sent."""
    from mss.delivery import store  # delivery imports this module

    started = datetime.now(UTC)
    addresses = [a for _, a in getaddresses([notify_to]) if a]
    target = mailboxes.normalise(addresses[0]) if addresses else ""
    summary: dict[str, Any] = {"from": recipient, "to": target}
    if target != mailboxes.normalise(sender):
        summary["skipped"] = "Disposition-Notification-To differs from the envelope sender (loop protection)"
        _record(ctx, workspace, started, summary, None, "skipped")
        return None
    fault = await ctx.faults.take(workspace, "mss", "mdn", kinds=("drop_mdn", "bad_mdn"))
    if fault is not None and fault.kind == "drop_mdn":
        summary["injected"] = "drop_mdn"
        _record(ctx, workspace, started, summary, None, "dropped")
        return None
    if fault is not None and fault.kind == "bad_mdn":
        code = int(fault.params.get("code", 906))
        error = (code, str(fault.params.get("label") or ERROR_LABELS.get(code, "Autre erreur")))
        summary["injected"] = "bad_mdn"
    raw = build(original, reporter=recipient, notify_to=target, error=error)
    box = await mailboxes.find(ctx, workspace, target)
    targets = [(recipient, SENT)] + ([(target, INBOX)] if box is not None else [])
    h = email.message_from_bytes(raw, policy=email.policy.compat32)
    stored = await store(ctx).deliver(workspace, Delivery(
        raw=raw, targets=targets, sender=recipient, recipients=[target], subject=headers.text(h["Subject"]),
        message_id=str(h["Message-ID"]), origin={"via": "mdn"}, flags={SENT: ["\\Seen"]},
        checks={"findings": [], "mdn": {"disposition": "error" if error else "processed",
                                        "error": list(error) if error else None}}))
    summary.update({"disposition": "processed/Error" if error else "processed",
                    "error_code": error[0] if error else None, "message_ids": [m.id for m in stored]})
    _record(ctx, workspace, started, summary, raw, "sent")
    return summary


def _record(ctx: SandboxContext, workspace: str, started: datetime, summary: dict[str, Any], raw: bytes | None,
            status: str, operation: str = "mdn") -> None:
    ctx.recorder.record(Exchange(
        workspace=workspace, protocol=Protocol.SMTP, service="mss", direction=Direction.OUTBOUND,
        started_at=started, ended_at=datetime.now(UTC), operation=operation, actor=summary.get("from", ""),
        status=status, summary=summary, response_body=raw, response_content_type="message/rfc822" if raw else ""))
