"""The evidence flush barrier and durable recording (issue 19, sandbox/evidence.py): the barrier
waits for what was recorded before it, not for what keeps arriving; a state-changing HTTP exchange
is committed before its response ends; a read is recorded in the background (the exchanges API
flushes before it lists)."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from datetime import UTC, datetime
from types import SimpleNamespace

from sandbox.evidence import Direction, Exchange, ExchangeFilter, Protocol


def _exchange(corr: str) -> Exchange:
    now = datetime.now(UTC)
    return Exchange(workspace="default", protocol=Protocol.HTTP, service="sandbox", direction=Direction.INBOUND,
                    started_at=now, ended_at=now, operation="barrier-test", correlation_id=corr)


def test_barrier_covers_what_was_recorded_before_it_under_a_steady_load(sandbox):
    corr, noise = uuid.uuid4().hex, uuid.uuid4().hex

    async def scenario() -> tuple[bool, int, bool]:
        ctx = sandbox.ctx
        for _ in range(50):
            ctx.recorder.record(_exchange(corr))
        stop = asyncio.Event()

        async def steady() -> None:  # keeps recording while the barrier waits: flush() would wait for it all
            while not stop.is_set():
                ctx.recorder.record(_exchange(noise))
                await asyncio.sleep(0.001)

        load = asyncio.create_task(steady())
        try:
            reached = await ctx.recorder.barrier(timeout=30)
            found = await ctx.evidence.list(ExchangeFilter(correlation_id=corr, limit=1000))  # no flush here
            still_busy = not ctx.recorder._queue.empty() or not stop.is_set()
        finally:
            stop.set()
            await load
        return reached, len(found), still_busy

    reached, found, still_busy = sandbox.call(scenario)
    assert reached and found == 50 and still_busy


def test_a_post_is_in_the_evidence_when_its_answer_arrives(sandbox, client):
    post, get = uuid.uuid4().hex, uuid.uuid4().hex
    assert client.post("/sandbox/api/workspaces", json={"name": f"b{post[:10]}"},
                       headers={"X-Correlation-ID": post}).status_code == 201

    async def stored(corr: str) -> int:  # straight from the database: no flush
        return len(await sandbox.ctx.evidence.list(ExchangeFilter(correlation_id=corr)))

    assert sandbox.call(stored, post) == 1
    assert client.get("/sandbox/api/workspaces", headers={"X-Correlation-ID": get}).status_code == 200
    assert len(sandbox.exchanges(correlation_id=get)) == 1  # the exchanges API flushes first


def test_a_get_whose_handler_says_it_changes_state_is_committed_before_it_ends(sandbox):
    """``annotate(request, durable=True)`` (an OIDC logout answered to a GET, say): the middleware
    holds the last chunk until the exchange is committed, as for a POST; the head leaves with it."""
    from sandbox.http_evidence import EvidenceMiddleware, annotate

    corr = uuid.uuid4().hex

    async def changes_state(scope, receive, send) -> None:  # noqa: ANN001 - an ASGI app
        annotate(scope, workspace="default", durable=True)
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"logged out", "more_body": False})

    async def scenario() -> list[int]:
        ctx = sandbox.ctx
        mw = EvidenceMiddleware(changes_state, recorder=ctx.recorder, default_workspace="default",
                                max_request_bytes=1024, services=["psc"], too_large=None)
        seen: list[int] = []

        async def receive() -> dict:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict) -> None:  # the client's side: count what is stored as each part arrives
            seen.append(len(await ctx.evidence.list(ExchangeFilter(correlation_id=corr))))

        scope = {"type": "http", "method": "GET", "path": "/psc/logout", "query_string": b"",
                 "headers": [(b"x-correlation-id", corr.encode())]}
        await mw(scope, receive, send)
        return seen

    assert sandbox.call(scenario) == [1, 1]  # stored before the head and the body reached the client


def test_an_exchange_written_with_its_change_is_recorded_once_and_a_different_answer_too(sandbox):
    """``written_with_change``: the handler writes the exchange in its own transaction and answers
    with that very response: the middleware records nothing more. A handler that answers something
    else after all (or whose transaction did not commit) gets the answer it sent recorded too."""
    from starlette.responses import Response

    from sandbox.http_evidence import EvidenceMiddleware, annotate, written_with_change

    def app(answer_as_written: bool, commit: bool):  # noqa: ANN202 - an ASGI app factory
        async def handler(scope, receive, send) -> None:  # noqa: ANN001
            annotate(scope, workspace="default")
            written = written_with_change(SimpleNamespace(scope=scope), Response(b"stored", media_type="text/plain"),
                                          summary={"stored": True})
            assert written is not None
            def change(c) -> None:  # noqa: ANN001 - the handler's transaction
                sandbox.ctx.recorder.repo.write_in(c, [written.exchange])
                if not commit:
                    raise RuntimeError("the change failed: rolled back with its exchange")

            try:
                await sandbox.ctx.db.run(change)
                written.committed()
            except RuntimeError:
                pass
            response = written.response if answer_as_written else Response(b"other", status_code=500)
            await response(scope, receive, send)
        return handler

    async def scenario(answer_as_written: bool, commit: bool) -> list[tuple[str, str]]:
        ctx, corr = sandbox.ctx, uuid.uuid4().hex
        mw = EvidenceMiddleware(app(answer_as_written, commit), recorder=ctx.recorder, default_workspace="default",
                                max_request_bytes=1024, services=["dmp"], too_large=None)

        async def receive() -> dict:
            return {"type": "http.request", "body": b"{}", "more_body": False}

        async def send(message: dict) -> None:
            pass

        scope = {"type": "http", "method": "POST", "path": "/dmp/fhir", "query_string": b"",
                 "headers": [(b"x-correlation-id", corr.encode())]}
        await mw(scope, receive, send)
        await ctx.recorder.flush()
        found = await ctx.evidence.list(ExchangeFilter(correlation_id=corr))
        return sorted((e.status, e.response_sha256 or "", e.summary.get("stored", False)) for e in found)

    stored, other = hashlib.sha256(b"stored").hexdigest(), hashlib.sha256(b"other").hexdigest()
    assert sandbox.call(scenario, True, True) == [("200", stored, True)]
    assert sandbox.call(scenario, False, True) == [("200", stored, True), ("500", other, False)]
    # rolled back: the middleware records the answer itself, without the summary of the change
    # that did not happen
    assert sandbox.call(scenario, True, False) == [("200", stored, False)]
