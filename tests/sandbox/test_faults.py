"""Fault injection registry: services declare kinds, workspaces script them (issue 2)."""

import pytest
from fastapi import APIRouter, Request

from sandbox.services import FaultKind, Service, discover
from sandbox.testing import running_sandbox


def _echo_service() -> Service:
    """A throw-away service registered through the same mechanism as the real ones."""

    def routers(ctx):
        router = APIRouter()

        @router.get("/echo/ping")
        async def ping(request: Request):
            ws = request.headers.get("x-sandbox-workspace", "default")
            fault = await ctx.faults.take(ws, "echo", "ping")
            return {"fault": fault.kind if fault else None, "params": fault.params if fault else {}}

        return [router]

    return Service(name="echo", title="Echo", routers=routers, fault_kinds=(
        FaultKind("boom", "answer with a fault", operations=("ping", "pong")),
        FaultKind("slow", "wait", params={"delay_ms": "milliseconds"}),
    ))


@pytest.fixture(scope="module")
def echo_sandbox():
    with running_sandbox(services=[*discover(), _echo_service()]) as sb:
        yield sb


def _fire(c, n, ws="default"):
    return [c.get("/echo/ping", headers={"X-Sandbox-Workspace": ws}).json()["fault"] for _ in range(n)]


def test_times_then_exhausted(echo_sandbox):
    with echo_sandbox.client() as c:
        r = c.post("/sandbox/api/workspaces/default/faults",
                   json={"service": "echo", "operation": "ping", "kind": "boom", "times": 2, "params": {"x": 1}})
        assert r.status_code == 201 and r.json()["times"] == 2
        assert _fire(c, 3) == ["boom", "boom", None]
        listed = c.get("/sandbox/api/workspaces/default/faults").json()["faults"]
        assert listed[0]["fired"] == 2 and listed[0]["exhausted"] is True
        assert c.delete("/sandbox/api/workspaces/default/faults").json()["cleared"] == 1


def test_ratio_is_deterministic(echo_sandbox):
    with echo_sandbox.client() as c:
        c.post("/sandbox/api/workspaces/default/faults", json={"service": "echo", "kind": "slow", "ratio": 0.5})
        assert _fire(c, 6) == [None, "slow", None, "slow", None, "slow"]
        c.delete("/sandbox/api/workspaces/default/faults", params={"service": "echo"})
        assert _fire(c, 1) == [None]


def test_default_is_once_and_workspaces_are_isolated(echo_sandbox):
    with echo_sandbox.client() as c:
        c.post("/sandbox/api/workspaces", json={"name": "other"}).raise_for_status()
        c.post("/sandbox/api/workspaces/other/faults", json={"service": "echo", "kind": "boom"}).raise_for_status()
        assert _fire(c, 1) == [None]
        assert _fire(c, 2, "other") == ["boom", None]


@pytest.mark.parametrize("body, kind, listed", [
    ({"service": "echo", "kind": "explode"}, "unknown-fault-kind", ("valid_kinds", ["boom", "slow"])),
    ({"service": "nope", "kind": "boom"}, "unknown-fault-service", ("valid_services", None)),
    ({"service": "echo", "kind": "boom", "operation": "other"}, "unknown-fault-operation",
     ("valid_operations", ["ping", "pong"])),
    ({"service": "echo", "kind": "boom", "times": 2, "ratio": 0.5}, "invalid-fault", None),
    ({"service": "echo", "kind": "boom", "times": 0}, "invalid-fault", None),
    ({"service": "echo", "kind": "boom", "ratio": 1.5}, "invalid-fault", None),
])
def test_bad_fault_specs_are_422(echo_sandbox, body, kind, listed):
    with echo_sandbox.client() as c:
        r = c.post("/sandbox/api/workspaces/default/faults", json=body)
        assert r.status_code == 422
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["type"].endswith("/" + kind)
        if listed:
            key, values = listed
            assert key in r.json()
            if values is not None:
                assert r.json()[key] == values
            else:
                assert "echo" in r.json()[key]


def test_faults_on_unknown_workspace(echo_sandbox):
    with echo_sandbox.client() as c:
        r = c.post("/sandbox/api/workspaces/ghost/faults", json={"service": "echo", "kind": "boom"})
        assert r.status_code == 404


def test_catalogue_lists_declared_kinds(echo_sandbox):
    with echo_sandbox.client() as c:
        kinds = c.get("/sandbox/api/faults/kinds").json()["services"]
        assert [k["kind"] for k in kinds["echo"]] == ["boom", "slow"]
        assert kinds["echo"][1]["params"] == {"delay_ms": "milliseconds"}
