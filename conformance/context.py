"""The context a conformance test receives: inputs, waiting for and reading evidence, checks
that accumulate (STYLE §5), outcomes raised (Inferno's ``test_runner.rb`` maps them in one place:
:mod:`conformance.engine`), and driving steps (:class:`conformance.drive.Driver`).

Waiting — how no exchange is missed, without a sleep loop. :meth:`TestContext.wait_for` takes the
recorder's wake-up event for the run's workspace (:meth:`sandbox.evidence_recorder.EvidenceRecorder.changed`)
*before* it reads, then flushes this process's recorder (a flush barrier: everything recorded so far
is then in the database) and reads the store from the step's start; if the matches are not there
yet it sleeps on the event, which the recorder sets as soon as it records an exchange of that
workspace that the query may match (so a login of six calls costs one read, not six). So a step
ends within milliseconds of the vendor's exchange, not a poll interval later.
Across processes (``serve --workers``, several nodes) another process may record the vendor's
exchange and only the database is shared: the wait is also bounded by
:attr:`RunSettings.poll_interval` (:data:`DEFAULT_POLL_INTERVAL`), a fallback poll that costs one
query per interval. At the deadline one last flush-and-read runs after a grace of a few batch
windows, so an exchange another process recorded just before the deadline still counts.

Quiet windows — the one wait that remains. A negative check ("the software sent nothing else for
this step") cannot be answered by an exchange: absence has no event. :meth:`TestContext.quiet`
ends as soon as the vendor says it has performed the step — a simulator does, by asking for the
next step with ``GET /conformance/api/runs/{id}/wait?until=step&done=true`` (in-process only; its
calls are all answered, hence recorded, by then) — and otherwise waits until no new matching
exchange has been recorded for :attr:`RunSettings.quiet` seconds (each new one restarts the
window, up to :data:`MAX_QUIET_ROUNDS` windows), with the same wake-up and barrier. The window is a
run option (``quiet``, default :data:`DEFAULT_QUIET` — the longest pause a software makes between
two calls of one step; raise it for a slow or human-driven software).

Correlation — never by luck. Every query is confined to the run's workspace and to exchanges that
started after the step was published (after the run started for :meth:`TestContext.find`), and
the test says which client, persona, patient and operation it expects. The runner's own driving
calls and the ``/conformance/api`` polling are never candidates.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NoReturn

from conformance.outcome import Outcome
from conformance.query import EvidenceQuery
from conformance.results import EXCERPT_BYTES, BodyCitation, CitedExchange, Finding, TestResult
from conformance.text import Message, Text
from sandbox.evidence import Exchange, ExchangeFilter
from sandbox.evidence_recorder import BATCH_WINDOW

if TYPE_CHECKING:
    from conformance.drive import Driver
    from sandbox.context import SandboxContext

#: correlation ids of the runner's own driving calls start with this (never matched by a query)
DRIVE_CORRELATION_PREFIX = "conformance-drive-"
#: exchanges of these services are the runner's own traffic (run status polling), never evidence
RUNNER_SERVICES = ("conformance",)
#: the fallback poll of a waiting step (exchanges recorded by another process wake nobody here)
DEFAULT_POLL_INTERVAL = 0.25
#: seconds without a new matching exchange that end a quiet window (see the module docstring)
DEFAULT_QUIET = 0.15
#: a software that keeps calling cannot hold a quiet window open for ever
MAX_QUIET_ROUNDS = 20
#: bodies of one test copied as excerpts into the report; later ones are cited by hash only
MAX_EXCERPTS_PER_TEST = 24
DEFAULT_STEP_TIMEOUT = 120.0

WAIT_TIMEOUT = Message(
    "runner.wait.timeout",
    "Rien n'est arrivé dans le délai de {timeout} s : {what} (attendu : {count}, reçu : {got}).",
    "Nothing arrived within {timeout} s: {what} (expected: {count}, received: {got}).",
    "Vérifiez que le logiciel a bien effectué l'action demandée, dans l'espace de travail {workspace}, "
    "avec le client et la personne attendus.",
    "Check that the software performed the requested action, in workspace {workspace}, with the "
    "expected client and persona.",
)
BODY_NOT_JSON = Message("runner.body.not-json", "Le corps de l'échange {exchange} n'est pas du JSON : {error}.",
                        "The body of exchange {exchange} is not JSON: {error}.")


def _candidate(ex: Exchange) -> bool:
    """Not the runner's own traffic (its driving calls, the run status requests)."""
    return ex.service not in RUNNER_SERVICES and not ex.correlation_id.startswith(DRIVE_CORRELATION_PREFIX)


