"""The MSSanté IMAP listeners on pymap (FACTS §2.2; RFC 3501, RFC 2177 IDLE, RFC 4959 SASL-IR,
RFC 7628 OAUTHBEARER). pymap parses the protocol and runs the commands over :mod:`mss.imap_store`;
this module decides who logs in and records each session.

- ``imap_port`` (2143): ``STARTTLS`` required before any login; ``imaps_port`` (2993): TLS
  from the first byte. Test PKI server certificate; a client certificate must chain to the test CAs.
- One account per mailbox. Login with the client certificate (``AUTHENTICATE EXTERNAL``,
  authorisation id = the mailbox address, or empty when the certificate holds one mailbox), or a
  PSC access token (``AUTHENTICATE XOAUTH2`` / ``OAUTHBEARER``, or ``PLAIN`` / ``LOGIN <mailbox>
  <token>``).
- Literals above :data:`MAX_LITERAL` bytes end the session (``BYE``) before they are read.
- Each session is recorded as evidence: commands (credentials replaced by a salted hash), TLS
  version and cipher, the mailbox and the persona.

Why pymap rather than Twisted's ``imap4``: it runs on asyncio, in the same event loop as the rest
of the sandbox and its asynchronous database access (Twisted would need its asyncio reactor
installed process-wide, and a Deferred bridge around every store call); it brings IDLE, UIDPLUS,
MOVE, SASL through pysasl, and typed backend interfaces; Twisted's server mishandles ``APPEND``
without a flag list.
"""

from __future__ import annotations

import asyncio
import os
import re
import uuid
from argparse import Namespace
from collections.abc import Sequence
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from proxyprotocol.reader import ProxyProtocolReader
from proxyprotocol.sock import SocketInfo
from pymap.config import BackendCapability, IMAPConfig
from pymap.exceptions import InvalidAuth
from pymap.imap import IMAPConnection, IMAPServer
from pymap.imap.state import ConnectionState
from pymap.interfaces.login import IdentityInterface
from pymap.parsing.response import Response, ResponseBye
from pymap.token import AllTokens
from pysasl import SASLAuth
from pysasl.creds.external import ExternalCredentials
from pysasl.creds.server import ServerCredentials
from pysasl.exception import InvalidResponse
from pysasl.mechanism import ChallengeResponse, ServerChallenge, ServerMechanism
from pysasl.mechanism.external import ExternalMechanism
from pysasl.mechanism.oauth import OAuth2Mechanism
from pysasl.mechanism.plain import PlainMechanism

from mss import auth, delivery, mailboxes
from mss.imap_store import CAPABILITY, MailboxIdentity
from mss.smtp_server import MAX_MESSAGE_BYTES, tls_facts
from sandbox.evidence import Direction, Exchange, Protocol
from sandbox.server import bind
from sandbox.services import Listener

if TYPE_CHECKING:
    from sandbox.context import SandboxContext

MAX_LITERAL = MAX_MESSAGE_BYTES + 64 * 1024
TRANSCRIPT_LINES = 400
BACKLOG = 512
_LITERAL_PLUS = re.compile(rb"\{(\d+)\+\}\r?\n$")


class OAuthBearerMechanism(ServerMechanism):
    """RFC 7628 OAUTHBEARER (pysasl ships XOAUTH2 only)."""

    def __init__(self) -> None:
        super().__init__(b"OAUTHBEARER")

    def server_attempt(self, responses: Sequence[ChallengeResponse]) -> tuple[ExternalCredentials, None]:
        if not responses:
            raise ServerChallenge(b"")
        try:
            user, token = auth.token_from_oauthbearer(responses[0].response)
        except ValueError:
            raise InvalidResponse() from None
        return ExternalCredentials(user, token), None


class MssImapConfig(IMAPConfig):
    def __init__(self, ssl_context: Any, *, starttls: bool) -> None:
        args = Namespace(passlib_cfg=None, proxy_protocol=None, debug=False)
        super().__init__(args, host=None, port=0, ssl_context=ssl_context, tls_enabled=starttls,
                         reject_dnsbl=False, max_append_len=MAX_MESSAGE_BYTES, bad_command_limit=5,
                         invalid_user_sleep=0.1)

    @property
    def backend_capability(self) -> BackendCapability:
        return CAPABILITY

    @property
    def tls_auth(self) -> SASLAuth:
        # PLAIN (and LOGIN) take a PSC access token as the password
        return SASLAuth([ExternalMechanism(), OAuth2Mechanism(), OAuthBearerMechanism(), PlainMechanism()])

    @property
    def greeting(self) -> bytes:
        return b"mes-sandbox MSSante IMAP ready"


