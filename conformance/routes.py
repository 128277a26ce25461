"""``/conformance/api``: suites, runs (create, status with the pending step, results, cancel,
re-run), report downloads and the signing key. A thin adapter over :mod:`conformance.engine`;
errors are RFC 9457 problem JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from conformance import engine
from conformance.catalogue import coverage
from conformance.model import Suite, UnknownIdError
from conformance.renderers import RENDERERS, split_signed
from conformance.signing import public_jwk
from conformance.store import Run, RunState
from sandbox.api.deps import caller
from sandbox.context import SandboxContext
from sandbox.errors import ProblemError
from sandbox.http_evidence import annotate

PREFIX = "/conformance/api"
SCHEMA_PATH = Path(__file__).parent / "schemas" / "report.schema.json"
#: the longest long poll of ``GET /runs/{id}/wait`` (seconds)
MAX_WAIT = 60.0


class RunIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    suite: str = Field(description="Suite id, e.g. dpi-ldl")
    workspace: str | None = Field(None, description="Workspace (default: X-Sandbox-Workspace or the default one)")
    inputs: dict[str, Any] = Field(default_factory=dict, description="Input name → value (a preset's content)")
    only: list[str] = Field(default_factory=list, description="Test or group ids to run (default: all)")
    lang: str | None = Field(None, description="fr | en (default: the sandbox's language)")
    step_timeout: float | None = Field(None, description="Seconds a waiting step waits (default 120)")
    quiet: float | None = Field(None, description="Seconds without a new exchange that end a negative check's wait "
                                "for trailing calls (default 0.15; raise it for a slow or human-driven software)")


class RerunIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    only: list[str] = Field(description="Test or group ids to run again; other results are kept")


def suite_summary(suite: Suite, detail: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"id": suite.id, "version": suite.version, "title": suite.title.to_dict(),
                           "description": suite.description.to_dict(), "tests": len(suite.test_ids())}
    if detail:
        out["inputs"] = [{"name": i.name, "title": i.title.to_dict(), "type": i.type_name, "default": i.default,
                          "optional": i.optional} for i in suite.inputs]
        out["groups"] = [{"id": f"{suite.id}.{g.id}", "title": g.title.to_dict(), "tests": [
            {"id": f"{suite.id}.{g.id}.{t.id}", "title": t.title.to_dict(), "description": t.description.to_dict(),
             "verifies": list(t.verifies), "optional": t.optional} for t in g.tests]} for g in suite.groups]
    return out


def build(ctx: SandboxContext) -> APIRouter:
    router = APIRouter(prefix=PREFIX, tags=["conformance"])

    def rt() -> engine.ConformanceRuntime:
        return engine.runtime(ctx)

    def base() -> str:
        return ctx.settings.base_url

    def suite_or_404(suite_id: str) -> Suite:
        try:
            return rt().suites.get(suite_id)
        except UnknownIdError as exc:
            raise ProblemError(404, "unknown-suite", f"unknown suite {suite_id!r}", given=suite_id,
                               known=exc.known) from None

    @router.get("/suites", summary="List the conformance suites")
    async def list_suites() -> dict[str, Any]:
        return {"suites": [suite_summary(s) for s in rt().suites.all()]}

    @router.get("/suites/{suite_id}", summary="One suite: inputs, groups, tests and the requirements they verify")
    async def get_suite(suite_id: str) -> dict[str, Any]:
        return suite_summary(suite_or_404(suite_id), detail=True)

    @router.get("/suites/{suite_id}/coverage", summary="Requirements in the suite's scope and the tests covering them")
    async def suite_coverage(suite_id: str) -> dict[str, Any]:
        cov = coverage(suite_or_404(suite_id), rt().catalogue)
        return {"suite": suite_id, "unknown": [{"test": t, "requirement": r} for t, r in cov.unknown],
                "requirements": [{**row.requirement.to_dict(), "tests": list(row.tests), "status": row.status}
                                 for row in cov.rows]}

    @router.get("/report.schema.json", summary="The JSON Schema of the signed report file",
                responses={200: {"content": {"application/schema+json": {}}}})
    async def report_schema() -> Response:
        return Response(SCHEMA_PATH.read_bytes(), media_type="application/schema+json")

    @router.get("/signing-key", summary="The public key (JWK) that signs conformance reports")
    async def signing_key() -> dict[str, Any]:
        return public_jwk(rt().key)

    async def run_of(request: Request, run_id: str) -> Run:
        """The run, when the caller's key opens its workspace; 404 otherwise (another workspace's
        run is not even said to exist: a workspace is a boundary)."""
        run = await rt().store.require(run_id)
        if not caller(request).may(run.workspace):
            raise ProblemError(404, "unknown-run", f"no run {run_id!r}")
        annotate(request, workspace=run.workspace)
        return run

    @router.post("/runs", status_code=201, summary="Start a run (409 if one is in progress in the workspace)")
    async def create_run(body: RunIn, request: Request) -> dict[str, Any]:
        who = caller(request)
        workspace = (body.workspace or request.headers.get("x-sandbox-workspace") or who.workspace
                     or ctx.settings.default_workspace)
        if not who.may(workspace):
            raise ProblemError(403, "other-workspace", f"this key does not open workspace {workspace[:64]!r}")
        annotate(request, workspace=workspace)
        run = await engine.start_run(rt(), workspace=workspace, suite_id=body.suite, inputs=body.inputs,
                                     only=body.only, lang=body.lang, step_timeout=body.step_timeout,
                                     quiet=body.quiet, asgi_app=request.app)
        return run.to_dict(base())

    @router.get("/runs", summary="Recent runs")
    async def list_runs(request: Request, workspace: str | None = Query(None),
                        limit: int = Query(50, ge=1, le=500)) -> dict[str, Any]:
        who = caller(request)
        if not who.operator:  # a workspace key lists its own workspace's runs only
            if workspace is not None and workspace != who.workspace:
                raise ProblemError(403, "other-workspace", f"this key does not open workspace {workspace[:64]!r}")
            workspace = who.workspace
        return {"runs": [r.to_dict(base()) for r in await rt().store.recent(workspace, limit)]}

    @router.get("/runs/{run_id}", summary="Run status, with the step it waits on (prompt and machine action)")
    async def get_run(run_id: str, request: Request) -> dict[str, Any]:
        return (await run_of(request, run_id)).to_dict(base())

    @router.get("/runs/{run_id}/wait", summary="Long poll: the run status as soon as it changes (or after timeout)",
                description="Answers with the run status (as `GET /runs/{run_id}`) as soon as its `version` differs "
                "from `after` — a new pending step, a step cleared, progress, the end of the run — or after "
                "`timeout` seconds with the status unchanged; with `until=step`, as soon as a pending step other "
                "than `after` (a `step_version`; without `after`: any step) is published. Without `after` (and "
                "`until=change`) it answers at once; a finished run answers at once. Simulators and the CLI wait "
                "for the next step this way instead of polling.")
    async def wait_run(run_id: str, request: Request,
                       after: str | None = Query(None, max_length=64, pattern="^[0-9a-f]{1,64}$",
                                                 description="The `version` (with `until=step`: the "
                                                 "`step_version`) of the status the caller has"),
                       timeout: float = Query(20.0, gt=0, le=MAX_WAIT,
                                              description=f"Seconds to wait at most (0 < timeout ≤ {MAX_WAIT:g})"),
                       until: Literal["change", "step"] = Query(
                           "change", description="`change`: any change of the status; `step`: a new pending "
                           "step (what a simulator waits for) or the end of the run"),
                       done: bool = Query(False, description="With `until=step`: the caller (a simulator) "
                                          "has performed step `after` (without `after`: none yet) and all its "
                                          "calls were answered; the runner's negative checks end at once"),
                       ) -> dict[str, Any]:
        changed = rt().store.watch(run_id)  # before reading the run: no update missed
        run = await run_of(request, run_id)
        if done:
            if until != "step":
                raise ProblemError(422, "invalid-done", "done=true needs until=step")
            rt().store.performed(run_id, after or "")
        return (await rt().store.wait_change(run_id, after, timeout, step=until == "step",
                                             current=(run, changed))).to_dict(base())

    @router.get("/runs/{run_id}/results", summary="Results recorded so far")
    async def get_results(run_id: str, request: Request) -> dict[str, Any]:
        run = await run_of(request, run_id)
        return {"run": run.id, "state": run.state, "results": [r.to_dict() for r in await rt().store.results(run.id)]}

    @router.post("/runs/{run_id}/cancel", summary="Cancel a run in progress")
    async def cancel_run(run_id: str, request: Request) -> dict[str, Any]:
        await run_of(request, run_id)
        return (await engine.cancel(rt(), run_id)).to_dict(base())

    @router.post("/runs/{run_id}/rerun", status_code=201,
                 summary="Run some tests or groups again with the same inputs; other results are carried over")
    async def rerun_run(run_id: str, body: RerunIn, request: Request) -> dict[str, Any]:
        await run_of(request, run_id)
        return (await engine.rerun(rt(), run_id, body.only, asgi_app=request.app)).to_dict(base())

    async def signed(request: Request, run_id: str) -> bytes:
        run = await run_of(request, run_id)
        data = await rt().store.report(run_id) if run.state in RunState.FINISHED else None
        if data is None:
            raise ProblemError(409, "report-not-ready", f"run {run_id!r} has no report yet (state {run.state})",
                               state=run.state)
        return data

    @router.get("/runs/{run_id}/report.json", summary="The signed canonical report (RFC 8785 JSON)")
    async def report_json(run_id: str, request: Request) -> Response:
        return Response(await signed(request, run_id), media_type="application/json",
                        headers={"Content-Disposition": f'attachment; filename="conformance-{run_id}.json"'})

    @router.get("/runs/{run_id}/report.{fmt}", summary="The report rendered: html, junit.xml or sarif")
    async def report_rendered(run_id: str, fmt: str, request: Request,
                              lang: str | None = Query(None, pattern="^(fr|en)$")) -> Response:
        name = {"html": "html", "junit.xml": "junit", "sarif": "sarif"}.get(fmt)
        if name is None:
            raise ProblemError(404, "unknown-report-format", f"no report format {fmt!r}",
                               formats=["json", "html", "junit.xml", "sarif"])
        run = await run_of(request, run_id)
        report, kid = split_signed(await signed(request, run_id))
        renderer = RENDERERS[name]
        return Response(renderer.render(report, lang or run.lang, kid), media_type=renderer.media_type)

    return router
