"""Suite ``dpi-ldl`` proven by the reference DPI simulator (issue 18): the good simulator passes
every test; each catalogued vendor mistake makes exactly its intended tests fail and no other; the
fault → failing-test table in ``conformance/README.md`` is what the runs show.

All runs share one sandbox, each in its own workspace, a few at a time; the vendor plays through
the runner's own loop (``conformance.simulate.VendorThread``) over real HTTP, as
``mes-sandbox conformance run dpi-ldl --simulate`` does."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from conformance.simulate import VendorThread, wait_finished
from conformance.simulators.dpi import FAULTS, SCENARIO, DpiSimulator, MailEndpoints, SimulatorConfig, play, simulator
from conformance.simulators.dpi.readme_table import END, START, fault_table
from conformance.suites.dpi_ldl import suite
from sandbox.testing import RunningSandbox, running_sandbox

README = Path(__file__).resolve().parents[2] / "conformance" / "README.md"
PARALLEL = 4
STEP_TIMEOUT = 10


@dataclass
class Outcome:
    state: str
    failing: list[str]
    outcomes: dict[str, str]
    performed: list[tuple[str, str]]
    errors: list[str]


def mail_endpoints(sb: RunningSandbox) -> MailEndpoints:
    """The test sandbox's MSSanté listeners (bound to free ports) and its CA."""
    ports = sb.ctx.state["listeners"]
    return MailEndpoints(("127.0.0.1", ports["smtp"]), ("127.0.0.1", ports["imap"]), str(sb.ctx.pki.ca_bundle))


def _run(sb: RunningSandbox, faults: tuple[str, ...]) -> Outcome:
    ws = f"sim-{uuid.uuid4().hex[:10]}"
    with sb.client() as c:
        c.post("/sandbox/api/workspaces", json={"name": ws}).raise_for_status()
        r = c.post("/conformance/api/runs", json={"suite": "dpi-ldl", "workspace": ws, "step_timeout": STEP_TIMEOUT})
        assert r.status_code == 201, r.text
        run_id = r.json()["id"]
    with simulator(sb.base_url, ws, faults, api_key=sb.operator_key, mail=mail_endpoints(sb)) as sim:
        vendor = VendorThread(sb.client, run_id, sim.perform).start()
        try:
            with sb.client() as c:
                final = wait_finished(c, run_id, timeout=300)
        finally:
            vendor.join()
    with sb.client() as c:
        results = c.get(f"/conformance/api/runs/{run_id}/results").json()["results"]
    outcomes = {t["id"]: t["outcome"] for t in results}
    return Outcome(final["state"], sorted(k for k, v in outcomes.items() if v != "pass"), outcomes,
                   vendor.log.performed, vendor.log.errors)


# 37 full runs: the module's first test waits for all of them (a few minutes on a loaded 2-core machine)
pytestmark = pytest.mark.timeout(900)


@pytest.fixture(scope="module")
def runs() -> Iterator[dict[str, Outcome]]:
    """The good simulator and every catalogued fault, each one full ``dpi-ldl`` run."""
    with running_sandbox() as sb:
        cases: dict[str, tuple[str, ...]] = {"": ()} | {f.name: (f.name,) for f in FAULTS}
        lock = threading.Lock()
        out: dict[str, Outcome] = {}

        def one(name: str) -> None:
            result = _run(sb, cases[name])
            with lock:
                out[name] = result

        with ThreadPoolExecutor(PARALLEL) as pool:
            list(pool.map(one, cases))
        yield out


def test_catalogue_is_large_and_names_real_tests() -> None:
    ids = set(suite.test_ids())
    assert len(FAULTS) >= 15 and len(ids) >= 15
    assert len({f.name for f in FAULTS}) == len(FAULTS)
    for f in FAULTS:
        assert f.fails and set(f.fails) <= ids, f.name
        assert f.fr and f.en and f.actions


def test_good_simulator_passes_every_test(runs: dict[str, Outcome]) -> None:
    good = runs[""]
    assert good.state == "done" and good.errors == []
    assert sorted(good.outcomes) == sorted(suite.test_ids())
    assert good.failing == [], good.outcomes


def test_scenario_is_what_a_run_asks_for(runs: dict[str, Outcome]) -> None:
    """``mes-sandbox simulate dpi`` plays :data:`SCENARIO` alone: the same actions in the same order."""
    assert [a for _, a in runs[""].performed] == [s.action for s in SCENARIO]


@pytest.mark.parametrize("fault", FAULTS, ids=[f.name for f in FAULTS])
def test_fault_fails_exactly_its_tests(runs: dict[str, Outcome], fault) -> None:  # noqa: ANN001
    got = runs[fault.name]
    assert got.state == "done", got
    assert got.failing == sorted(fault.fails), {k: v for k, v in got.outcomes.items() if v != "pass"}
    assert all(got.outcomes[t] == "fail" for t in fault.fails)  # a vendor mistake is a fail, never an error


def test_readme_fault_table_is_reality(runs: dict[str, Outcome]) -> None:
    observed = {f.name: tuple(runs[f.name].failing) for f in FAULTS}
    expected = fault_table(observed)
    text = README.read_text(encoding="utf-8")
    assert START in text and END in text, f"{README} lacks the fault-table markers"
    current = text[text.index(START) + len(START):text.index(END)].strip("\n")
    assert current == expected.strip("\n"), (
        "conformance/README.md's fault table differs from what the runs show; regenerate it with "
        "`python -m conformance.simulators.dpi.readme_table`")


def test_simulator_alone_plays_the_scenario(sandbox: RunningSandbox, workspace: str) -> None:
    with DpiSimulator(SimulatorConfig(sandbox.base_url, workspace=workspace, api_key=sandbox.operator_key,
                                      mail=mail_endpoints(sandbox))) as sim:
        records = play(sim)
    assert [r.action for r in records] == [s.action for s in SCENARIO]
    assert all(r.ok for r in records[:3])
    ops = [e["operation"] for e in sandbox.exchanges(workspace=workspace, service="dmp")]
    assert ops.count("dmp.iti-65") >= 3 and "dmp.iti-68" in ops and "dmp.pdsm-patch" in ops
    assert all(r.ok for r in records if r.action.startswith("mss.")), records
    mail = [e for e in sandbox.exchanges(workspace=workspace, service="mss") if e["operation"] == "smtp-message"]
    assert len(mail) >= 2  # the letter, and the receipt for the message the correspondent sent