class MssLogin:
    """Verifies the credentials of one IMAP login (pymap.interfaces.login.LoginInterface)."""

    def __init__(self, ctx: SandboxContext, config: MssImapConfig) -> None:
        self.ctx = ctx
        self.config = config
        self._tokens = AllTokens(config)

    @property
    def tokens(self) -> AllTokens:
        return self._tokens

    async def authenticate(self, credentials: ServerCredentials) -> IdentityInterface:
        session = _session()
        ssl_object = session.ssl_object()
        if ssl_object is None:
            raise InvalidAuth("STARTTLS d'abord / STARTTLS required before login")
        # pysasl keeps the bearer token and the password in private slots; no public accessor
        token = getattr(credentials, "_token", None) if isinstance(credentials, ExternalCredentials) else None
        wanted = credentials.authzid or credentials.authcid
        try:
            if isinstance(credentials, ExternalCredentials) and token is None:
                cert = auth.peer_certificate(ssl_object)
                if cert is None:
                    raise auth.AuthRefused("EXTERNAL sans certificat client / no client certificate")
                principal = await auth.from_certificate(self.ctx, cert)
            else:
                secret = token if token is not None else getattr(credentials, "_secret", "")
                principal = await auth.from_token(self.ctx, str(secret))
        except auth.AuthRefused as exc:
            session.note(f"auth refused: {exc.text[:200]}")
            raise InvalidAuth(exc.text[:200]) from None
        mailbox = mailboxes.normalise(wanted) if wanted else (
            principal.mailboxes[0] if len(principal.mailboxes) == 1 else "")
        if mailbox not in principal.mailboxes:
            raise InvalidAuth(f"BAL {mailbox[:100] or '?'} non autorisée pour {principal.actor} / "
                              "mailbox not owned by the authenticated user")
        session.principal = principal
        session.mailbox = mailbox
        return MailboxIdentity(mailbox, self.config, delivery.store(self.ctx), principal.workspace)

    async def authorize(self, authenticated: IdentityInterface, authzid: str) -> IdentityInterface:
        return authenticated


class ImapSession:
    """What one connection records as evidence."""

    def __init__(self, writer: asyncio.StreamWriter, port_kind: str) -> None:
        self.id = str(uuid.uuid4())
        self.writer = writer
        self.port_kind = port_kind
        self.started_at = datetime.now(UTC)
        self.transcript: list[str] = []
        self.principal: auth.Principal | None = None
        self.mailbox = ""
        self.tls: dict[str, Any] = {}
        self.client_cert: str | None = None

    def ssl_object(self) -> Any:
        return self.writer.get_extra_info("ssl_object")

    def note(self, line: str) -> None:
        if len(self.transcript) < TRANSCRIPT_LINES:
            self.transcript.append(line)

    def tls_seen(self) -> None:
        ssl_object = self.ssl_object()
        if ssl_object is not None and not self.tls:
            self.tls = tls_facts(ssl_object)
            cert = auth.peer_certificate(ssl_object)
            self.client_cert = cert.display if cert else None


#: the connection being served, in the task that serves it (pymap runs each connection in its own task)
_current: ContextVar[ImapSession] = ContextVar("mss_imap_session")


def _session() -> ImapSession:
    return _current.get()


