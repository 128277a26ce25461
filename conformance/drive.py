"""Driving steps: the runner itself acts in the sandbox, through the surfaces a user has (DESIGN
"The conformance runner", *engine*): the fault registry (the same one ``/sandbox/api/.../faults``
scripts) and the sandbox's public HTTP API, called in-process. Every step is recorded in the
test's result; faults a test scripted are cleared when the test ends, so they never leak into the
next test. The runner's HTTP calls carry a correlation id starting with
:data:`conformance.context.DRIVE_CORRELATION_PREFIX`, so no evidence query ever mistakes them for
the vendor's traffic.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx

from conformance.results import DriveRecord, TestResult
from sandbox.api_auth import PROTECTED_PREFIXES
from sandbox.faults import Fault, FaultSpec
from sandbox.operator_key import cli_api_headers

if TYPE_CHECKING:
    from sandbox.context import SandboxContext


class DriveError(RuntimeError):
    """A driving step the sandbox refused (a setup problem: the test ends in ``error``)."""


class Driver:
    """``ctx.drive`` inside a test."""

    def __init__(self, sandbox: SandboxContext, workspace: str, result: TestResult, correlation_prefix: str,
                 asgi_app: Any = None, api_headers: dict[str, str] | None = None) -> None:
        self._sandbox = sandbox
        self._workspace = workspace
        self._result = result
        self._prefix = correlation_prefix
        self._app = asgi_app
        self._headers = dict(api_headers or {})
        self._calls = 0
        self.scripted_services: set[str] = set()

    def _record(self, action: str, detail: dict[str, Any]) -> None:
        self._result.drives.append(DriveRecord(action, detail, datetime.now(UTC).isoformat()))

    async def fault(self, service: str, kind: str, *, operation: str = "", times: int | None = 1,
                    ratio: float | None = None, params: dict[str, Any] | None = None) -> Fault:
        """Script a fault in the run's workspace (e.g. ``fault("ins", "cr", params={"code": "02"})``,
        ``fault("dmp", "unavailable", operation="iti-65")``)."""
        spec = FaultSpec(service, kind, operation, times if ratio is None else None, ratio, dict(params or {}))
        fault = await self._sandbox.faults.add(self._workspace, spec)
        self.scripted_services.add(service)
        self._record("fault", {"service": service, "kind": kind, "operation": operation or None,
                               "times": spec.times, "ratio": ratio, "params": spec.params, "fault_id": fault.id})
        return fault

    async def clear_faults(self, service: str | None = None) -> int:
        """Clear the workspace's scripted faults (of one service, or all)."""
        n = await self._sandbox.faults.clear(self._workspace, service)
        self._record("clear_faults", {"service": service, "cleared": n})
        return n

    async def http(self, method: str, path: str, *, json: Any = None, content: bytes | None = None,
                   headers: dict[str, str] | None = None, params: dict[str, str] | None = None) -> httpx.Response:
        """Call the sandbox's own public HTTP surface (e.g. a PDSm PATCH masking a document, a
        token revocation) in-process, in the run's workspace."""
        if self._app is None:
            raise DriveError("this run has no access to the sandbox's HTTP surface")
        self._calls += 1
        hdrs = {"X-Sandbox-Workspace": self._workspace, "X-Correlation-ID": f"{self._prefix}{self._calls}",
                **self._headers}
        if path.startswith(PROTECTED_PREFIXES):  # the sandbox's own APIs take the operator key
            hdrs.update(cli_api_headers(self._sandbox.settings))
        hdrs.update(headers or {})
        transport = httpx.ASGITransport(app=self._app)
        async with httpx.AsyncClient(transport=transport, base_url=self._sandbox.settings.base_url) as client:
            r = await client.request(method, path, json=json, content=content, headers=hdrs, params=params)
        self._record("http", {"method": method, "path": path, "status": r.status_code})
        return r

    async def cleanup(self) -> None:
        """Clear the faults this test scripted (called by the engine when the test ends)."""
        for service in sorted(self.scripted_services):
            await self._sandbox.faults.clear(self._workspace, service)
        self.scripted_services.clear()
