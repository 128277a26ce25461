"""The client-testing engine: runs a suite's tests one after the other inside the sandbox, maps
what each test raised to its outcome in one place (Inferno's ``test_runner.rb``), persists every
result as it lands, then builds, signs and stores the report (DESIGN "The conformance runner").

A run lives in the process that started it (an asyncio task); its state is in the database, so
any process answers status requests, a cancel request set through any process is seen within
:data:`WATCH_INTERVAL`, and a finished run survives restarts.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from joserfc.jwk import OKPKey

from conformance import signing
from conformance.catalogue import FOLDER as REQUIREMENTS_FOLDER
from conformance.catalogue import Catalogue, load_catalogue
from conformance.context import (
    DEFAULT_POLL_INTERVAL,
    DEFAULT_QUIET,
    DEFAULT_STEP_TIMEOUT,
    DRIVE_CORRELATION_PREFIX,
    OutcomeSignal,
    PendingStep,
    RunSettings,
    TestContext,
)
from conformance.drive import Driver
from conformance.model import PresetError, Suite, TestRef, UnknownIdError
from conformance.models import RunRow
from conformance.outcome import Outcome, roll_up_results
from conformance.registry import SuiteRegistry
from conformance.report import RunFacts, build_report, seal
from conformance.results import Finding, TestResult
from conformance.store import Run, RunState, RunStore
from conformance.text import Text
from sandbox import __version__ as sandbox_version
from sandbox.errors import ProblemError
from sandbox.evidence import time_ordered_uuid

if TYPE_CHECKING:
    from sandbox.context import SandboxContext

log = logging.getLogger(__name__)

STATE_KEY = "conformance"
WATCH_INTERVAL = 2.0
MAX_STEP_TIMEOUT = 3600.0
MAX_QUIET = 60.0


@dataclass
class ConformanceRuntime:
    """Per-app objects of the conformance service (``ctx.state["conformance"]``)."""

    sandbox: SandboxContext
    suites: SuiteRegistry
    catalogue: Catalogue
    store: RunStore
    #: runs executing in this process
    tasks: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    _versions: dict[str, str] | None = None
    _key: OKPKey | None = None

    async def load_key(self) -> None:
        """Read the deployment's signing key from the database (at startup: it needs the database,
        the runtime is built before it is migrated)."""
        settings = self.sandbox.settings
        self._key = await signing.load_shared(self.sandbox.db, settings.pki_dir, settings.pki_secret_path)

    @property
    def key(self) -> OKPKey:
        """The report-signing key every node of the database shares (:mod:`conformance.signing`)."""
        if self._key is None:
            raise RuntimeError("the conformance service has not started: its signing key is not loaded")
        return self._key

    def versions(self) -> dict[str, str]:
        """Versions of what judged the run: sandbox, profiles, terminology, requirements."""
        if self._versions is None:
            import profiles

            base = Path(profiles.__file__).parent
            self._versions = {
                "sandbox": sandbox_version,
                "profiles": _folder_digest(base / "definitions", base / "data"),
                "terminology": _folder_digest(base / "terminology"),
                "requirements": _folder_digest(REQUIREMENTS_FOLDER),
            }
        return dict(self._versions)


def _folder_digest(*folders: Path) -> str:
    """``sha256:<12 hex>`` over the names and bytes of every file (a content version)."""
    h = hashlib.sha256()
    for folder in folders:
        for path in sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
            h.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes())
    return "sha256:" + h.hexdigest()[:12]


def runtime(ctx: SandboxContext, extra_suites: Sequence[Suite] = ()) -> ConformanceRuntime:
    rt = ctx.state.get(STATE_KEY)
    if rt is None:
        rt = ConformanceRuntime(ctx, SuiteRegistry.discover(extra_suites), load_catalogue(), RunStore(ctx.db))
        ctx.state[STATE_KEY] = rt
    return rt


def _problem_for(exc: UnknownIdError | PresetError) -> ProblemError:
    if isinstance(exc, UnknownIdError):
        return ProblemError(404, f"unknown-{exc.kind}", f"unknown {exc.kind} {exc.given!r}",
                            given=exc.given, known=exc.known[:200])
    return ProblemError(422, "invalid-inputs", exc.text.en, field=exc.field, detail_fr=exc.text.fr)


async def start_run(rt: ConformanceRuntime, *, workspace: str, suite_id: str, inputs: dict[str, Any],
                    only: Sequence[str] = (), lang: str | None = None, step_timeout: float | None = None,
                    quiet: float | None = None, asgi_app: Any = None, rerun_of: Run | None = None) -> Run:
    """Check the request, persist the run (refused with 409 if one is live in ``workspace``) and
    start executing it in this process."""
    await rt.sandbox.workspaces.require(workspace)
    try:
        suite = rt.suites.get(suite_id)
        refs = suite.select(only)
        resolved = suite.resolve_inputs(inputs)
    except (UnknownIdError, PresetError) as exc:
        raise _problem_for(exc) from None
    timeout = DEFAULT_STEP_TIMEOUT if step_timeout is None else float(step_timeout)
    if not 0 < timeout <= MAX_STEP_TIMEOUT:
        raise ProblemError(422, "invalid-step-timeout", f"step_timeout must be in (0, {MAX_STEP_TIMEOUT:g}] seconds")
    quiet = DEFAULT_QUIET if quiet is None else float(quiet)
    if not 0 < quiet <= MAX_QUIET:
        raise ProblemError(422, "invalid-quiet", f"quiet must be in (0, {MAX_QUIET:g}] seconds")
    lang = lang or rt.sandbox.settings.language
    if lang not in ("fr", "en"):
        raise ProblemError(422, "invalid-language", "lang must be 'fr' or 'en'")
    carried: list[TestResult] = []
    if rerun_of is not None:
        chosen = {r.full_id for r in refs}
        carried = [r for r in await rt.store.results(rerun_of.id) if r.test_id not in chosen]
    now = datetime.now(UTC)
    row = RunRow(id=time_ordered_uuid(), run_workspace=workspace, suite=suite.id, suite_version=suite.version,
                 state=RunState.RUNNING, outcome=str(Outcome.WAIT), lang=lang, inputs=resolved,
                 selected=[r.full_id for r in refs], options={"step_timeout": timeout, "quiet": quiet},
                 rerun_of=rerun_of.id if rerun_of else None, created_at=now, pending=None, current_test="",
                 done_count=0, total_count=len(refs), cancel_requested=0, report=None, error="")
    run = await rt.store.create(row)
    positions = {tid: i for i, tid in enumerate(suite.test_ids())}
    for r in carried:
        await rt.store.save_result(run.id, positions.get(r.test_id, 0), r)
    task = asyncio.create_task(_execute(rt, run, suite, refs, positions, [r.test_id for r in carried], asgi_app),
                               name=f"conformance-run-{run.id}")
    rt.tasks[run.id] = task
    task.add_done_callback(lambda _t: rt.tasks.pop(run.id, None))
    return run


async def rerun(rt: ConformanceRuntime, run_id: str, only: Sequence[str], asgi_app: Any = None) -> Run:
    """A new run of the same suite, workspace and inputs for the tests or groups in ``only``;
    the previous run's other results are carried over (and marked so in the report)."""
    parent = await rt.store.require(run_id)
    if not only:
        raise ProblemError(422, "nothing-to-rerun", "name the tests or groups to run again")
    return await start_run(rt, workspace=parent.workspace, suite_id=parent.suite, inputs=parent.inputs, only=only,
                           lang=parent.lang, step_timeout=parent.options.get("step_timeout"),
                           quiet=parent.options.get("quiet"), asgi_app=asgi_app,
                           rerun_of=parent)