class MssConnection(IMAPConnection):
    """pymap's connection with a transcript and a bound on literals."""

    __slots__ = ["mss"]

    def __init__(self, *args: Any, session: ImapSession, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.mss = session

    async def _too_large(self) -> None:
        await self.write_response(ResponseBye(b"Literal or line too large, disconnecting."))
        raise EOFError()

    async def readline(self) -> memoryview:
        """pymap's own framing (a line, with its LITERAL+ data), with the size checked before
        the data is read."""
        try:
            buf = bytearray(await self.reader.readline())
            while True:
                if not buf.endswith(b"\n"):
                    raise EOFError()
                match = _LITERAL_PLUS.search(buf)
                if not match:
                    break
                if int(match.group(1)) > MAX_LITERAL:
                    self.mss.note("C: " + _redacted(bytes(buf)))
                    await self._too_large()
                buf += await self.reader.readexactly(int(match.group(1)))
                buf += await self.reader.readline()
        except ValueError:  # a line beyond the stream reader's limit
            await self._too_large()
        self.mss.note("C: " + _redacted(bytes(buf)))
        return memoryview(buf)

    async def read_continuation(self, literal_length: int) -> memoryview:
        if literal_length > MAX_LITERAL:
            await self._too_large()
        extra = await self.reader.readexactly(literal_length)
        return memoryview(extra + bytes(await self.readline()))

    async def write_response(self, resp: Response) -> None:
        data = bytes(resp)
        first = data.split(b"\r\n", 1)[0][:200].decode("utf-8", "replace")
        self.mss.note("S: " + first)
        await super().write_response(resp)

    async def start_tls(self) -> None:
        await super().start_tls()
        self.mss.tls_seen()


def _redacted(line: bytes) -> str:
    text = line[:300].decode("utf-8", "replace").rstrip("\r\n")
    words = text.split(" ")
    if len(words) >= 2 and words[1].upper() in ("LOGIN", "AUTHENTICATE"):
        return " ".join(words[:3]) + (" <credentials not kept>" if len(words) > 3 or words[1].upper() == "LOGIN"
                                      else "")
    if len(words) == 1 and len(text) > 40:  # a SASL continuation line
        return "<SASL response not kept>"
    return text


class MssImapServer(IMAPServer):
    __slots__ = ["ctx", "port_kind", "connections"]

    def __init__(self, ctx: SandboxContext, config: MssImapConfig, port_kind: str) -> None:
        super().__init__(MssLogin(ctx, config), config)  # type: ignore[arg-type]
        self.ctx = ctx
        self.port_kind = port_kind
        self.connections: set[asyncio.Task[Any]] = set()

    async def close_connections(self) -> None:
        """End the sessions still open (an idling client would otherwise outlive the listener)."""
        tasks = list(self.connections)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def __call__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                       sock_info: SocketInfo) -> None:
        task = asyncio.current_task()
        if task is not None:
            self.connections.add(task)
            task.add_done_callback(self.connections.discard)
        session = ImapSession(writer, self.port_kind)
        _current.set(session)
        session.tls_seen()
        conn = MssConnection(self.commands, self._config, reader, writer, sock_info, session=session)
        state = ConnectionState(self._login, self._config)
        from contextlib import AsyncExitStack, closing

        from pymap.context import connection_exit

        try:
            async with AsyncExitStack() as stack:
                connection_exit.set(stack)
                stack.enter_context(closing(conn))
                await conn.run(state)
        finally:
            self._record(session)

    def _record(self, session: ImapSession) -> None:
        p = session.principal
        last = next((line[2:].split(" ", 2)[1] for line in reversed(session.transcript)
                     if line.startswith("S: ") and len(line[2:].split(" ")) > 1), "")
        self.ctx.recorder.record(Exchange(
            workspace=p.workspace if p else self.ctx.settings.default_workspace, protocol=Protocol.IMAP,
            service="mss", direction=Direction.INBOUND, started_at=session.started_at, ended_at=datetime.now(UTC),
            operation="imap-session", actor=p.actor if p else (session.client_cert or ""),
            correlation_id=session.id, status=last[:40],
            summary={"port": session.port_kind, "process": os.getpid(), "mailbox": session.mailbox,
                     "tls": session.tls or None, "client_certificate": session.client_cert,
                     "auth": {"method": p.method, "persona": p.actor, **p.detail} if p else None,
                     "transcript": session.transcript}))


async def start(ctx: SandboxContext) -> list[Listener]:
    """Start both IMAP listeners in this process."""
    ctx.pki.ensure()
    tls = ctx.pki.server_context()
    settings = ctx.settings
    started: list[Listener] = []
    for name, port, implicit in (("imap", settings.imap_port, False), ("imaps", settings.imaps_port, True)):
        config = MssImapConfig(tls, starttls=not implicit)
        server = MssImapServer(ctx, config, name)
        callback = ProxyProtocolReader(config.proxy_protocol).get_callback(server)
        sock = bind(settings.host, port, reuse_port=settings.workers > 1)
        sock.listen(BACKLOG)
        aserver = await asyncio.start_server(callback, sock=sock, ssl=tls if implicit else None)

        async def close(aserver: asyncio.AbstractServer = aserver, server: MssImapServer = server) -> None:
            aserver.close()
            await server.close_connections()
            await aserver.wait_closed()

        started.append(Listener(name, sock.getsockname()[1], close))
    return started
