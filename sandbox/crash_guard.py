"""The last line of defence: a bug in a handler answers a protocol-shaped 500 (problem JSON, FHIR
OperationOutcome, OAuth error… after the path, as any framework error) and the keep-alive
connection stays open.

Starlette's own server-error middleware answers too, but then re-raises so the server logs it, and
uvicorn closes the connection on any exception that reaches it: every other request the client had
queued on that connection fails. Here the exception is logged once and swallowed once the 500 is
sent. When the response had already started, nothing valid can be sent any more: the exception
goes on, and the connection ends as before.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sandbox.errors import Wire

log = logging.getLogger(__name__)


class CrashGuard:
    def __init__(self, app: ASGIApp, *, render: Callable[[str], Wire]) -> None:
        self.app = app
        self.render = render  # path -> the generic 500 of that path's protocol

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking)
        except Exception:
            if started:
                raise
            log.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
            wire = self.render(scope["path"])
            headers = [(b"content-type", wire.media_type.encode()),
                       (b"content-length", str(len(wire.body)).encode())]
            await send({"type": "http.response.start", "status": wire.status, "headers": headers})
            await send({"type": "http.response.body", "body": wire.body})