async def cancel(rt: ConformanceRuntime, run_id: str) -> Run:
    run = await rt.store.require(run_id)
    if run.state == RunState.RUNNING:
        await rt.store.update(run_id, cancel_requested=1)
        task = rt.tasks.get(run_id)
        if task is not None:
            task.cancel()
    return await rt.store.require(run_id)


def _one_line(exc: BaseException) -> str:
    """``ValueError: bad thing (tests.py:42)``: the crash in one line; the traceback goes to the log."""
    first = (str(exc).strip().splitlines() or [""])[0][:300]
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" ({Path(frames[-1].filename).name}:{frames[-1].lineno})" if frames else ""
    return f"{type(exc).__name__}{': ' + first if first else ''}{where}"


async def run_test(rt: ConformanceRuntime, run: Run, ref: TestRef, settings: RunSettings, inputs: dict[str, Any],
                   asgi_app: Any = None) -> TestResult:
    """Run one test and map what it raised to its outcome (the only place this mapping exists)."""
    result = TestResult(ref.full_id, ref.test.title, ref.test.verifies, ref.test.optional,
                        started_at=datetime.now(UTC).isoformat())
    driver = Driver(rt.sandbox, run.workspace, result, f"{DRIVE_CORRELATION_PREFIX}{run.id}-", asgi_app)

    async def publish(step: PendingStep | None) -> None:
        # a step found is cleared with the test's result (one write less per step; a simulator
        # ignores a step it performed, and a next step of the test replaces it anyway)
        if step is not None:
            await rt.store.update(run.id, pending=step.to_dict())

    async def performed(version: str, timeout: float) -> bool:
        return await rt.store.wait_performed(run.id, version, timeout)

    ctx = TestContext(rt.sandbox, settings, inputs, result, publish, driver, performed)
    try:
        await ref.test.run(ctx)
        result.outcome = Outcome.FAIL if any(f.level == "fail" for f in result.findings) else Outcome.PASS
    except OutcomeSignal as signal:
        result.outcome = signal.outcome
    except asyncio.CancelledError:
        result.outcome = Outcome.CANCEL
        result.findings.append(Finding("runner.cancelled", Text("Exécution annulée.", "Run cancelled."), level="info"))
        raise
    except Exception as exc:  # a crash is not a failure (STYLE §3)
        log.exception("conformance test %s crashed", ref.full_id)
        result.outcome = Outcome.ERROR
        line = _one_line(exc)
        result.findings.append(Finding("runner.error", Text(f"Erreur du test : {line}", f"Test error: {line}"),
                                       level="error"))
    finally:
        result.ended_at = datetime.now(UTC).isoformat()
        try:
            await driver.cleanup()
        except Exception as exc:
            log.exception("cleaning up after %s failed", ref.full_id)
            result.outcome = Outcome.ERROR
            line = _one_line(exc)
            result.findings.append(Finding("runner.cleanup-error", Text(f"Nettoyage impossible : {line}",
                                                                        f"Cleanup failed: {line}"), level="error"))
    return result


