"""``/mss/api``: inspect the mail store, send as a persona, wait for a message (RFC 9457 problem
JSON on errors). A thin adapter over :mod:`mss.store` and :mod:`mss.delivery`; the workspace is
named by ``X-Sandbox-Workspace`` (default workspace otherwise)."""

from __future__ import annotations

import base64
import binascii
import email
import email.policy
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from mss import certificates, delivery, mailboxes, mdn
from mss.store import FOLDERS, INBOX, StoredMessage
from sandbox.api.deps import header_workspace
from sandbox.context import SandboxContext
from sandbox.errors import ProblemError

MAX_WAIT_SECONDS = 60.0
MAX_ID = 2**63 - 1  # message ids are 64-bit integers in both databases: larger ones are 422, not 500


class SendIn(BaseModel):
    sender: str = Field(alias="from", description="mailbox address of the sending persona")
    to: list[str] = Field(min_length=1, max_length=100)
    subject: str = ""
    text: str = ""
    raw: str | None = Field(None, description="a whole RFC 5322 message, base64 (replaces subject/text)")
    disposition_notification: bool = Field(False, description="ask the recipient for an MDN")
    headers: dict[str, str] = Field(default_factory=dict, description="extra headers, e.g. X-MSS-MES")

    model_config = {"populate_by_name": True}


class CertificateIn(BaseModel):
    kind: Literal["professional", "organisation"]
    id: str = Field(min_length=1, max_length=64, pattern=r"^[0-9A-Za-z]+$",
                    description="the persona: IDNPS or RPPS of a professional, FINESS of an organisation")


class OptionsIn(BaseModel):
    integrating: bool = Field(description="the mailbox belongs to integrating software: it answers MDNs")


def _not_found(what: str, value: Any) -> ProblemError:
    label = {"mailbox": "BAL", "message": "message"}.get(what, what)
    return ProblemError(404, f"unknown-{what}", f"{label} {value!r} inconnu(e) dans cet espace de travail / "
                        f"no such {what}", value=str(value))


def _detail(m: StoredMessage) -> dict[str, Any]:
    return {**m.summary(), "checks": m.checks, "origin": m.origin,
            "findings": m.checks.get("findings", []), "documents": m.checks.get("documents", [])}


