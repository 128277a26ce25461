"""Runs and results in the database (DESIGN "The conformance runner", *engine*: a run belongs to a
workspace and is persisted). Returns domain objects; rows stay here.

Watching a run without polling: :meth:`RunStore.wait_change` (the long poll behind
``GET /conformance/api/runs/{id}/wait``) answers as soon as the run's :attr:`Run.version` differs
from the one the caller has. :meth:`RunStore.update` wakes the waiters of this process at once;
a run executed by another process (``serve --workers``, several nodes) changes only the shared
database, so the wait also re-reads the run every :data:`WATCH_POLL` seconds — the bounded
fallback poll.

One live run per workspace: the ``conformance_locks`` primary key decides across processes and
nodes. The engine refreshes the lock's heartbeat while it runs; a lock whose heartbeat is older
than :data:`STALE_AFTER` belongs to a process that died, and the next run takes it over (the dead
run is marked ``interrupted``).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import weakref
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from conformance.context import step_version
from conformance.models import LockRow, ResultRow, RunRow
from conformance.results import TestResult
from sandbox.db import Database, as_utc
from sandbox.errors import ProblemError

STALE_AFTER = timedelta(seconds=30)
#: the long poll re-reads a run this often for changes made by another process
WATCH_POLL = 0.25


class RunState:
    RUNNING = "running"
    DONE = "done"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"
    FINISHED = (DONE, CANCELLED, INTERRUPTED)


@dataclass(frozen=True)  # not slots: cached_property needs the instance dict
class Run:
    id: str
    workspace: str
    suite: str
    suite_version: str
    state: str
    outcome: str
    lang: str
    inputs: dict[str, Any]
    selected: list[str]
    options: dict[str, Any]
    rerun_of: str | None
    created_at: datetime
    finished_at: datetime | None
    pending: dict[str, Any] | None
    current_test: str
    done_count: int
    total_count: int
    cancel_requested: bool
    has_report: bool
    error: str

    @cached_property
    def version(self) -> str:
        """Changes whenever what a watcher shows changes (state, pending step, progress…)."""
        seen = [self.state, self.outcome, self.pending, self.current_test, self.done_count, self.total_count,
                self.cancel_requested, self.has_report, self.error]
        return hashlib.sha256(json.dumps(seen, sort_keys=True, default=str).encode()).hexdigest()[:16]

    @cached_property
    def step_version(self) -> str:
        """Names the pending step (its test and start), empty when none: what a simulator watches."""
        if not self.pending:
            return ""
        return step_version(str(self.pending.get("test")), str(self.pending.get("started_at")))

    def to_dict(self, base: str = "") -> dict[str, Any]:
        link = f"{base}/conformance/api/runs/{self.id}"
        return {
            "id": self.id, "workspace": self.workspace, "suite": self.suite, "suite_version": self.suite_version,
            "state": self.state, "version": self.version, "step_version": self.step_version,
            "outcome": self.outcome, "lang": self.lang,
            "inputs": self.inputs,
            "selected": self.selected, "options": self.options, "rerun_of": self.rerun_of,
            "created_at": self.created_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "pending": self.pending, "current_test": self.current_test or None,
            "progress": {"done": self.done_count, "total": self.total_count},
            "cancel_requested": self.cancel_requested, "error": self.error or None,
            "links": {"self": link, "results": f"{link}/results",
                      **({"report": f"{link}/report.json", "html": f"{link}/report.html",
                          "junit": f"{link}/report.junit.xml", "sarif": f"{link}/report.sarif"}
                         if self.has_report else {})},
        }


def _domain(row: RunRow) -> Run:
    return Run(row.id, row.run_workspace, row.suite, row.suite_version, row.state, row.outcome, row.lang,
               row.inputs or {}, list(row.selected or []), row.options or {}, row.rerun_of, as_utc(row.created_at),
               as_utc(row.finished_at) if row.finished_at else None, row.pending, row.current_test,
               row.done_count, row.total_count, bool(row.cancel_requested), row.report is not None, row.error)


class RunStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._changed: weakref.WeakValueDictionary[str, asyncio.Event] = weakref.WeakValueDictionary()
        #: run id → the step version its vendor last said it performed (this process only)
        self._performed: dict[str, str] = {}

    def _event(self, run_id: str) -> asyncio.Event:
        event = self._changed.get(run_id)
        if event is None:
            event = self._changed[run_id] = asyncio.Event()
        return event

    def _notify(self, run_id: str) -> None:
        event = self._changed.pop(run_id, None)
        if event is not None:
            event.set()

    def performed(self, run_id: str, version: str) -> None:
        """The vendor of ``run_id`` has performed step ``version`` (``""``: none yet) and is idle."""
        self._performed[run_id] = version
        self._notify(f"performed:{run_id}")

    async def wait_performed(self, run_id: str, version: str, timeout: float) -> bool:
        """Whether the vendor says it performed step ``version`` within ``timeout`` seconds; False
        at once when it never said anything of the kind in this run (it is not a simulator)."""
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while True:
            event = self._event(f"performed:{run_id}")
            said = self._performed.get(run_id)
            left = end - loop.time()
            if said is None or said == version or left <= 0:
                return said == version
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), left)

    def watch(self, run_id: str) -> asyncio.Event:
        """Set at the next update of ``run_id`` in this process; take it before reading the run."""
        return self._event(run_id)

    async def wait_change(self, run_id: str, after: str | None, timeout: float, *, step: bool = False,
                          poll: float = WATCH_POLL, current: tuple[Run, asyncio.Event] | None = None) -> Run:
        """The run as soon as its :attr:`Run.version` differs from ``after`` (at once when
        ``after`` is None or the run is finished), else after ``timeout`` seconds as it is.

        With ``step``, only a new pending step counts: the run is returned once it has a pending
        step whose :attr:`Run.step_version` differs from ``after`` (any step when ``after`` is
        None), or has finished — a simulator is not woken by progress it ignores. ``current``:
        the run as the caller read it *after* taking :meth:`watch` (saves a read)."""
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while True:
            if current is not None:
                run, event = current
                current = None
            else:
                event = self._event(run_id)  # before reading: an update in between still wakes us
                run = await self.require(run_id)
            left = end - loop.time()
            if step:  # without ``after``: any pending step
                changed = bool(run.pending) and run.step_version != (after or "")
            else:  # without ``after``: at once
                changed = after is None or run.version != after
            if changed or run.state in RunState.FINISHED or left <= 0:
                return run
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), min(left, poll))

    async def create(self, run: RunRow) -> Run:
        """Insert ``run`` and take its workspace's lock; 409 if another run is live there."""
        now = datetime.now(UTC)
        try:
            async with self.db.session() as s:
                lock = await s.get(LockRow, run.run_workspace)
                if lock is not None:
                    if now - as_utc(lock.heartbeat_at) < STALE_AFTER:
                        raise ProblemError(
                            409, "run-in-progress",
                            f"a conformance run is already in progress in workspace {run.run_workspace!r}",
                            workspace=run.run_workspace, run=lock.run_id)
                    await s.execute(update(RunRow).where(RunRow.id == lock.run_id, RunRow.state == RunState.RUNNING)
                                    .values(state=RunState.INTERRUPTED, finished_at=now, pending=None,
                                            error="the process running it stopped"))
                    lock.run_id, lock.heartbeat_at = run.id, now
                else:
                    s.add(LockRow(workspace_name=run.run_workspace, run_id=run.id, heartbeat_at=now))
                s.add(run)
                await s.flush()
                return _domain(run)
        except IntegrityError:  # another process took the lock between our read and our insert
            raise ProblemError(409, "run-in-progress",
                               f"a conformance run is already in progress in workspace {run.run_workspace!r}",
                               workspace=run.run_workspace) from None

    async def get(self, run_id: str) -> Run | None:
        async with self.db.session() as s:
            row = await s.get(RunRow, run_id)
            return _domain(row) if row else None

    async def require(self, run_id: str) -> Run:
        run = await self.get(run_id)
        if run is None:
            raise ProblemError(404, "unknown-run", f"no conformance run {run_id!r}", run=run_id)
        return run

    async def recent(self, workspace: str | None = None, limit: int = 50) -> list[Run]:
        q = select(RunRow).order_by(RunRow.created_at.desc()).limit(limit)
        if workspace:
            q = q.where(RunRow.run_workspace == workspace)
        async with self.db.session() as s:
            return [_domain(r) for r in await s.scalars(q)]

    async def update(self, run_id: str, **values: Any) -> None:
        async with self.db.session() as s:
            await s.execute(update(RunRow).where(RunRow.id == run_id).values(**values))
        self._notify(run_id)

    async def heartbeat(self, run_id: str, workspace: str) -> None:
        async with self.db.session() as s:
            await s.execute(update(LockRow).where(LockRow.workspace_name == workspace, LockRow.run_id == run_id)
                            .values(heartbeat_at=datetime.now(UTC)))

    async def release(self, run_id: str, workspace: str) -> None:
        self._performed.pop(run_id, None)
        async with self.db.session() as s:
            await s.execute(delete(LockRow).where(LockRow.workspace_name == workspace, LockRow.run_id == run_id))

    async def save_result(self, run_id: str, position: int, result: TestResult) -> None:
        async with self.db.session() as s:
            await s.execute(delete(ResultRow).where(ResultRow.run_id == run_id, ResultRow.test_id == result.test_id))
            s.add(ResultRow(run_id=run_id, test_id=result.test_id, position=position, outcome=str(result.outcome),
                            data=result.to_dict()))

    async def test_done(self, run_id: str, position: int, result: TestResult, **values: Any) -> None:
        """Save ``result`` and update the run (progress, next test) in one transaction."""
        async with self.db.session() as s:
            await s.execute(delete(ResultRow).where(ResultRow.run_id == run_id, ResultRow.test_id == result.test_id))
            s.add(ResultRow(run_id=run_id, test_id=result.test_id, position=position, outcome=str(result.outcome),
                            data=result.to_dict()))
            await s.execute(update(RunRow).where(RunRow.id == run_id).values(**values))
        self._notify(run_id)

    async def results(self, run_id: str) -> list[TestResult]:
        async with self.db.session() as s:
            rows = await s.scalars(select(ResultRow).where(ResultRow.run_id == run_id).order_by(ResultRow.position))
            return [TestResult.from_dict(r.data) for r in rows]

    async def report(self, run_id: str) -> bytes | None:
        async with self.db.session() as s:
            return await s.scalar(select(RunRow.report).where(RunRow.id == run_id))

    async def interrupt_stale(self) -> int:
        """Mark runs whose lock went stale (their process died) as interrupted; free the locks."""
        now = datetime.now(UTC)
        async with self.db.session() as s:
            stale = list(await s.scalars(select(LockRow).where(LockRow.heartbeat_at < now - STALE_AFTER)))
            for lock in stale:
                await s.execute(update(RunRow).where(RunRow.id == lock.run_id, RunRow.state == RunState.RUNNING)
                                .values(state=RunState.INTERRUPTED, finished_at=now, pending=None,
                                        error="the process running it stopped"))
                await s.delete(lock)
            # a run with no lock at all cannot be live either
            live = select(LockRow.run_id)
            r = await s.execute(update(RunRow).where(RunRow.state == RunState.RUNNING, RunRow.id.not_in(live))
                                .values(state=RunState.INTERRUPTED, finished_at=now, pending=None,
                                        error="the process running it stopped"))
            return len(stale) + (getattr(r, "rowcount", 0) or 0)
