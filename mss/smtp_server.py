"""The MSSanté SMTP listeners on aiosmtpd (FACTS §2.2; RFC 5321, RFC 3207 STARTTLS, RFC 4954 AUTH,
RFC 7628 OAUTHBEARER). aiosmtpd parses the protocol; the handler below decides.

- ``smtp_port`` (2525): STARTTLS required — any mail command before it gets ``530``;
  ``smtps_port`` (2465): TLS from the first byte. Test PKI server certificate; a client
  certificate, when presented, must chain to the test CAs (else the handshake fails).
- Login: the client certificate (professional or organisation persona), or a PSC access token
  over ``AUTH XOAUTH2`` / ``AUTH OAUTHBEARER``. ``MAIL FROM`` must be one of the persona's
  mailboxes (``550 5.7.1`` otherwise); nothing is accepted anonymously (``530 5.7.0``).
- ``RCPT TO``: outside the trust space → ``550 5.7.1`` (no relay); unknown mailbox or patient →
  ``550 5.1.1``; a second patient → ``550 5.5.3`` (one patient per message).
- ``DATA``: larger than :data:`MAX_MESSAGE_BYTES` → ``552``; content checks; scripted faults
  (``tempfail`` 451, ``reject``, ``mailbox_full`` 552, ``slow``); stored before ``250``.
- Each session is recorded as evidence (commands, reply codes, TLS version and cipher, no
  credential in clear) and each message with its raw bytes, by reference; an accepted message's
  exchange is written in the same transaction as the message, before its ``250`` (docs/scale.md
  "What a crash can lose").
"""

from __future__ import annotations

import asyncio
import collections
import logging
import os
import unicodedata
import uuid
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, Session

from mss import auth, content, delivery, mailboxes
from sandbox.evidence import Direction, Exchange, Protocol
from sandbox.server import bind
from sandbox.services import Listener

if TYPE_CHECKING:
    from sandbox.context import SandboxContext

log = logging.getLogger(__name__)
MAX_MESSAGE_BYTES = 25 * 1024 * 1024  # Mon espace santé bounces beyond 25 MB (FACTS §2.7)
MAX_RECIPIENTS = 100
TRANSCRIPT_LINES = 400
AUTH_LINE_LIMIT = 12288
BACKLOG = 512
MESSAGES_PER_SESSION = 1000
# a session that floods commands is cut off (421) instead of being served forever; a client that
# sends many messages opens a new session every MESSAGES_PER_SESSION messages
COMMAND_LIMITS = {"RCPT": MAX_RECIPIENTS * 10 + MESSAGES_PER_SESSION, "MAIL": MESSAGES_PER_SESSION,
                  "DATA": MESSAGES_PER_SESSION, "RSET": MESSAGES_PER_SESSION, "NOOP": 20, "*": 40}
FAULT_KINDS_AT_DATA = ("tempfail", "reject", "mailbox_full", "slow")


def tls_facts(ssl_object: Any) -> dict[str, Any]:
    if ssl_object is None:
        return {}
    cipher = ssl_object.cipher() or ("", "", 0)
    return {"version": ssl_object.version(), "cipher": cipher[0], "bits": cipher[2]}


