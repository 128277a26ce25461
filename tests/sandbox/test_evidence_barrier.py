"""The evidence flush barrier and durable recording (issue 19, sandbox/evidence.py): the barrier
waits for what was recorded before it, not for what keeps arriving; a state-changing HTTP exchange
is committed before its response ends; a read is recorded in the background (the exchanges API
flushes before it lists)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

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
