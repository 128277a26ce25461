"""The evidence recorder: a queue in front of :class:`sandbox.evidence.EvidenceRepository` with one
background writer per app (DESIGN "Evidence"; STYLE §6). Writes are batched so recording costs a
request almost nothing; :meth:`EvidenceRecorder.flush` makes them visible.

Durability (issue 19): :meth:`EvidenceRecorder.record_durable` waits until the exchange is committed
(group commit: one transaction for whatever is queued, without the batching pause). The HTTP
middleware uses it for requests that change state (every method but GET/HEAD/OPTIONS: ITI-65, PDSm
PATCH, token issuance, INSi SOAP, ...) before the response's last bytes leave, so an exchange a
client saw answered is in the evidence even after a SIGKILL of the node. Reads stay batched: what a
killed node had answered in its last batching window (about :data:`BATCH_WINDOW` plus one write)
can be lost (docs/scale.md). :meth:`EvidenceRecorder.barrier` is the flush barrier for the
conformance runner: everything recorded on this node before the call is committed when it returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sandbox.evidence import EvidenceRepository, Exchange

log = logging.getLogger(__name__)

BATCH_WINDOW = 0.02  # seconds


class EvidenceRecorder:
    """Queue in front of :class:`EvidenceRepository`; one background writer per app."""

    def __init__(self, repo: EvidenceRepository) -> None:
        self.repo = repo
        self._queue: asyncio.Queue[Exchange] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._durable_init()  # dur (issue 19)
        # -- wake-up of waiters (conformance runner, issue 18): see :meth:`changed` -------------
        self._watchers: dict[str, list[tuple[weakref.ref[asyncio.Event], Callable[[Exchange], bool] | None]]] = {}
        self._hurry = asyncio.Event()  # set by flush(): end the batch window now
        self._in_window = False

    def record(self, exchange: Exchange) -> None:
        """Record an exchange (non-blocking)."""
        self._queue.put_nowait(exchange)
        if self._watchers:
            self._wake(exchange)

    def changed(self, workspace: str, match: Callable[[Exchange], bool] | None = None) -> asyncio.Event:
        """An event set when this process next records an exchange of ``workspace`` (that
        ``match`` accepts), before it is written: :meth:`flush` then writes it at once. Take it
        *before* reading the store, then wait on it, and no exchange is missed. In-process only:
        exchanges recorded by another worker or node wake nobody here (waiters keep a bounded
        poll for those). A waiter that drops the event is forgotten."""
        event = asyncio.Event()
        waiting = [w for w in self._watchers.get(workspace, ()) if w[0]() is not None]  # forget dropped ones
        self._watchers[workspace] = [*waiting, (weakref.ref(event), match)]
        return event

    def _wake(self, exchange: Exchange) -> None:
        waiting = self._watchers.pop(exchange.workspace, None)
        keep = []
        for ref, match in waiting or ():
            event = ref()
            if event is None:
                continue
            try:
                hit = match is None or match(exchange)
            except Exception:  # a waiter's predicate must not cost the exchange: wake it, it reads the store
                hit = True
            if hit:
                event.set()
            else:
                keep.append((ref, match))
        if keep:
            self._watchers[exchange.workspace] = keep

    def committed(self, exchanges: list[Exchange]) -> None:
        """``exchanges`` were written in a domain transaction that has now committed
        (:meth:`EvidenceRepository.write_in`): wake whoever waits for them, as :meth:`record` does."""
        if self._watchers:
            for exchange in exchanges:
                self._wake(exchange)

    async def start(self) -> None:
        await self.repo.redactor()  # the salt: write_in (inside a transaction) cannot load it
        self._task = asyncio.create_task(self._run(), name="evidence-writer")

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            # let a burst accumulate: one transaction for many exchanges costs far less than many;
            # a flush() waiting for this batch, or a response held back until its exchange is
            # written (record_durable), ends the window early: nothing more to gain by waiting
            if not self._durable and not self._hurry.is_set():
                self._in_window = True
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._hurry.wait(), BATCH_WINDOW)
                self._in_window = False
            else:
                # one turn of the event loop: the requests ready to finish in it join this commit
                # instead of each paying a transaction of its own
                await asyncio.sleep(0)
            self._hurry.clear()
            while not self._queue.empty() and len(batch) < 500:
                batch.append(self._queue.get_nowait())
            self._taken += len(batch)
            written = False
            try:
                await self.repo.write(batch)
                written = True
            except Exception:  # evidence must never take a service down
                log.exception("could not record %d exchange(s)", len(batch))
            finally:
                for _ in batch:
                    self._queue.task_done()
                self._settle(batch, written)

    # --- dur (issue 19): durable recording and the flush barrier ---------------------------
    def _durable_init(self) -> None:
        self._durable: dict[str, asyncio.Future[bool]] = {}
        self._taken = 0  # exchanges the writer has taken from the queue
        self._written = 0  # ... and finished writing (committed or failed)
        self._progress = asyncio.Event()

    def _settle(self, batch: list[Exchange], written: bool) -> None:
        self._written += len(batch)
        for ex in batch:
            waiter = self._durable.pop(ex.id, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(written)
        self._progress.set()
        self._progress = asyncio.Event()

    async def record_durable(self, exchange: Exchange, timeout: float = 10.0) -> bool:
        """Record ``exchange`` and wait until it is committed; True when it is. Group commit: it
        shares a transaction with whatever else is queued. After ``timeout`` seconds (database
        stuck) it stops waiting and answers False; the exchange stays queued."""
        if self._task is None or self._task.done():  # no writer (a command): write it now
            try:
                await self.repo.write([exchange])
                return True
            except Exception:
                log.exception("could not record exchange %s", exchange.id)
                return False
        waiter: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._durable[exchange.id] = waiter
        if self._in_window:  # this response waits for the batch: end its window now
            self._hurry.set()
        self.record(exchange)
        try:
            async with asyncio.timeout(timeout):  # on expiry the waiter is cancelled, _settle skips it
                return await waiter
        except TimeoutError:
            return False

    async def barrier(self, timeout: float = 30.0) -> bool:
        """Flush barrier: wait until every exchange recorded on this node *before the call* is
        written (unlike :meth:`flush`, exchanges recorded meanwhile do not keep it waiting under a
        steady load). True when reached within ``timeout`` seconds."""
        if self._task is None or self._task.done():
            return True
        target = self._taken + self._queue.qsize()
        deadline = asyncio.get_running_loop().time() + timeout
        while self._written < target:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                return False
            try:
                await asyncio.wait_for(self._progress.wait(), left)
            except TimeoutError:
                return False
        return True
    # --- end dur

    async def flush(self) -> None:
        """Wait until every exchange recorded so far is in the database."""
        if self._task is not None and not self._task.done():
            if self._in_window or not self._queue.empty():
                self._hurry.set()
            await self._queue.join()

    async def stop(self) -> None:
        housekeeping = getattr(self, "_housekeeping", None)
        if housekeeping is not None:
            housekeeping.cancel()
        await self.flush()
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    def start_housekeeping(self, retention_days: int, quota_bytes: int, interval: float = 60.0) -> None:
        """While running: every ``interval`` seconds, drop exchanges past retention and enforce the
        per-workspace quota (not only at start-up: a busy week fills a disk too)."""
        self._housekeeping = asyncio.create_task(self._keep(retention_days, quota_bytes, interval),
                                                 name="evidence-housekeeping")

    async def _keep(self, retention_days: int, quota_bytes: int, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await self.flush()
                await self.purge_older_than(retention_days)
                if quota_bytes > 0:
                    await self.repo.enforce_quota(quota_bytes)
            except Exception:  # housekeeping must never take a service down
                log.exception("evidence housekeeping failed")

    async def purge_older_than(self, days: int) -> int:
        if days <= 0:
            return 0
        return await self.repo.purge(older_than=datetime.now(UTC) - timedelta(days=days))
