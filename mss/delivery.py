"""Accepting a message into the store: content checks, the one-patient rule, storage in each
recipient's INBOX and the sender's Sent folder, then the receipts the recipients owe (FACTS §2.3,
§2.5, §2.7). Used by the SMTP listener and by ``/mss/api`` "send as a persona"; protocol-free.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mss import content, headers, mailboxes, mdn
from mss.store import INBOX, SENT, Delivery, MailStore, StoredMessage

if TYPE_CHECKING:
    from sandbox.context import SandboxContext
    from sandbox.evidence import Exchange

log = logging.getLogger(__name__)
SERVICE = "mss"


class Refused(Exception):
    """The message is refused as a whole; ``code`` and ``text`` make the SMTP reply."""

    def __init__(self, code: int, text: str) -> None:
        super().__init__(f"{code} {text}")
        self.code = code
        self.text = text

    @property
    def reply(self) -> str:
        return f"{self.code} {self.text}"


@dataclass(frozen=True)
class Accepted:
    messages: list[StoredMessage]
    inspection: content.Inspection

    @property
    def ids(self) -> list[int]:
        return [m.id for m in self.messages]


headers_of = headers.parse
_text = headers.text


def store(ctx: SandboxContext) -> MailStore:
    st = ctx.state.get("mss.store")
    if st is None:
        st = ctx.state["mss.store"] = MailStore(ctx.db, ctx.recorder)
    return st


async def accept(ctx: SandboxContext, workspace: str, raw: bytes, sender: str, recipients: list[str],
                 origin: dict[str, Any],
                 evidence: Callable[[list[int], content.Inspection], Exchange] | None = None) -> Accepted:
    """Check and store ``raw``; raises :class:`Refused` when nothing may be stored. ``evidence``
    builds the exchange recording the acceptance from the stored messages' ids and the checks'
    result: it is written in the delivery's own transaction (:class:`mss.store.Delivery`)."""
    patients = {r for r in recipients if mailboxes.domain_of(r) == mailboxes.PATIENT_DOMAIN}
    known: set[str] = set()
    for r in patients:
        known.add(r.split("@", 1)[0])

    def known_ins(ins: str) -> bool:
        return ins in known or ins in _seeded_ins(ctx)

    inspection = await content.inspect(raw, ctx.cpu, known_ins=known_ins, lang=ctx.settings.language)
    if inspection.patient_count > 1:
        raise Refused(554, "5.6.0 Un seul patient par message (plusieurs INS trouvés) / "
                           "one patient per message (several INS found)")
    if patients and inspection.patient_ins and f"{inspection.patient_ins}@{mailboxes.PATIENT_DOMAIN}" not in patients:
        raise Refused(554, "5.6.0 Le patient des documents n'est pas le destinataire patient / "
                           "the documents' patient is not the patient recipient")
    h = inspection.headers or headers_of(raw)
    patient_ins = inspection.patient_ins or (next(iter(patients)).split("@")[0] if patients else None)
    targets = [(r, INBOX) for r in recipients] + [(sender, SENT)]
    stored = await store(ctx).deliver(workspace, Delivery(
        raw=raw, targets=targets, sender=sender, recipients=recipients, subject=_text(h.get("Subject")),
        message_id=_text(h.get("Message-ID")), patient_ins=patient_ins, checks=inspection.as_json,
        origin=origin, flags={SENT: ["\\Seen"]},
        evidence=None if evidence is None else (lambda ids: evidence(ids, inspection))))
    return Accepted(stored, inspection)


def _seeded_ins(ctx: SandboxContext) -> frozenset[str]:
    cached = ctx.state.get("mss.seeded_ins")
    if cached is None:
        cached = ctx.state["mss.seeded_ins"] = frozenset(p.mailbox.split("@")[0] for p in ctx.world.patients)
    return cached


async def after_delivery(ctx: SandboxContext, workspace: str, accepted: Accepted, raw: bytes, sender: str) -> None:
    """Receipts owed by integrating-software recipients (FACTS §2.5), after the 250: an MDN when
    the message asked for one; otherwise, when the checks found a blocking error, the "KO" mail.
    Never for a receipt or a KO mail itself (no loops)."""
    h = accepted.inspection.headers or headers_of(raw)
    dnt = _text(h.get("Disposition-Notification-To"))
    error = accepted.inspection.mdn_error
    if mdn.is_report(h) or (not dnt and error is None):
        return
    for msg in accepted.messages:
        if msg.folder != INBOX:
            continue
        box = await mailboxes.find(ctx, workspace, msg.mailbox)
        if box is None or box.is_patient:
            continue
        if not await store(ctx).is_integrating(workspace, box.address, default=box.type == "APP"):
            continue
        try:
            if dnt:
                await mdn.send_receipt(ctx, workspace, original=raw, recipient=box.address, sender=sender,
                                       notify_to=dnt, error=error)
            elif error is not None:
                await mdn.send_ko_mail(ctx, workspace, original=raw, recipient=box.address, sender=sender,
                                       error=error)
        except Exception:  # a receipt that fails must not undo the delivery
            log.exception("receipt from %s failed", box.address)


def schedule_after_delivery(ctx: SandboxContext, workspace: str, accepted: Accepted, raw: bytes,
                            sender: str) -> None:
    tasks: set[asyncio.Task[None]] = ctx.state.setdefault("mss.tasks", set())
    task = asyncio.get_running_loop().create_task(after_delivery(ctx, workspace, accepted, raw, sender))
    tasks.add(task)
    task.add_done_callback(tasks.discard)