class MssSMTP(SMTP):
    """aiosmtpd's protocol with a session transcript for evidence (commands as the client sent
    them, with AUTH credentials replaced by a salted hash, and every reply)."""

    #: an AUTH line carries a whole access token (RFC 4954 §4 allows 12,288 octets)
    line_length_limit = AUTH_LINE_LIMIT + 2

    def __init__(self, handler: MssHandler, *, implicit_tls: bool, **kw: Any) -> None:
        super().__init__(handler, **kw)
        # per session: aiosmtpd's default is a dict shared by the class (and grown by each EHLO)
        self.command_size_limits = collections.defaultdict(lambda: SMTP.command_size_limit,
                                                           {"AUTH": AUTH_LINE_LIMIT})
        self.implicit_tls = implicit_tls
        self.session_id = str(uuid.uuid4())
        self.started_at = datetime.now(UTC)
        self.transcript: list[str] = []
        self.principal: auth.Principal | None = None
        self.tls: dict[str, Any] = {}
        self.client_cert: str | None = None
        self.messages: list[dict[str, Any]] = []
        self.patients: set[str] = set()

    def _cb_client_connected(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        read_line = reader.readuntil

        async def command_line() -> bytes:
            line = await read_line(b"\n")
            self._note("C: " + self._redacted(line))
            return line

        def readuntil(separator: bytes = b"\n") -> Awaitable[bytes]:
            # a command line (aiosmtpd reads DATA lines with b"\r\n"): noted; a DATA line gets the
            # stream's own coroutine, without a coroutine of ours around each of its ~100 lines
            return command_line() if separator == b"\n" else read_line(separator)

        reader.readuntil = readuntil  # type: ignore[method-assign,assignment]
        super()._cb_client_connected(reader, writer)

    def _redacted(self, line: bytes) -> str:
        text = line.decode("utf-8", "replace").rstrip("\r\n")
        words = text.split(" ")
        if words and words[0].upper() == "AUTH" and len(words) > 2:
            return f"{words[0]} {words[1]} <{auth.redact(words[2], self.session_id)}>"
        return text[:300]

    def _note(self, line: str) -> None:
        if len(self.transcript) < TRANSCRIPT_LINES:
            self.transcript.append(line)

    async def push(self, status: bytes | str) -> None:  # type: ignore[override]
        text = status.decode("utf-8", "replace") if isinstance(status, bytes) else status
        if isinstance(status, str) and not status.isascii():
            # replies are ASCII (RFC 5321 §4.2): French texts lose their accents, not their words
            status = unicodedata.normalize("NFKD", status).encode("ascii", "ignore").decode()
        if text.startswith("334 "):
            self._note("S: 334 <challenge>")
            self._note("C: <SASL response, not kept>")
        else:
            self._note("S: " + text[:300])
        await super().push(status)  # type: ignore[type-var]

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.event_handler.sessions.add(self)
        if self.implicit_tls and not self.tls:
            self.tls = tls_facts(transport.get_extra_info("ssl_object"))
            cert = auth.peer_certificate(transport.get_extra_info("ssl_object"))
            self.client_cert = cert.display if cert else None
        super().connection_made(transport)

    def connection_lost(self, error: Exception | None) -> None:
        super().connection_lost(error)
        handler: MssHandler = self.event_handler
        if self in handler.sessions:
            handler.sessions.discard(self)
            handler.record_session(self)


class MssHandler:
    """aiosmtpd handler hooks: the decisions of the MSSanté operator."""

    def __init__(self, ctx: SandboxContext, port_kind: str) -> None:
        self.ctx = ctx
        self.port_kind = port_kind
        self.sessions: set[MssSMTP] = set()  # open sessions, ended when the listener closes

    def close_sessions(self) -> None:
        for session in list(self.sessions):
            if session.transport is not None:
                session.transport.close()

    # -- TLS and login ----------------------------------------------------------------------
    def handle_STARTTLS(self, server: MssSMTP, session: Session, envelope: Envelope) -> bool:
        ssl_object = session.ssl.get("ssl_object") if session.ssl else None
        server.tls = tls_facts(ssl_object)
        cert = auth.peer_certificate(ssl_object)
        server.client_cert = cert.display if cert else None
        return True

    async def _certificate_principal(self, server: MssSMTP) -> auth.Principal | None:
        ssl_object = server.transport.get_extra_info("ssl_object") if server.transport else None
        cert = auth.peer_certificate(ssl_object)
        if cert is None:
            return None
        return await auth.from_certificate(self.ctx, cert)

    async def _sasl(self, server: MssSMTP, args: list[str], parse: Any) -> AuthResult:
        if len(args) > 1:
            initial = args[1]
        else:
            answer = await server.challenge_auth("")
            if not isinstance(answer, bytes):
                return AuthResult(success=False, handled=True)
            initial = None
        try:
            blob = auth.b64decode(initial) if initial is not None else answer
            _user, token = parse(blob)
            principal = await auth.from_token(self.ctx, token)
        except ValueError as exc:
            return AuthResult(success=False, handled=False, message=f"501 5.5.2 {exc}")
        except auth.AuthRefused as exc:
            return AuthResult(success=False, handled=False, message=f"535 5.7.8 {exc.text}")
        server.principal = principal
        return AuthResult(success=True, auth_data=principal, message="235 2.7.0 Authentification réussie")

    async def auth_XOAUTH2(self, server: MssSMTP, args: list[str]) -> AuthResult:
        return await self._sasl(server, args, auth.token_from_xoauth2)

    async def auth_OAUTHBEARER(self, server: MssSMTP, args: list[str]) -> AuthResult:
        return await self._sasl(server, args, auth.token_from_oauthbearer)

    # -- envelope ---------------------------------------------------------------------------
    async def handle_MAIL(self, server: MssSMTP, session: Session, envelope: Envelope, address: str,
                          mail_options: list[str]) -> str:
        if server.principal is None:
            try:
                server.principal = await self._certificate_principal(server)
            except auth.AuthRefused as exc:
                return f"535 5.7.8 {exc.text}"
        principal = server.principal
        if principal is None:
            return ("530 5.7.0 Authentification requise : certificat client ou jeton Pro Santé Connect "
                    "(AUTH XOAUTH2/OAUTHBEARER) / authentication required")
        sender = mailboxes.normalise(address)
        if sender not in principal.mailboxes:
            return (f"550 5.7.1 {sender[:100]} n'est pas une BAL de {principal.actor} / "
                    "sender address not owned by the authenticated user")
        envelope.mail_from = sender
        envelope.mail_options.extend(mail_options)
        server.patients = set()
        return "250 2.1.0 OK"

    async def handle_RCPT(self, server: MssSMTP, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        principal = server.principal
        assert principal is not None  # aiosmtpd asks for MAIL first
        rcpt = mailboxes.normalise(address)
        if not mailboxes.in_trust_space(rcpt):
            return (f"550 5.7.1 Domaine {mailboxes.domain_of(rcpt)[:80]} hors de l'espace de confiance MSSanté, "
                    "relais refusé / domain outside the MSSanté trust space, relaying denied")
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            return "452 4.5.3 Trop de destinataires / too many recipients"
        box = await mailboxes.find(self.ctx, principal.workspace, rcpt)
        if box is None:
            what = "patient inconnu (INS)" if mailboxes.domain_of(rcpt) == mailboxes.PATIENT_DOMAIN else "BAL inconnue"
            return f"550 5.1.1 {rcpt[:100]} : {what} / no such mailbox"
        if box.is_patient:
            if server.patients and rcpt not in server.patients:
                return "550 5.5.3 Un seul patient par message / one patient per message"
            server.patients.add(rcpt)
        if rcpt not in envelope.rcpt_tos:
            envelope.rcpt_tos.append(rcpt)
            envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: MssSMTP, session: Session, envelope: Envelope) -> str:
        principal = server.principal
        assert principal is not None and envelope.mail_from is not None
        raw = envelope.original_content or b""
        if not isinstance(raw, bytes):
            raw = raw.encode("utf-8", "surrogateescape")
        workspace = principal.workspace
        record: dict[str, Any] = {"from": envelope.mail_from, "to": list(envelope.rcpt_tos), "size": len(raw)}
        reply = await self._faults(workspace, record)
        if reply is None:
            def accepted_record(ids: list[int], inspection: content.Inspection) -> dict[str, Any]:
                return {**record, "message_ids": ids, "findings": len(inspection.findings),
                        "reply": f"250 2.0.0 OK accepté / queued as {ids[0]}"}

            def accepted_exchange(ids: list[int], inspection: content.Inspection) -> Exchange:
                # built inside the delivery's transaction, which may still roll back: ``record``
                # itself is only completed once it committed (else a 451 would claim these ids)
                return self._message_exchange(server, workspace, raw, accepted_record(ids, inspection))

            try:
                accepted = await delivery.accept(self.ctx, workspace, raw, envelope.mail_from, list(envelope.rcpt_tos),
                                                 {"via": "smtp", "session": server.session_id, "port": self.port_kind},
                                                 evidence=accepted_exchange)
            except delivery.Refused as exc:
                reply = exc.reply
            except Exception:
                log.exception("storing a message failed")
                reply = "451 4.3.0 Erreur temporaire, rien n'a été conservé / temporary failure, nothing kept"
            else:
                # its exchange was committed with the messages, before this 250 leaves: a client
                # that has its 250 has the evidence, even if the node is killed right after
                record.update(accepted_record(accepted.ids, accepted.inspection))
                server.messages.append(record)
                delivery.schedule_after_delivery(self.ctx, workspace, accepted, raw, envelope.mail_from)
                return record["reply"]
        # refused: nothing was stored; its exchange is batched (and a database that made the store
        # fail does not also hold the 451 back)
        record["reply"] = reply[:200]
        server.messages.append(record)
        self.ctx.recorder.record(self._message_exchange(server, workspace, raw, record))
        return reply

    async def _faults(self, workspace: str, record: dict[str, Any]) -> str | None:
        fault = await self.ctx.faults.take(workspace, "mss", "smtp", kinds=FAULT_KINDS_AT_DATA)
        if fault is None:
            return None
        record["injected"] = fault.kind
        if fault.kind == "slow":
            await asyncio.sleep(min(float(fault.params.get("delay_ms", 2000)), 60_000) / 1000)
            return None
        if fault.kind == "tempfail":
            return "451 4.3.0 " + str(fault.params.get("text", "Erreur temporaire, réessayez plus tard"))[:200]
        if fault.kind == "mailbox_full":
            return "552 5.2.2 " + str(fault.params.get("text", "BAL pleine / mailbox full"))[:200]
        code = int(fault.params.get("code", 554))
        code = code if code in (550, 554) else 554
        return f"{code} 5.7.1 " + str(fault.params.get("text", "Message refusé / message rejected"))[:200]

    # -- evidence ---------------------------------------------------------------------------
    def _workspace(self, server: MssSMTP) -> str:
        return server.principal.workspace if server.principal else self.ctx.settings.default_workspace

    def _message_exchange(self, server: MssSMTP, workspace: str, raw: bytes, record: dict[str, Any]) -> Exchange:
        """The exchange recording one message, accepted or refused (``record`` is its summary)."""
        now = datetime.now(UTC)
        return Exchange(
            workspace=workspace, protocol=Protocol.SMTP, service="mss", direction=Direction.INBOUND,
            started_at=now, ended_at=now, operation="smtp-message",
            actor=server.principal.actor if server.principal else "", correlation_id=server.session_id,
            status=record["reply"][:3], summary=record, request_body=raw, request_content_type="message/rfc822")

    def record_session(self, server: MssSMTP) -> None:
        last = next((line[3:6] for line in reversed(server.transcript) if line.startswith("S: ")), "")
        principal = server.principal
        summary = {
            "port": self.port_kind, "process": os.getpid(),
            "peer": list(server.session.peer or ()) if server.session else [],
            "tls": server.tls or None, "client_certificate": server.client_cert,
            "auth": ({"method": principal.method, "persona": principal.actor, **principal.detail}
                     if principal else None),
            "messages": server.messages, "transcript": server.transcript,
        }
        self.ctx.recorder.record(Exchange(
            workspace=self._workspace(server), protocol=Protocol.SMTP, service="mss", direction=Direction.INBOUND,
            started_at=server.started_at, ended_at=datetime.now(UTC), operation="smtp-session",
            actor=principal.actor if principal else (server.client_cert or ""), correlation_id=server.session_id,
            status=last, summary=summary))


async def start(ctx: SandboxContext) -> list[Listener]:
    """Start both SMTP listeners in this process."""
    loop = asyncio.get_running_loop()
    ctx.pki.ensure()
    tls = ctx.pki.server_context()
    settings = ctx.settings
    reuse = settings.workers > 1
    started: list[Listener] = []

    def factory(handler: MssHandler, implicit: bool):  # noqa: ANN202 - protocol factory
        def make() -> MssSMTP:
            return MssSMTP(handler, implicit_tls=implicit, tls_context=None if implicit else tls,
                           require_starttls=not implicit, auth_require_tls=not implicit,
                           auth_exclude_mechanism=["LOGIN", "PLAIN"], data_size_limit=MAX_MESSAGE_BYTES,
                           hostname="mss.sandbox.localhost", ident="mes-sandbox MSSante", timeout=120,
                           command_call_limit=COMMAND_LIMITS, loop=loop)
        return make

    for name, port, implicit in (("smtp", settings.smtp_port, False), ("smtps", settings.smtps_port, True)):
        sock = bind(settings.host, port, reuse_port=reuse)
        sock.listen(BACKLOG)
        handler = MssHandler(ctx, name)
        server = await loop.create_server(factory(handler, implicit), sock=sock, ssl=tls if implicit else None)

        async def close(server: asyncio.AbstractServer = server, handler: MssHandler = handler) -> None:
            server.close()
            handler.close_sessions()
            await server.wait_closed()
            await asyncio.sleep(0)  # let the closed sessions run their connection_lost

        started.append(Listener(name, sock.getsockname()[1], close))
    return started
