"""Playing the vendor: a loop that learns the run's pending step over HTTP (a long poll of
``/conformance/api/runs/{id}/wait``, no sleep loop) and performs its
machine-readable action, so a reference simulator stands exactly where a vendor's software
stands (it acts only through the real protocols; the runner judges only what it recorded).

Simulators are registered per suite under the entry-point group
``mes_sandbox.conformance_simulators`` (``dpi-ldl = "conformance.simulators.dpi:simulator"``).
The registered object is a factory ``(base_url, workspace, faults) -> Simulator`` where a
simulator is either a plain ``perform(action, params)`` callable or an object with ``perform``
and, optionally, ``prepare() -> dict`` (set-up before the run, returning the suite inputs it
provides, e.g. the OIDC client it registered) and ``close()``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, Protocol

import httpx

ENTRY_POINT_GROUP = "mes_sandbox.conformance_simulators"
#: seconds a client's long poll waits (short: a stopped loop ends within it, and ``serve`` waits for
#: requests in flight before it stops)
WAIT_TIMEOUT = 5.0
Perform = Callable[[str, dict[str, Any]], None]


class Simulator(Protocol):
    def perform(self, action: str, params: dict[str, Any]) -> None: ...


class SimulatorFactory(Protocol):
    def __call__(self, base_url: str, workspace: str, faults: Sequence[str]) -> Simulator | Perform: ...


class NoSimulatorError(LookupError):
    def __init__(self, suite_id: str, known: list[str]) -> None:
        self.suite_id = suite_id
        self.known = known
        super().__init__(f"no simulator for suite {suite_id!r}")


def find_simulator(suite_id: str) -> SimulatorFactory:
    known = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        known.append(ep.name)
        if ep.name == suite_id:
            factory: SimulatorFactory = ep.load()
            return factory
    raise NoSimulatorError(suite_id, sorted(known))


def perform_of(sim: Simulator | Perform) -> Perform:
    return sim.perform if hasattr(sim, "perform") else sim  # type: ignore[return-value]


@dataclass
class SimulationLog:
    """What the loop did (for the CLI and tests)."""

    performed: list[tuple[str, str]] = field(default_factory=list)  # (test id, action)
    errors: list[str] = field(default_factory=list)


def wait_status(client: httpx.Client, run_id: str, after: str | None, timeout: float,
                until: str = "change", done: bool = False) -> httpx.Response:
    """``GET /conformance/api/runs/{id}/wait``: the run status once it differs from version
    ``after`` (at once without ``after``), or after ``timeout`` seconds unchanged; with
    ``until="step"``, once a pending step other than ``after`` (a ``step_version``) is published."""
    params: dict[str, Any] = {"timeout": f"{timeout:g}", "until": until}
    if after:
        params["after"] = after
    if done:  # "I performed step ``after`` (or none yet) and am idle": the runner's quiet windows end now
        params["done"] = "true"
    return client.get(f"/conformance/api/runs/{run_id}/wait", params=params, timeout=timeout + 30)


def run_vendor_loop(client: httpx.Client, run_id: str, perform: Perform, *, stop: threading.Event,
                    poll_interval: float = 0.05, wait: float = WAIT_TIMEOUT,
                    log: SimulationLog | None = None) -> SimulationLog:
    """Until the run finishes or ``stop`` is set: each new pending step that carries an action is
    performed once. The next step is learnt by a long poll (the server answers as soon as the
    run changes, or after ``wait`` seconds); ``poll_interval`` only paces retries after a
    network error. An exception inside ``perform`` is logged and the loop goes on (the runner
    will then judge what did, or did not, arrive)."""
    log = log or SimulationLog()
    done: set[tuple[str, str]] = set()
    version: str | None = None
    performed = True  # the first request says "idle": this vendor will tell when it has performed a step
    while not stop.is_set():
        try:
            r = wait_status(client, run_id, version, wait, until="step", done=performed)
        except httpx.HTTPError as exc:
            log.errors.append(f"status: {exc}")
            stop.wait(poll_interval * 4)
            continue
        if r.status_code != 200:
            log.errors.append(f"status: HTTP {r.status_code}")
            return log
        run = r.json()
        if run["state"] != "running":
            return log
        step = run.get("pending")
        version = run.get("step_version") or version
        performed = False
        if step and step.get("action"):
            key = (step["test"], step["started_at"])
            if key not in done:
                done.add(key)
                try:
                    perform(step["action"], dict(step.get("params") or {}))
                    log.performed.append((step["test"], step["action"]))
                except Exception as exc:  # noqa: BLE001 - a simulator's mistake is the runner's to judge
                    log.errors.append(f"{step['test']} {step['action']}: {type(exc).__name__}: {exc}")
                performed = True  # every call it made has been answered
    return log


class VendorThread:
    """:func:`run_vendor_loop` in a daemon thread, with its own HTTP client."""

    def __init__(self, make_client: Callable[[], httpx.Client], run_id: str, perform: Perform,
                 poll_interval: float = 0.05) -> None:
        self.stop = threading.Event()
        self.log = SimulationLog()
        self._make_client = make_client
        self._run_id = run_id
        self._perform = perform
        self._poll = poll_interval
        self._thread = threading.Thread(target=self._main, name=f"vendor-{run_id}", daemon=True)

    def _main(self) -> None:
        with self._make_client() as client:
            run_vendor_loop(client, self._run_id, self._perform, stop=self.stop, poll_interval=self._poll,
                            log=self.log)

    def start(self) -> VendorThread:
        self._thread.start()
        return self

    def join(self, timeout: float = 10) -> None:
        self.stop.set()
        self._thread.join(timeout)


def wait_finished(client: httpx.Client, run_id: str, timeout: float = 600,
                  poll: float = WAIT_TIMEOUT) -> dict[str, Any]:
    """Wait (long polls of at most ``poll`` seconds) until a run is no longer running; its final status."""
    end = time.monotonic() + timeout
    version: str | None = None
    while True:
        r = wait_status(client, run_id, version, max(0.05, min(poll, end - time.monotonic())))
        r.raise_for_status()
        run = r.json()
        if run["state"] != "running" or time.monotonic() > end:
            return run
        version = run.get("version")