async def _wait_event(event: asyncio.Event, timeout: float) -> None:
    """Until ``event`` is set or ``timeout`` seconds have passed."""
    if timeout > 0 and not event.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)


class OutcomeSignal(BaseException):  # noqa: N818 - a signal, like pytest's outcomes
    """Raised by :meth:`TestContext.fail` / ``skip`` / ``omit``; a BaseException so that a test's
    own ``except Exception`` cannot swallow it."""

    outcome: Outcome = Outcome.FAIL

    def __init__(self, finding: Finding | None = None) -> None:
        super().__init__(finding.text.en if finding else "")
        self.finding = finding


class TestFailed(OutcomeSignal):
    __test__ = False
    outcome = Outcome.FAIL


class TestSkipped(OutcomeSignal):
    __test__ = False
    outcome = Outcome.SKIP


class TestOmitted(OutcomeSignal):
    __test__ = False
    outcome = Outcome.OMIT


@dataclass(frozen=True)
class PendingStep:
    """What the run waits for now: shown to the vendor, and machine-readable for simulators."""

    test_id: str
    prompt: Text
    action: str | None
    params: dict[str, Any]
    awaiting: str
    count: int
    started_at: datetime
    deadline: datetime
    seen: int = 0

    @property
    def version(self) -> str:
        return step_version(self.test_id, self.started_at.isoformat())

    def to_dict(self) -> dict[str, Any]:
        return {"test": self.test_id, "prompt": self.prompt.to_dict(), "action": self.action,
                "params": self.params, "awaiting": self.awaiting, "count": self.count, "seen": self.seen,
                "started_at": self.started_at.isoformat(), "deadline": self.deadline.isoformat()}


Publisher = Callable[[PendingStep | None], Awaitable[None]]
#: ``(step version, timeout) -> bool``: whether the vendor said, within ``timeout`` s, that it performed that step
PerformedWaiter = Callable[[str, float], Awaitable[bool]]


def step_version(test_id: str, started_at: str) -> str:
    """Names one published step (its test and start); the ``step_version`` of the run status."""
    return hashlib.sha256(f"{test_id}|{started_at}".encode()).hexdigest()[:16]


@dataclass
class RunSettings:
    """Per-run knobs shared by every test context of a run."""

    run_id: str
    workspace: str
    lang: str
    started_at: datetime
    step_timeout: float = DEFAULT_STEP_TIMEOUT
    poll_interval: float = DEFAULT_POLL_INTERVAL
    quiet: float = DEFAULT_QUIET
    extras: dict[str, Any] = field(default_factory=dict)