def build(ctx: SandboxContext) -> APIRouter:
    router = APIRouter(prefix="/mss/api", tags=["mss: MSSanté inspection"])
    st = delivery.store(ctx)

    async def mailbox_or_404(workspace: str, address: str) -> mailboxes.Mailbox:
        box = await mailboxes.find(ctx, workspace, address)
        if box is None:
            raise _not_found("mailbox", address)
        return box

    async def message_or_404(workspace: str, message_id: int) -> StoredMessage:
        m = await st.get(workspace, message_id)
        if m is None:
            raise _not_found("message", message_id)
        return m

    @router.get("/mailboxes", summary="Mailboxes of the workspace with their message counts")
    async def list_mailboxes(type: str | None = Query(None, description="PER | ORG | APP | CAB | patient"),
                             q: str | None = Query(None, description="part of the address"),
                             limit: int = Query(100, ge=1, le=1000),
                             workspace: str = Depends(header_workspace)) -> dict[str, Any]:
        boxes = await mailboxes.all_mailboxes(ctx, workspace)
        if type:
            boxes = [b for b in boxes if (b.type or "patient") == type]
        if q:
            boxes = [b for b in boxes if q.lower() in b.address]
        counts = await st.counts(workspace)
        return {"total": len(boxes), "mailboxes": [
            {**b.to_json(), "folders": {f: counts.get((b.address, f), 0) for f in FOLDERS}} for b in boxes[:limit]]}

    @router.get("/mailboxes/{address}", summary="One mailbox, its folders and options")
    async def get_mailbox(address: str, workspace: str = Depends(header_workspace)) -> dict[str, Any]:
        box = await mailbox_or_404(workspace, address)
        counts = await st.counts(workspace)
        default = box.type == "APP"
        return {**box.to_json(), "folders": {f: counts.get((box.address, f), 0) for f in FOLDERS},
                "integrating": await st.is_integrating(workspace, box.address, default=default)}

    @router.put("/mailboxes/{address}/options", summary="Set a mailbox's behaviour (integrating software)")
    async def set_options(address: str, body: OptionsIn, workspace: str = Depends(header_workspace)) -> dict[str, Any]:
        box = await mailbox_or_404(workspace, address)
        await st.set_integrating(workspace, box.address, body.integrating)
        return {"address": box.address, "integrating": body.integrating}

    @router.get("/messages", summary="Messages, oldest first")
    async def list_messages(mailbox: str | None = None, folder: str | None = Query(None, description="INBOX | Sent"),
                            after_id: int = Query(0, ge=0, le=MAX_ID), limit: int = Query(100, ge=1, le=1000),
                            workspace: str = Depends(header_workspace)) -> dict[str, Any]:
        found = await st.list(workspace, mailbox=mailboxes.normalise(mailbox) if mailbox else None, folder=folder,
                              after_id=after_id, limit=limit)
        return {"messages": [m.summary() for m in found]}

    @router.get("/messages/wait", summary="Wait (long poll) for a message newer than after_id")
    async def wait(mailbox: str | None = None, folder: str | None = None, after_id: int = Query(0, ge=0, le=MAX_ID),
                   timeout: float = Query(10.0, gt=0, le=MAX_WAIT_SECONDS),
                   workspace: str = Depends(header_workspace)) -> dict[str, Any]:
        found = await st.wait_for(workspace, mailbox=mailboxes.normalise(mailbox) if mailbox else None,
                                  folder=folder, after_id=after_id, timeout=timeout)
        return {"timed_out": not found, "messages": [m.summary() for m in found]}

    @router.get("/messages/{message_id}", summary="One message with its findings and parsed XDM")
    async def get_message(message_id: int = Path(..., ge=1, le=MAX_ID),
                          workspace: str = Depends(header_workspace)) -> dict[str, Any]:
        """``disposition_notification``: the fields of the message's MDN part when it is a receipt
        (e.g. a vendor's answer to ``POST /send`` with ``disposition_notification``), else null."""
        m = await message_or_404(workspace, message_id)
        data = await st.raw(workspace, m.sha256) or b""
        receipt = mdn.disposition_of(data) if b"disposition-notification" in data[:65536].lower() else None
        return {**_detail(m), "disposition_notification": receipt}

    @router.get("/messages/{message_id}/raw", summary="The message as received (.eml)",
                response_class=Response, responses={200: {"content": {"message/rfc822": {}}}})
    async def raw(message_id: int = Path(..., ge=1, le=MAX_ID), workspace: str = Depends(header_workspace)) -> Response:
        m = await message_or_404(workspace, message_id)
        data = await st.raw(workspace, m.sha256)
        if data is None:
            raise _not_found("message", message_id)
        return Response(data, media_type="message/rfc822",
                        headers={"Content-Disposition": f'attachment; filename="message-{m.id}.eml"'})

    @router.delete("/messages/{message_id}", status_code=204, summary="Delete one message")
    async def delete(message_id: int = Path(..., ge=1, le=MAX_ID),
                     workspace: str = Depends(header_workspace)) -> Response:
        await message_or_404(workspace, message_id)
        await st.delete(workspace, [message_id])
        return Response(status_code=204)

    @router.post("/send", status_code=201, summary="Send a message as a persona (to test a receiving side)")
    async def send(body: SendIn, request: Request, workspace: str = Depends(header_workspace)) -> dict[str, Any]:
        sender = await mailbox_or_404(workspace, body.sender)
        rcpts = []
        for address in body.to:
            rcpt = mailboxes.normalise(address)
            if not mailboxes.in_trust_space(rcpt):
                raise ProblemError(422, "outside-trust-space",
                                   f"{rcpt} est hors de l'espace de confiance MSSanté / outside the trust space")
            rcpts.append((await mailbox_or_404(workspace, rcpt)).address)
        if len({r for r in rcpts if mailboxes.domain_of(r) == mailboxes.PATIENT_DOMAIN}) > 1:
            raise ProblemError(422, "one-patient", "un seul patient par message / one patient per message")
        raw = _compose(body, sender.address, rcpts)
        try:
            accepted = await delivery.accept(ctx, workspace, raw, sender.address, rcpts, {"via": "api"})
        except delivery.Refused as exc:
            raise ProblemError(422, "message-refused", exc.text, smtp_code=exc.code) from None
        delivery.schedule_after_delivery(ctx, workspace, accepted, raw, sender.address)
        return {"message_ids": accepted.ids, "messages": [m.summary() for m in accepted.messages],
                "findings": accepted.inspection.findings}

    @router.post("/certificates", status_code=201,
                 summary="Issue a client certificate that logs in to this workspace's mailboxes (SMTP, IMAP)")
    async def issue_certificate(body: CertificateIn, workspace: str = Depends(header_workspace)) -> dict[str, Any]:
        """The PEM certificate, private key and chain are in this answer only; the workspace keeps the
        certificate's fingerprint, which is what binds it (``mss/README.md``)."""
        for persona_id in (body.id, "8" + body.id) if body.kind == "professional" else (body.id,):
            try:
                return await certificates.issue(ctx, workspace, body.kind, persona_id)
            except certificates.UnknownPersona:
                continue
        raise _not_found("persona", f"{body.kind}/{body.id}")

    @router.get("/certificates", summary="Client certificates issued for this workspace (no keys)")
    async def list_certificates(workspace: str = Depends(header_workspace)) -> dict[str, Any]:
        return {"certificates": await certificates.listed(ctx, workspace)}

    @router.get("/patients/{ins}/messages", summary="A patient's Mon espace santé inbox (<INS>@patient.mssante.fr)")
    async def patient_inbox(ins: str, workspace: str = Depends(header_workspace)) -> dict[str, Any]:
        box = await mailbox_or_404(workspace, f"{ins}@{mailboxes.PATIENT_DOMAIN}")
        found = await st.list(workspace, mailbox=box.address, folder=INBOX, limit=1000)
        out = []
        for m in found:
            data = await st.raw(workspace, m.sha256) or b""
            h = delivery.headers_of(data)
            out.append({**m.summary(), "reply_allowed": str(h.get("X-MSS-MES") or "").strip().upper() != "FIN"})
        return {"patient_ins": ins, "mailbox": box.address, "messages": out}

    @router.post("/patients/{ins}/messages/{message_id}/reply", status_code=201,
                 summary="The patient answers a message (refused when the sender set X-MSS-MES: FIN)")
    async def patient_reply(ins: str, message_id: int, body: dict[str, str],
                            workspace: str = Depends(header_workspace)) -> dict[str, Any]:
        box = await mailbox_or_404(workspace, f"{ins}@{mailboxes.PATIENT_DOMAIN}")
        m = await message_or_404(workspace, message_id)
        if m.mailbox != box.address:
            raise _not_found("message", message_id)
        data = await st.raw(workspace, m.sha256) or b""
        h = delivery.headers_of(data)
        if str(h.get("X-MSS-MES") or "").strip().upper() == "FIN":
            raise ProblemError(409, "replies-blocked", "le professionnel a bloqué les réponses (X-MSS-MES: FIN) / "
                                                      "the sender blocked replies")
        reply = EmailMessage()
        reply["From"], reply["To"] = box.address, m.sender
        reply["Subject"] = "Re: " + m.subject
        reply["Date"] = format_datetime(datetime.now(UTC))
        reply["Message-ID"] = make_msgid(domain=mailboxes.PATIENT_DOMAIN)
        if m.message_id:
            reply["In-Reply-To"] = reply["References"] = m.message_id
        reply.set_content(str(body.get("text", "")))
        accepted = await delivery.accept(ctx, workspace, reply.as_bytes(), box.address, [m.sender],
                                         {"via": "mes-reply"})
        return {"message_ids": accepted.ids}

    return router


def _compose(body: SendIn, sender: str, rcpts: list[str]) -> bytes:
    if body.raw is not None:
        try:
            return base64.b64decode(body.raw, validate=True)
        except (binascii.Error, ValueError):
            raise ProblemError(422, "invalid-raw", "'raw' n'est pas du base64 / 'raw' is not base64") from None
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["From"] = sender
    msg["To"] = ", ".join(rcpts)
    msg["Subject"] = body.subject
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = make_msgid(domain=mailboxes.domain_of(sender))
    for name, value in body.headers.items():
        msg[name] = value
    if body.disposition_notification:
        msg["Disposition-Notification-To"] = sender
    msg.set_content(body.text or "")
    return msg.as_bytes()
