"""ASGI middleware recording every HTTP exchange as evidence, enforcing the request size limit
and carrying a correlation id (``X-Correlation-ID``: taken from the client or generated, echoed).

Handlers tell the middleware what it cannot see through :func:`annotate`: the workspace a token
or header selected, the actor (client id, certificate subject, persona), and — for SOAP on HTTP —
the protocol, operation and a summary, so one exchange is recorded, not two.

Durability (issue 19): for a request that may change state (any method but GET, HEAD, OPTIONS) the
exchange is committed before the response's last body chunk is sent
(:meth:`sandbox.evidence_recorder.EvidenceRecorder.record_durable`), so a client that has its full answer
has its evidence, even if the node is killed right after. Reads are recorded in the background,
unless their handler says they change state (``annotate(request, durable=True)``: e.g. an OIDC
logout or authorization answered to a GET). The response's head is held until its first body chunk
leaves (after the commit, for a one-chunk answer): both go out back to back.

Where there is a domain transaction, the exchange can be written in it instead
(:func:`written_with_change`): the handler builds its response first, writes the exchange the
middleware would have recorded with its change, then answers with that response; the middleware
records nothing more (one commit instead of two, and never a change without its exchange). If the
response sent differs from the one written, the one sent is recorded as well.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sandbox.evidence import Direction, Exchange, Protocol, time_ordered_uuid
from sandbox.evidence_recorder import EvidenceRecorder

STATE_KEY = "sandbox.evidence"
#: where exchanges go that no verified credential tied to a workspace (DESIGN "Shared sandbox")
ANONYMOUS_WORKSPACE = "anonymous"
UNRECORDED_PREFIXES = ("/docs", "/redoc", "/openapi.json", "/favicon.ico", "/sandbox/api/exchanges")
#: methods whose exchanges are recorded in the background (they change nothing: losing the last
#: few on a crash loses no trace of a change); every other one is committed before its answer ends
BATCHED_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: scope state: how to build this request's exchange for a response (set by the middleware), and
#: the exchange written with the handler's change (set by :func:`written_with_change`)
_DRAFT_KEY = "sandbox.evidence.draft"
_WRITTEN_KEY = "sandbox.evidence.written"


class WrittenWithChange:
    """The exchange of an HTTP request, for ``response``, to write in the handler's own transaction
    (:meth:`sandbox.evidence.EvidenceRepository.write_in`); call :meth:`committed` once that
    transaction has committed, then answer with :attr:`response`."""

    def __init__(self, scope: Scope, exchange: Exchange, response: Response, recorder: EvidenceRecorder) -> None:
        self.exchange = exchange
        self.response = response
        self._recorder = recorder
        self._committed = False
        scope["state"][_WRITTEN_KEY] = self

    def committed(self) -> None:
        self._committed = True
        self._recorder.committed([self.exchange])

    @property
    def is_committed(self) -> bool:
        return self._committed

    def answers(self, status: int, body: bytes) -> bool:
        """True when the response sent is the one written and its transaction committed."""
        return self._committed and status == self.response.status_code and body == self.response.body


def written_with_change(request: Any, response: Response,
                        summary: dict[str, Any] | None = None) -> WrittenWithChange | None:
    """The exchange the middleware would record for ``response`` to ``request`` (annotations made
    so far included, and ``summary`` merged into this exchange only: the transaction may still roll
    back, and the refusal then recorded must not carry it), to be written in the handler's
    transaction; None where the middleware does not record this request."""
    draft = request.scope.get("state", {}).get(_DRAFT_KEY)
    return draft(response, summary or {}) if draft is not None else None


def written_for(request: Any) -> WrittenWithChange | None:
    """The exchange :func:`written_with_change` last built for this request, if any."""
    return request.scope.get("state", {}).get(_WRITTEN_KEY)


def annotate(scope_or_request: Any, **fields: Any) -> None:
    """Attach evidence fields to the current HTTP exchange.

    Accepted fields: ``workspace``, ``actor``, ``protocol``, ``operation``, ``service``, ``summary``
    (a dict merged into the recorded summary), ``durable`` (True: commit this exchange before the
    response ends, as for a POST, although the method is GET).
    """
    scope = scope_or_request if isinstance(scope_or_request, dict) else scope_or_request.scope
    notes = scope.setdefault("state", {}).setdefault(STATE_KEY, {})
    summary = fields.pop("summary", None)
    if summary:
        notes.setdefault("summary", {}).update(summary)
    notes.update({k: v for k, v in fields.items() if v is not None})


def _header(scope: Scope, name: bytes) -> str:
    for k, v in scope.get("headers", ()):
        if k == name:
            return v.decode("latin-1")
    return ""


class EvidenceMiddleware:
    def __init__(self, app: ASGIApp, *, recorder: EvidenceRecorder, default_workspace: str,
                 max_request_bytes: int, services: list[str],
                 too_large: Any, peer_lookup: Any = None, anonymous_body_limit: int = 4096) -> None:
        self.app = app
        self.recorder = recorder
        self.default_workspace = default_workspace
        self.max_request_bytes = max_request_bytes
        self.services = set(services)
        self.too_large = too_large  # callable(path) -> ASGI app answering 413 in the right shape
        self.peer_lookup = peer_lookup  # callable(scope) -> ClientCertificate | None
        self.anonymous_body_limit = anonymous_body_limit

    def _service(self, path: str) -> str:
        # a service serving another prefix (e.g. /annuaire for mss) annotates ``service`` itself
        first = path.strip("/").split("/", 1)[0]
        return first if first in self.services else "sandbox"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        correlation = _header(scope, b"x-correlation-id")[:120] or time_ordered_uuid()
        scope.setdefault("state", {})["correlation_id"] = correlation
        declared = _header(scope, b"content-length")
        if declared.isdigit() and int(declared) > self.max_request_bytes:
            await self.too_large(path)(scope, receive, send)
            return
        record = not path.startswith(UNRECORDED_PREFIXES)
        started = datetime.now(UTC)
        # read the whole body first: the size limit holds for chunked uploads too, and the
        # evidence keeps exactly the bytes the app saw
        req_chunks: list[bytes] = []
        received = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return  # client went away
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > self.max_request_bytes:
                await self.too_large(path)(scope, receive, send)
                if record:
                    self._record(scope, path, correlation, started, 413, [], [], "")
                return
            req_chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(req_chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        if record:
            def draft(response: Response, summary: dict[str, Any]) -> WrittenWithChange:
                exchange = self._exchange(scope, path, correlation, started, response.status_code, [body],
                                          [bytes(response.body)], response.headers.get("content-type", ""))
                exchange.summary.update(summary)
                return WrittenWithChange(scope, exchange, response, self.recorder)

            scope["state"][_DRAFT_KEY] = draft

        resp_chunks: list[bytes] = []
        status = 0
        resp_type = ""
        batched_method = scope["method"] in BATCHED_METHODS
        recorded = False
        head: Message | None = None  # the response start, held until its first body chunk

        async def send_wrapper(message: Message) -> None:
            nonlocal status, resp_type, recorded, head
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-correlation-id", correlation.encode("latin-1")))
                message = {**message, "headers": headers}
                for k, v in headers:
                    if k.lower() == b"content-type":
                        resp_type = v.decode("latin-1")
                if record:
                    # the head leaves with the body: a head sent before a durable commit went out
                    # alone, one more segment for the client to wake up for and acknowledge
                    head = message
                    return
            elif message["type"] == "http.response.body" and record:
                resp_chunks.append(message.get("body", b""))
                if not message.get("more_body", False) and (
                        not batched_method or scope["state"].get(STATE_KEY, {}).get("durable")):
                    # the last chunk leaves only once the exchange is committed (group commit), unless
                    # it was committed with the handler's change
                    recorded = True
                    written = scope["state"].get(_WRITTEN_KEY)
                    if written is None or not written.answers(status, b"".join(resp_chunks)):
                        await self.recorder.record_durable(
                            self._exchange(scope, path, correlation, started, status, [body], resp_chunks,
                                           resp_type))
                if head is not None:
                    await send(head)
                    head = None
            await send(message)

        try:
            await self.app(scope, replay, send_wrapper)
        finally:
            written = scope["state"].get(_WRITTEN_KEY)
            if record and not recorded and (written is None or not written.is_committed):
                self._record(scope, path, correlation, started, status, [body], resp_chunks, resp_type)

    def _record(self, scope: Scope, path: str, correlation: str, started: datetime, status: int,
                req_chunks: list[bytes], resp_chunks: list[bytes], resp_type: str) -> None:
        self.recorder.record(self._exchange(scope, path, correlation, started, status, req_chunks, resp_chunks,
                                            resp_type))

    def _exchange(self, scope: Scope, path: str, correlation: str, started: datetime, status: int,
                  req_chunks: list[bytes], resp_chunks: list[bytes], resp_type: str) -> Exchange:
        notes: dict[str, Any] = scope.get("state", {}).get(STATE_KEY, {})
        summary = {"method": scope["method"], "path": path}
        if scope.get("query_string"):
            summary["query"] = scope["query_string"].decode("latin-1")[:2000]
        summary.update(notes.get("summary", {}))
        actor = notes.get("actor", "")
        if not actor and self.peer_lookup is not None:
            cert = self.peer_lookup(scope)
            actor = f"cert:{cert.display}" if cert else ""
        # only a workspace that a verified credential (API key, token, client, certificate) selected;
        # a bare X-Sandbox-Workspace header never writes into another vendor's evidence
        workspace = notes.get("workspace") or ANONYMOUS_WORKSPACE
        request_body, response_body = b"".join(req_chunks), b"".join(resp_chunks)
        if workspace == ANONYMOUS_WORKSPACE:  # kept short: anonymous floods must not fill the disk
            request_body = request_body[:self.anonymous_body_limit]
            response_body = response_body[:self.anonymous_body_limit]
        return Exchange(
            workspace=workspace[:64],
            protocol=Protocol(notes.get("protocol", Protocol.HTTP)),
            service=notes.get("service") or self._service(path),
            direction=Direction.INBOUND,
            started_at=started,
            ended_at=datetime.now(UTC),
            operation=notes.get("operation") or f"{scope['method']} {path}",
            actor=actor,
            correlation_id=correlation,
            status=str(status),
            summary=summary,
            request_body=request_body or None,
            request_content_type=_header(scope, b"content-type"),
            response_body=response_body or None,
            response_content_type=resp_type,
        )