class TestContext:
    """Given to every test. Public surface: ``inputs``, ``workspace``, ``lang``, ``drive``,
    :meth:`wait_for`, :meth:`find`, the body readers, :meth:`check`, :meth:`note`, :meth:`fail`,
    :meth:`skip`, :meth:`omit`."""

    __test__ = False

    def __init__(self, sandbox: SandboxContext, run: RunSettings, inputs: Mapping[str, Any], result: TestResult,
                 publish: Publisher, drive: Driver, performed: PerformedWaiter | None = None) -> None:
        self.sandbox = sandbox
        self.run = run
        self.inputs: Mapping[str, Any] = inputs
        self.result = result
        self._publish = publish
        self._performed = performed
        self._last_step: PendingStep | None = None
        self.drive = drive
        self._cited: dict[str, CitedExchange] = {}
        self._bodies: dict[str, bytes] = {}
        self._excerpts = 0

    # -- identity of the run --------------------------------------------------------------
    @property
    def workspace(self) -> str:
        return self.run.workspace

    @property
    def lang(self) -> str:
        return self.run.lang

    @property
    def test_id(self) -> str:
        return self.result.test_id

    # -- evidence ---------------------------------------------------------------------------
    async def find(self, query: EvidenceQuery) -> list[Exchange]:
        """Exchanges already recorded in the run's workspace since the run started, oldest first."""
        return await self._fetch(query.with_since(self.run.started_at))

    async def wait_for(self, query: EvidenceQuery, *, prompt: Text, action: str | None = None,
                       params: dict[str, Any] | None = None, timeout: float | None = None,
                       count: int = 1) -> list[Exchange]:
        """Publish ``prompt`` (and ``action``/``params`` for simulators) as the run's pending step
        and wait until ``count`` exchanges matching ``query`` have been recorded after it.

        Returns every match found at that moment (at least ``count``), oldest first, each cited
        in the result. On timeout the test fails with a message saying what never arrived."""
        timeout = self.run.step_timeout if timeout is None else timeout
        started = datetime.now(UTC)
        q = query.with_since(started)
        deadline = started.timestamp() + timeout
        step = PendingStep(self.test_id, prompt, action, dict(params or {}), q.describe(), count, started,
                           datetime.fromtimestamp(deadline, UTC))
        await self._publish(step)
        self._last_step = step
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        seen = 0
        try:
            while True:
                woken = self._changed(q)  # before reading: nothing missed
                found = await self._fetch(q)
                if len(found) >= count:
                    break
                if len(found) != seen:
                    seen = len(found)
                    step = PendingStep(**{**step.__dict__, "seen": seen})
                    await self._publish(step)
                left = end - loop.time()
                if left <= 0:
                    await asyncio.sleep(BATCH_WINDOW * 5)  # grace: another process's write under way lands
                    found = await self._fetch(q)
                    if len(found) >= count:
                        break
                    for ex in found:
                        self._cite(ex)
                    self.fail(WAIT_TIMEOUT, timeout=f"{timeout:g}", what=q.describe(), count=count,
                              got=len(found), workspace=self.workspace)
                await _wait_event(woken, min(left, self.run.poll_interval))
        finally:
            await self._publish(None)
        for ex in found:
            self._cite(ex)
        return found

    async def quiet(self, query: EvidenceQuery, since: datetime, *, seconds: float | None = None) -> list[Exchange]:
        """Exchanges matching ``query`` since ``since`` once the step's trailing calls have landed,
        oldest first: for a negative check. When the vendor says it performed this test's last
        step (a simulator does, through ``/wait?done=true``), that is the end; otherwise once no
        new match has been recorded for ``seconds`` (default: the run's quiet window). See the
        module docstring for why this waits."""
        window = self.run.quiet if seconds is None else seconds
        q = query.with_since(since)
        step = self._last_step
        # a vendor that tells when it has performed a step does so once its calls are over
        # (only a step with an action is performed by a simulator)
        if (step is not None and step.action and self._performed is not None
                and await self._performed(step.version, self.run.step_timeout)):
            # its last response left before it said so; that exchange is recorded right after
            await asyncio.sleep(BATCH_WINDOW)
            return sorted(await self._fetch(q), key=lambda e: (e.started_at, e.id))
        loop = asyncio.get_running_loop()
        found: list[Exchange] = []
        for _ in range(MAX_QUIET_ROUNDS):
            quiet_until = loop.time() + window
            before = len(found)
            while True:
                woken = self._changed(q)
                found = await self._fetch(q)
                left = quiet_until - loop.time()
                if len(found) != before or left <= 0:
                    break
                await _wait_event(woken, min(left, self.run.poll_interval))
            if len(found) == before and loop.time() >= quiet_until:
                break
        return sorted(found, key=lambda e: (e.started_at, e.id))

    def _changed(self, q: EvidenceQuery) -> asyncio.Event:
        """Set when this process records an exchange ``q`` may match (one read per candidate, not
        one per exchange of the workspace)."""
        return self.sandbox.recorder.changed(self.workspace, lambda ex: _candidate(ex) and q.matches(ex))

    async def _fetch(self, q: EvidenceQuery) -> list[Exchange]:
        await self.sandbox.recorder.flush()
        out: list[Exchange] = []
        offset = 0
        while True:
            page = await self.sandbox.evidence.list(ExchangeFilter(
                workspace=self.workspace, protocol=q.protocol, service=q.service,
                correlation_id=q.correlation_id, since=q.since, until=q.until, limit=1000, offset=offset))
            out.extend(ex for ex in page if _candidate(ex) and q.matches(ex))
            if len(page) < 1000:
                return out
            offset += len(page)

    async def request_body(self, ex: Exchange) -> bytes:
        """The recorded request body (empty if none); cites the exchange."""
        return await self._body(ex, ex.request_sha256)

    async def response_body(self, ex: Exchange) -> bytes:
        """The recorded response body (empty if none); cites the exchange."""
        return await self._body(ex, ex.response_sha256)

    async def request_json(self, ex: Exchange) -> Any:
        """The request body parsed as JSON; the test fails (with a message) if it is not JSON."""
        return self._json(ex, await self.request_body(ex))

    async def response_json(self, ex: Exchange) -> Any:
        return self._json(ex, await self.response_body(ex))

    def _json(self, ex: Exchange, data: bytes) -> Any:
        try:
            return json.loads(data)
        except (ValueError, UnicodeDecodeError) as exc:
            self.fail(BODY_NOT_JSON, exchanges=(ex,), exchange=ex.id, error=str(exc).splitlines()[0][:200])

    async def _body(self, ex: Exchange, sha: str | None) -> bytes:
        await self._cite_with_bodies(ex)
        if not sha:
            return b""
        return self._bodies.get(sha, b"")

    def _cite(self, ex: Exchange) -> CitedExchange:
        cited = self._cited.get(ex.id)
        if cited is None:
            cited = CitedExchange(ex.id, ex.service, str(ex.protocol), ex.operation, str(ex.status), ex.actor,
                                  ex.correlation_id, ex.started_at.isoformat())
            self._cited[ex.id] = cited
            self.result.exchanges.append(cited)
        return cited

    async def _cite_with_bodies(self, ex: Exchange) -> CitedExchange:
        cited = self._cite(ex)
        for attr, sha in (("request", ex.request_sha256), ("response", ex.response_sha256)):
            if sha and getattr(cited, attr) is None:
                stored = await self.sandbox.evidence.body(sha)
                if stored is None:
                    continue
                self._bodies[sha] = stored.data
                self._excerpts += 1
                # bounded: a retry storm of 500 calls cites 500 hashes, not 500 excerpts
                room = EXCERPT_BYTES if self._excerpts <= MAX_EXCERPTS_PER_TEST else 0
                excerpt = stored.data[:room].decode("utf-8", errors="replace")
                setattr(cited, attr, BodyCitation(stored.sha256, stored.size, stored.size > room,
                                                  stored.content_type, excerpt, stored.truncated))
        return cited

    async def cite(self, *exchanges: Exchange) -> None:
        """Cite exchanges with their bodies' SHA-256 and excerpts without reading them."""
        for ex in exchanges:
            await self._cite_with_bodies(ex)

    # -- checks and outcomes ----------------------------------------------------------------
    def _finding(self, msg: Message, at: str | None, exchanges: Iterable[Exchange | str], level: str,
                 fmt: dict[str, Any]) -> Finding:
        ids = []
        for ex in exchanges:
            if isinstance(ex, Exchange):
                self._cite(ex)
                ids.append(ex.id)
            else:
                ids.append(str(ex))
        return Finding(msg.id, msg.text(**fmt), msg.hint(**fmt), at, tuple(ids), level)

    def check(self, ok: bool, msg: Message, *, at: str | None = None,
              exchanges: Iterable[Exchange | str] = (), **fmt: Any) -> bool:
        """Record a failed check when ``ok`` is false (the test goes on); return ``ok``."""
        self.result.checks += 1
        if not ok:
            self.result.findings.append(self._finding(msg, at, exchanges, "fail", fmt))
        return bool(ok)

    def note(self, msg: Message, *, at: str | None = None, exchanges: Iterable[Exchange | str] = (),
             **fmt: Any) -> None:
        """Record an informative message (does not change the outcome)."""
        self.result.findings.append(self._finding(msg, at, exchanges, "info", fmt))

    def fail(self, msg: Message, *, at: str | None = None, exchanges: Iterable[Exchange | str] = (),
             **fmt: Any) -> NoReturn:
        """Record ``msg`` and stop the test with ``fail``."""
        finding = self._finding(msg, at, exchanges, "fail", fmt)
        self.result.findings.append(finding)
        raise TestFailed(finding)

    def skip(self, reason: Text) -> NoReturn:
        """Stop the test with ``skip``: it could not be judged (not a pass)."""
        finding = Finding("runner.skip", reason, level="info")
        self.result.findings.append(finding)
        raise TestSkipped(finding)

    def omit(self, reason: Text) -> NoReturn:
        """Stop the test with ``omit``: it does not apply."""
        finding = Finding("runner.omit", reason, level="info")
        self.result.findings.append(finding)
        raise TestOmitted(finding)
