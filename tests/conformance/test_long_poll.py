"""Waiting without polling (issue 18, runner performance): the long poll
``GET /conformance/api/runs/{id}/wait`` that simulators and the CLI use instead of a sleep loop,
its bad input, and the quiet window of a negative check (:meth:`conformance.TestContext.quiet`),
which a simulator ends by saying it has performed the step. Real sandbox, real HTTP."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from conformance.simulate import wait_finished, wait_status
from sandbox.evidence import ExchangeFilter


def _wait(runner: Any, run_id: str, **params: Any) -> Any:
    return runner.get(f"/conformance/api/runs/{run_id}/wait", params=params)


def test_the_long_poll_answers_when_the_run_changes(runner) -> None:
    run = runner.start(only=["psc.01"], step_timeout=30).json()
    try:
        now = _wait(runner, run["id"])  # without ``after``: at once, with the status's version
        assert now.status_code == 200 and now.json()["id"] == run["id"] and now.json()["version"]
        step = _wait(runner, run["id"], until="step", timeout=20).json()  # any pending step
        assert step["pending"]["action"] == "discovery" and step["step_version"]
        # nothing changes: the poll ends at its timeout with the same status
        same = _wait(runner, run["id"], until="step", after=step["step_version"], timeout=0.2).json()
        assert same["step_version"] == step["step_version"] and same["state"] == "running"
        with ThreadPoolExecutor(1) as pool, runner.sb.client() as c:
            changed = pool.submit(wait_status, c, run["id"], step["version"], 20)
            runner.vendor()("discovery", {})  # the step is found: the run moves on
            after = changed.result().json()
        assert after["version"] != step["version"]
        final = runner.follow(run["id"], None)
        assert final["outcome"] == "pass"
        done = _wait(runner, run["id"], after=final["version"], timeout=20).json()  # a finished run: at once
        assert done["state"] == "done"
    finally:
        runner.post(f"/conformance/api/runs/{run['id']}/cancel")


def test_bad_input_of_the_long_poll_is_a_problem(runner, csb) -> None:
    run = runner.start(only=["psc.01"], step_timeout=30).json()
    try:
        cases = [
            ({"timeout": "0"}, 422), ({"timeout": "-1"}, 422), ({"timeout": "61"}, 422), ({"timeout": "soon"}, 422),
            ({"until": "forever"}, 422), ({"after": "NOT-A-VERSION"}, 422), ({"after": "a" * 65}, 422),
            ({"done": "maybe"}, 422), ({"done": "true"}, 422),  # done without until=step
        ]
        for params, status in cases:
            r = _wait(runner, run["id"], **params)
            assert r.status_code == status, (params, r.text)
            assert r.headers["content-type"].startswith("application/problem+json"), params
            assert r.json()["status"] == status
        assert _wait(runner, run["id"], done="true").json()["type"].endswith("invalid-done")
        unknown = _wait(runner, "no-such-run")
        assert unknown.status_code == 404 and unknown.json()["type"].endswith("unknown-run")
        # another workspace's key does not even learn that the run exists
        with csb.client() as c:
            created = c.post("/sandbox/api/workspaces", json={"name": f"{runner.workspace}-x"})
            assert created.status_code == 201, created.text
            key = created.json()["api_key"]
        with csb.client(key) as c:
            assert c.get(f"/conformance/api/runs/{run['id']}/wait").status_code == 404
        spec = runner.get("/openapi.json").json()["paths"]["/conformance/api/runs/{run_id}/wait"]["get"]
        assert {p["name"] for p in spec["parameters"]} == {"run_id", "after", "timeout", "until", "done"}
        bad_quiet = runner.start(only=["psc.01"], quiet=0)
        assert bad_quiet.status_code == 422 and bad_quiet.json()["type"].endswith("invalid-quiet")
    finally:
        runner.post(f"/conformance/api/runs/{run['id']}/cancel")
        runner.follow(run["id"], None)


def test_a_simulator_saying_it_performed_the_step_ends_the_quiet_window(runner) -> None:
    # the second read trails the first by far more than the quiet window: only the simulator's
    # "performed" (sent once both reads were answered) makes the negative check see both
    run = runner.run("quiet", vendor=runner.vendor(), inputs={"pause": 0.5, "expected": 2}, quiet=0.05)
    assert run["outcome"] == "pass", runner.results(run["id"])


def _play_without_saying_done(runner, run_id: str, pause: float) -> dict[str, Any]:
    """A vendor that never says it is done (like a real software): it learns the step, acts, and
    the runner's quiet window alone decides when the step is over."""
    with runner.sb.client() as c:
        step = wait_status(c, run_id, None, 20, until="step").json()
        assert step["pending"]["action"] == "discovery_twice"
        runner.vendor()("discovery_twice", {"pause": pause})
        return wait_finished(c, run_id, timeout=60)


def test_without_a_done_the_quiet_window_waits_for_trailing_calls(runner) -> None:
    r = runner.start("quiet", inputs={"pause": 0.1, "expected": 2}, quiet=2.0, step_timeout=20)
    assert r.status_code == 201, r.text
    run = _play_without_saying_done(runner, r.json()["id"], 0.1)
    assert run["outcome"] == "pass", runner.results(run["id"])


def test_a_quiet_window_ends_when_nothing_more_arrives(runner) -> None:
    # the second read comes long after the window: the negative check has ended without it
    r = runner.start("quiet", inputs={"pause": 1.5, "expected": 1}, quiet=0.1, step_timeout=20)
    assert r.status_code == 201, r.text
    run = _play_without_saying_done(runner, r.json()["id"], 1.5)
    assert run["outcome"] == "pass", runner.results(run["id"])


def test_the_recorder_wakes_the_waiters_of_the_workspace_it_records(csb, ws) -> None:
    """The in-process hook the runner's waits sleep on: an exchange of workspace W sets W's event
    (not another workspace's), and flush() then has it in the store."""
    recorder = csb.ctx.recorder

    async def take() -> tuple[asyncio.Event, asyncio.Event, asyncio.Event]:
        return (recorder.changed(ws, lambda ex: ex.service == "sandbox"), recorder.changed(f"{ws}-other"),
                recorder.changed(ws, lambda ex: ex.service == "dmp"))  # a waiter's query: no match, no wake-up

    async def settle(*events: asyncio.Event) -> tuple[list[bool], int]:
        await asyncio.wait_for(events[0].wait(), 30)
        await recorder.flush()
        found = await csb.ctx.evidence.list(ExchangeFilter(workspace=ws, service="sandbox", limit=1000))
        return [e.is_set() for e in events], len(found)

    events = asyncio.run_coroutine_threadsafe(take(), csb._loop).result(30)
    assert not any(e.is_set() for e in events)
    with csb.client() as c:  # an operator call about the workspace is recorded under it
        assert c.get(f"/sandbox/api/workspaces/{ws}/faults").status_code == 200
    woken, recorded = asyncio.run_coroutine_threadsafe(settle(*events), csb._loop).result(60)
    assert woken == [True, False, False] and recorded >= 1
