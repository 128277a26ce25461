"""``mes-sandbox conformance run``: start a run on a running sandbox over HTTP, show what the
runner waits for (rich live display), optionally play the vendor with a registered simulator,
then write the reports and exit with the verdict's :class:`ExitCode`."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import IntEnum
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console, Group
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text as RichText

from conformance.model import PresetError, load_preset
from conformance.simulate import (
    WAIT_TIMEOUT,
    NoSimulatorError,
    VendorThread,
    find_simulator,
    perform_of,
    wait_status,
)


class ExitCode(IntEnum):
    """Exit codes of ``mes-sandbox conformance`` (pytest's idea: an enum, documented)."""

    PASS = 0  # every required test passed (verify: the report is intact)
    FAIL = 3  # the software did something wrong, a required test could not be judged, or verify found an alteration
    ERROR = 4  # the runner or a test crashed, the run was cancelled or interrupted, or the sandbox is unreachable
    USAGE = 2  # bad command line: unknown suite or test id, preset not matching the inputs, unreadable file


VERDICT_EXIT = {"pass": ExitCode.PASS, "omit": ExitCode.PASS, "fail": ExitCode.FAIL, "skip": ExitCode.FAIL,
                "error": ExitCode.ERROR, "cancel": ExitCode.ERROR, "wait": ExitCode.ERROR}
COLORS = {"pass": "green", "fail": "red", "error": "magenta", "skip": "yellow", "omit": "dim", "cancel": "yellow",
          "wait": "cyan"}


class CliFailure(Exception):
    def __init__(self, code: ExitCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def problem_text(r: httpx.Response) -> str:
    try:
        body = r.json()
    except ValueError:
        return f"HTTP {r.status_code}"
    detail = body.get("detail") or body.get("title") or f"HTTP {r.status_code}"
    if body.get("field"):
        detail += f" (field: {body['field']})"
    if body.get("known") and r.status_code == 404:
        detail += " — known: " + ", ".join(body["known"][:20])
    return str(detail)


@dataclass
class RunRequest:
    suite: str
    workspace: str | None
    only: Sequence[str]
    preset: Path | None
    lang: str | None
    step_timeout: float | None
    simulate: bool
    faults: Sequence[str]
    outputs: dict[str, Path | None]  # json, html, junit, sarif
    evidence: Path | None
    quiet: float | None = None  # the run's quiet window (seconds)


def _inputs(req: RunRequest) -> dict[str, Any]:
    if req.preset is None:
        return {}
    try:
        return load_preset(req.preset)
    except PresetError as exc:
        raise CliFailure(ExitCode.USAGE, exc.text.en) from None


def _status_view(run: dict[str, Any], lang: str) -> Group:
    progress = run.get("progress") or {"done": 0, "total": 0}
    total = max(progress["total"], 1)
    head = RichText.assemble(("run ", "dim"), (run["id"], "bold"), ("  workspace ", "dim"), (run["workspace"], "bold"),
                             ("  ", ""), (f"{progress['done']}/{progress['total']}", "bold"))
    parts: list[Any] = [head, ProgressBar(total=total, completed=progress["done"], width=60)]
    if run.get("current_test"):
        parts.append(RichText.assemble(("test ", "dim"), (run["current_test"], "cyan")))
    step = run.get("pending")
    if step:
        left = max(0.0, (datetime.fromisoformat(step["deadline"]) - datetime.now(UTC)).total_seconds())
        prompt = step["prompt"].get(lang) or step["prompt"].get("fr", "")
        parts.append(RichText.assemble(("→ ", "bold yellow"), (prompt, "bold")))
        parts.append(RichText.assemble(("  waiting for: ", "dim"), (step["awaiting"], ""),
                                       (f"  ({step['seen']}/{step['count']} seen, {left:.0f} s left)", "dim")))
    return Group(*parts)


def _next(client: httpx.Client, run: dict[str, Any], timeout: float, until: str = "change") -> dict[str, Any]:
    """The run's status once it changes (a long poll; ``until="step"``: once a new step is
    pending, or the run ended), or after ``timeout`` seconds."""
    after = run.get("step_version") if until == "step" else run.get("version")
    try:
        r = wait_status(client, run["id"], after or None, timeout, until=until)
    except httpx.HTTPError as exc:
        raise CliFailure(ExitCode.ERROR, f"sandbox unreachable at {client.base_url}: {exc}") from None
    if r.status_code >= 400:
        raise CliFailure(ExitCode.ERROR, f"GET /conformance/api/runs/{run['id']}/wait: {problem_text(r)}")
    status: dict[str, Any] = r.json()
    return status


def follow(client: httpx.Client, run: dict[str, Any], console: Console, lang: str,
           tick: float = 1.0, wait: float = WAIT_TIMEOUT) -> dict[str, Any]:
    """Follow the run until it finishes (long polls: each change shows at once), showing its
    progress and pending prompt; on a terminal the poll ends every ``tick`` seconds so the
    countdown of the step moves."""
    if console.is_terminal:
        with Live(_status_view(run, lang), console=console, refresh_per_second=8, transient=True) as live:
            while run["state"] == "running":
                run = _next(client, run, tick)
                live.update(_status_view(run, lang))
        return run
    last = None
    while run["state"] == "running":
        step = run.get("pending")
        key = (run.get("current_test"), step and step["started_at"])
        if key != last and step:
            console.print(f"[{run.get('current_test')}] → {step['prompt'].get(lang) or step['prompt']['fr']}"
                          f" (waiting for: {step['awaiting']})")
        last = key
        run = _next(client, run, wait, until="step")  # only a new step is printed
    return run


def _get(client: httpx.Client, path: str, **kw: Any) -> httpx.Response:
    try:
        r = client.get(path, **kw)
    except httpx.HTTPError as exc:
        raise CliFailure(ExitCode.ERROR, f"sandbox unreachable at {client.base_url}: {exc}") from None
    if r.status_code >= 400:
        raise CliFailure(ExitCode.ERROR, f"GET {path}: {problem_text(r)}")
    return r


def summary_table(report: dict[str, Any], lang: str) -> Table:
    table = Table("test", "outcome", "finding", title=f"{report['suite']['id']} {report['suite']['version']} — "
                  f"verdict [bold {COLORS.get(report['verdict'], '')}]{report['verdict']}[/]")
    for t in report["tests"]:
        first = next((f for f in t["findings"] if f["level"] != "info"), t["findings"][0] if t["findings"] else None)
        text = (first["text"].get(lang) or first["text"]["fr"]) if first else ""
        table.add_row(t["id"], f"[{COLORS.get(t['outcome'], '')}]{t['outcome']}[/]", text[:160])
    return table


def download_evidence(client: httpx.Client, report: dict[str, Any], folder: Path) -> int:
    """Write each cited body as ``<folder>/<sha256>`` (what ``verify --evidence`` reads)."""
    folder.mkdir(parents=True, exist_ok=True)
    n = 0
    for t in report["tests"]:
        for ex in t["exchanges"]:
            for which, body in (("request-body", ex["request_body"]), ("response-body", ex["response_body"])):
                if body is None or (folder / body["sha256"]).exists():
                    continue
                r = client.get(f"/sandbox/api/exchanges/{ex['id']}/{which}")
                if r.status_code == 200:
                    (folder / body["sha256"]).write_bytes(r.content)
                    n += 1
    return n


def execute(req: RunRequest, make_client: Callable[[], httpx.Client], console: Console, lang: str,
            default_workspace: str = "default") -> ExitCode:
    inputs = _inputs(req)
    vendor: VendorThread | None = None
    sim: Any = None
    vendor_client: httpx.Client | None = None
    with make_client() as client, contextlib.ExitStack() as cleanup:
        workspace = req.workspace
        if req.simulate:
            try:
                factory = find_simulator(req.suite)
            except NoSimulatorError as exc:
                raise CliFailure(ExitCode.USAGE, f"no simulator for suite {exc.suite_id!r} "
                                                 f"(simulators: {', '.join(exc.known) or 'none'})") from None
            # the simulator and the run must share one workspace: name it explicitly in the run request
            workspace = workspace or default_workspace
            sim = factory(str(client.base_url).rstrip("/"), workspace, list(req.faults))
            if hasattr(sim, "prepare"):
                inputs = {**sim.prepare(), **inputs}
            # made before the run starts, so the simulator is ready the moment the first step is
            vendor_client = make_client()
            cleanup.callback(vendor_client.close)
        body: dict[str, Any] = {"suite": req.suite, "inputs": inputs, "only": list(req.only)}
        for key, value in (("workspace", workspace), ("lang", req.lang), ("step_timeout", req.step_timeout),
                           ("quiet", req.quiet)):
            if value is not None:
                body[key] = value
        try:
            r = client.post("/conformance/api/runs", json=body)
        except httpx.HTTPError as exc:
            raise CliFailure(ExitCode.ERROR, f"sandbox unreachable at {client.base_url}: {exc} "
                                             "(start it with: mes-sandbox serve)") from None
        if r.status_code in (404, 422):
            raise CliFailure(ExitCode.USAGE, problem_text(r))
        if r.status_code >= 400:
            raise CliFailure(ExitCode.ERROR, problem_text(r))
        run = r.json()
        if sim is not None and vendor_client is not None:
            premade = vendor_client
            vendor = VendorThread(lambda: premade, run["id"], perform_of(sim)).start()
        try:
            run = follow(client, run, console, lang)
        except KeyboardInterrupt:
            client.post(f"/conformance/api/runs/{run['id']}/cancel")
            raise CliFailure(ExitCode.ERROR, f"run {run['id']} cancelled") from None
        finally:
            if vendor is not None:
                vendor.join()
                for err in vendor.log.errors:
                    console.print(f"[yellow]simulator:[/yellow] {err}")
            if sim is not None and hasattr(sim, "close"):
                sim.close()
        if "report" not in run.get("links", {}):
            raise CliFailure(ExitCode.ERROR, f"run {run['id']} ended {run['state']} without a report: "
                                             f"{run.get('error') or 'see the sandbox log'}")
        signed = _get(client, f"/conformance/api/runs/{run['id']}/report.json").content
        report = json.loads(signed)["report"]
        console.print(summary_table(report, lang))
        for name, path in req.outputs.items():
            if path is None:
                continue
            data = signed if name == "json" else _get(
                client, f"/conformance/api/runs/{run['id']}/report.{ {'junit': 'junit.xml'}.get(name, name)}",
                params={"lang": lang}).content
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            console.print(f"{name:6} {path}")
        if req.evidence is not None:
            n = download_evidence(client, report, req.evidence)
            console.print(f"evidence {req.evidence} ({n} bodies)")
        return VERDICT_EXIT.get(report["verdict"], ExitCode.ERROR)