async def _watch(rt: ConformanceRuntime, run: Run, task: asyncio.Task[Any]) -> None:
    """Keep the workspace lock alive and pass on a cancel requested through another process."""
    while True:
        await asyncio.sleep(WATCH_INTERVAL)
        await rt.store.heartbeat(run.id, run.workspace)
        current = await rt.store.get(run.id)
        if current is not None and current.cancel_requested:
            task.cancel()
            return


async def _execute(rt: ConformanceRuntime, run: Run, suite: Suite, refs: list[TestRef], positions: dict[str, int],
                   carried: list[str], asgi_app: Any) -> None:
    settings = RunSettings(run.id, run.workspace, run.lang, run.created_at,
                           step_timeout=float(run.options.get("step_timeout", DEFAULT_STEP_TIMEOUT)),
                           poll_interval=DEFAULT_POLL_INTERVAL,
                           quiet=float(run.options.get("quiet", DEFAULT_QUIET)))
    state = RunState.DONE
    error = ""
    current = asyncio.current_task()
    assert current is not None
    watcher = asyncio.create_task(_watch(rt, run, current))
    done = 0
    try:
        if refs:
            await rt.store.update(run.id, current_test=refs[0].full_id)
        for i, ref in enumerate(refs):
            try:
                result = await run_test(rt, run, ref, settings, dict(run.inputs), asgi_app)
            except asyncio.CancelledError:
                state = RunState.CANCELLED
                for later in refs[i:]:
                    cancelled = TestResult(later.full_id, later.test.title, later.test.verifies, later.test.optional,
                                           outcome=Outcome.CANCEL)
                    await rt.store.save_result(run.id, positions[later.full_id], cancelled)
                break
            done += 1
            # the result, the progress and the next test in one transaction (one wake-up of watchers)
            await rt.store.test_done(run.id, positions[ref.full_id], result, done_count=done, pending=None,
                                     current_test=refs[i + 1].full_id if i + 1 < len(refs) else "")
    except asyncio.CancelledError:  # cancelled between two tests
        state = RunState.CANCELLED
    except Exception as exc:  # the runner itself failed (database gone…): the run ends in error
        log.exception("conformance run %s failed", run.id)
        state, error = RunState.INTERRUPTED, _one_line(exc)
    finally:
        watcher.cancel()
        await asyncio.shield(_finish(rt, run, suite, state, error, carried))


async def _finish(rt: ConformanceRuntime, run: Run, suite: Suite, state: str, error: str, carried: list[str]) -> None:
    try:
        results = await rt.store.results(run.id)
        ws = await rt.sandbox.workspaces.get(run.workspace)
        finished = datetime.now(UTC)
        facts = RunFacts(run.id, run.workspace, run.lang, state, run.created_at.isoformat(), finished.isoformat(),
                         run.inputs, run.selected, run.rerun_of, carried, {**rt.versions(), "suite": suite.version},
                         {k: v for k, v in (ws.options if ws else {}).items() if v not in (False, None)})
        report = build_report(facts, suite, results, rt.catalogue)
        outcome = roll_up_results((r.outcome, r.optional) for r in results)
        await rt.store.update(run.id, state=state, outcome=str(outcome), finished_at=finished, pending=None,
                              current_test="", report=seal(report, rt.key), error=error)
    except Exception as exc:
        log.exception("could not finish conformance run %s", run.id)
        await rt.store.update(run.id, state=RunState.INTERRUPTED, outcome=str(Outcome.ERROR), pending=None,
                              finished_at=datetime.now(UTC), error=_one_line(exc))
    finally:
        await rt.store.release(run.id, run.workspace)
