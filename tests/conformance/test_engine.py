"""The client-testing engine against a real sandbox: waiting for real exchanges, driving steps,
outcomes, persistence, one live run per workspace, re-runs, and bad input."""

from __future__ import annotations

import time

from runner_example import ENDINGS, EXAMPLE, fake_vendor

from conformance.service import make_service
from conformance.simulate import wait_finished
from sandbox.services import discover
from sandbox.testing import fresh_database, running_sandbox


def test_good_vendor_passes_every_test(runner) -> None:
    calls: list[str] = []
    run = runner.run(vendor=runner.vendor(calls=calls))
    assert run["state"] == "done" and run["outcome"] == "pass", run
    results = runner.results(run["id"])
    assert {k: v["outcome"] for k, v in results.items()} == {
        "example.insi.01": "pass", "example.insi.02": "pass", "example.psc.01": "pass"}
    assert calls == ["insi_search", "insi_search", "insi_refine", "discovery"]
    # the driving step is recorded, and the fault it scripted is gone afterwards
    assert [d["action"] for d in results["example.insi.02"]["drives"]] == ["fault"]
    assert runner.get(f"/sandbox/api/workspaces/{runner.workspace}/faults").json()["faults"] == []
    # every judged exchange is cited with the SHA-256 of the bodies read
    cited = results["example.insi.01"]["exchanges"]
    assert len(cited) == 1 and cited[0]["operation"] == "rechercherInsAvecTraitsIdentite"
    assert len(cited[0]["request_body"]["sha256"]) == 64 and "RECSANSVITALE" in cited[0]["request_body"]["excerpt"]


def test_a_vendor_repeating_the_search_fails_exactly_the_refine_test(runner) -> None:
    run = runner.run(vendor=runner.vendor(stubborn=True))
    assert run["outcome"] == "fail"
    results = runner.results(run["id"])
    assert {k: v["outcome"] for k, v in results.items()} == {
        "example.insi.01": "pass", "example.insi.02": "fail", "example.psc.01": "pass"}
    [finding] = results["example.insi.02"]["findings"]
    assert finding["id"] == "example.insi.same-request" and finding["at"] == "Body/RECSANSVITALE"
    assert "02" in finding["text"]["fr"] and finding["hint"]["en"].startswith("Refine")
    assert len(finding["exchanges"]) == 2


def test_a_wait_that_times_out_fails_saying_what_never_arrived(runner) -> None:
    run = runner.run(only=["psc"], step_timeout=0.5)
    assert run["outcome"] == "fail"
    [finding] = runner.results(run["id"])["example.psc.01"]["findings"]
    assert finding["id"] == "runner.wait.timeout"
    assert "psc.discovery" in finding["text"]["en"] and "0.5 s" in finding["text"]["en"]
    assert runner.workspace in finding["hint"]["fr"]


def test_exchanges_of_another_workspace_or_before_the_step_never_match(runner, csb) -> None:
    with csb.client() as c:  # before the run: must not count
        c.get("/psc/realms/esante-wallet/.well-known/wallet-openid-configuration",
              headers={"X-Sandbox-Workspace": runner.workspace})
    other = fake_vendor(csb.base_url, "default", key=csb.operator_key)  # the right call, in the wrong workspace
    run = runner.run(only=["psc.01"], step_timeout=1.5, vendor=other)
    assert run["outcome"] == "fail"
    assert runner.results(run["id"])["example.psc.01"]["findings"][0]["id"] == "runner.wait.timeout"


def test_driving_over_http_and_bounded_excerpts(runner) -> None:
    from conformance.context import MAX_EXCERPTS_PER_TEST

    run = runner.run("bulk", vendor=runner.vendor())
    [result] = runner.results(run["id"]).values()
    assert result["outcome"] == "pass", result["findings"]
    assert result["drives"][0]["action"] == "http" and result["drives"][0]["detail"]["status"] == 200
    bodies = [e["response_body"] for e in result["exchanges"]]
    assert len(bodies) >= 30 and all(b and len(b["sha256"]) == 64 for b in bodies)
    assert sum(1 for b in bodies if b["excerpt"]) == MAX_EXCERPTS_PER_TEST
    assert all(b["truncated"] for b in bodies if not b["excerpt"])


def test_every_ending_maps_to_its_outcome(runner) -> None:
    run = runner.run("endings")
    results = runner.results(run["id"])
    assert {k: v["outcome"] for k, v in results.items()} == {
        "endings.meta.crash": "error", "endings.meta.caught": "fail", "endings.meta.skip": "skip",
        "endings.meta.omit": "omit"}
    [crash] = results["endings.meta.crash"]["findings"]
    assert crash["level"] == "error"
    assert crash["text"]["en"].startswith("Test error: ValueError: boom (runner_example.py:")
    assert "second line" not in crash["text"]["en"] and "\n" not in crash["text"]["en"]
    assert run["outcome"] == "error"  # error > fail > skip > omit


def test_status_shows_the_pending_prompt_and_machine_action(runner) -> None:
    r = runner.start(only=["psc.01"], step_timeout=30)
    run_id = r.json()["id"]
    try:
        for _ in range(100):
            run = runner.get(f"/conformance/api/runs/{run_id}").json()
            if run["pending"]:
                break
            time.sleep(0.05)
        step = run["pending"]
        assert step["action"] == "discovery" and step["test"] == "example.psc.01"
        assert step["prompt"]["fr"].startswith("Lisez") and "psc.discovery" in step["awaiting"]
        assert run["current_test"] == "example.psc.01" and run["progress"] == {"done": 0, "total": 1}
    finally:
        runner.post(f"/conformance/api/runs/{run_id}/cancel")


def test_two_runs_in_one_workspace_are_refused_then_allowed_after_cancel(runner) -> None:
    first = runner.start(step_timeout=30)
    assert first.status_code == 201
    second = runner.start(step_timeout=30)
    assert second.status_code == 409
    assert second.headers["content-type"].startswith("application/problem+json")
    assert second.json()["run"] == first.json()["id"]
    cancelled = runner.post(f"/conformance/api/runs/{first.json()['id']}/cancel").json()
    final = runner.follow(cancelled["id"], None)
    assert final["state"] == "cancelled" and final["outcome"] == "cancel"
    assert {v["outcome"] for v in runner.results(final["id"]).values()} == {"cancel"}
    assert "report" in final["links"]  # a cancelled run still has its (signed) report
    third = runner.start(only=["psc.01"], step_timeout=0.2)
    assert third.status_code == 201
    runner.follow(third.json()["id"], None)


def test_rerun_of_one_test_keeps_inputs_and_other_results(runner) -> None:
    run = runner.run(vendor=runner.vendor(stubborn=True), inputs={"nom": "ADRTROIS"})
    assert run["outcome"] == "fail"
    r = runner.post(f"/conformance/api/runs/{run['id']}/rerun", json={"only": ["insi.02"]})
    assert r.status_code == 201, r.text
    again = runner.follow(r.json()["id"], runner.vendor())
    assert again["outcome"] == "pass" and again["rerun_of"] == run["id"] and again["inputs"] == {"nom": "ADRTROIS"}
    assert again["selected"] == ["example.insi.02"]
    results = runner.results(again["id"])
    assert set(results) == {"example.insi.01", "example.insi.02", "example.psc.01"}
    report = runner.get(f"/conformance/api/runs/{again['id']}/report.json").json()["report"]
    assert report["run"]["carried"] == ["example.insi.01", "example.psc.01"]


def test_bad_input_is_a_problem_not_a_traceback(runner) -> None:
    cases = [
        ({"suite": "nope"}, 404, "unknown-suite"),
        ({"suite": "example", "only": ["insi.99"]}, 404, "unknown-test"),
        ({"suite": "example", "inputs": {"nom": 3}}, 422, "invalid-inputs"),
        ({"suite": "example", "inputs": {"patient": "x"}}, 422, "invalid-inputs"),
        ({"suite": "example", "step_timeout": 0}, 422, "invalid-step-timeout"),
        ({"suite": "example", "lang": "de"}, 422, "invalid-language"),
        ({"suite": "example", "workspace": "no-such-ws"}, 404, "unknown-workspace"),
    ]
    for body, status, kind in cases:
        r = runner.post("/conformance/api/runs", json={"workspace": runner.workspace, **body})
        assert r.status_code == status, (body, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["type"].endswith(kind), r.json()
    r = runner.post("/conformance/api/runs", json={"suite": "example", "colour": "blue"})
    assert r.status_code == 422 and "colour" in r.json()["detail"]
    field = runner.post("/conformance/api/runs", json={"suite": "example", "workspace": runner.workspace,
                                                       "inputs": {"nom": 3}}).json()
    assert field["field"] == "nom"
    assert runner.get("/conformance/api/runs/nope").status_code == 404
    assert {"bulk", "endings", "example"} <= set(runner.get("/conformance/api/suites/nope").json()["known"])
    running = runner.start(only=["psc.01"], step_timeout=30).json()
    early = runner.get(f"/conformance/api/runs/{running['id']}/report.json")
    assert early.status_code == 409 and early.json()["type"].endswith("report-not-ready")
    assert runner.get(f"/conformance/api/runs/{running['id']}/report.pdf").status_code == 404
    runner.post(f"/conformance/api/runs/{running['id']}/cancel")
    runner.follow(running["id"], None)


def test_a_finished_run_survives_a_restart(tmp_path) -> None:
    services = [s for s in discover() if s.name != "conformance"] + [make_service((EXAMPLE, ENDINGS))]
    with fresh_database(tmp_path) as url:
        with running_sandbox(services=services, data_dir=tmp_path, database_url=url) as sb:
            with sb.client() as c:
                run = c.post("/conformance/api/runs", json={"suite": "endings"}).json()
                done = wait_finished(c, run["id"])
                signed = c.get(f"/conformance/api/runs/{run['id']}/report.json").content
                key = c.get("/conformance/api/signing-key").json()
        # restarted on another free port: this node takes the deployment's public base URL over
        with running_sandbox(services=services, data_dir=tmp_path, database_url=url,
                             take_over_public_base_url=True) as sb2:
            with sb2.client() as c:
                again = c.get(f"/conformance/api/runs/{run['id']}").json()
                assert again["state"] == done["state"] == "done" and again["outcome"] == "error"
                assert c.get(f"/conformance/api/runs/{run['id']}/report.json").content == signed
                assert c.get("/conformance/api/signing-key").json() == key  # same key after restart
                assert len(c.get(f"/conformance/api/runs/{run['id']}/results").json()["results"]) == 4


def test_suites_are_listed_with_their_inputs_and_requirements(csb) -> None:
    with csb.client() as c:  # the operator key: /conformance/api takes a key
        suites = {s["id"]: s for s in c.get("/conformance/api/suites").json()["suites"]}
        assert suites["example"]["tests"] == 3
        detail = c.get("/conformance/api/suites/example").json()
        assert detail["inputs"][0] == {"name": "nom", "title": {"fr": "Nom de naissance", "en": "Birth name"},
                                       "type": "string", "default": "ADRTROIS", "optional": False}
        assert detail["groups"][0]["tests"][1]["verifies"] == ["INS.INSI/04"]
        cov = c.get("/conformance/api/suites/example/coverage").json()
        assert {r["id"]: r["status"] for r in cov["requirements"]}["INS.INSI/06"] == "not-tested"
        schema = c.get("/conformance/api/report.schema.json")
        assert schema.headers["content-type"].startswith("application/schema+json")
        assert schema.json()["$id"].endswith("conformance-report-1.json")
        openapi = c.get("/openapi.json").json()
        assert "/conformance/api/runs" in openapi["paths"] and "/conformance/api/signing-key" in openapi["paths"]


def test_the_report_records_the_leniency_options_that_were_on(csb) -> None:
    name = f"opt-{int(time.time() * 1000) % 10**8}"
    with csb.client() as c:
        c.post("/sandbox/api/workspaces", json={"name": name, "options": {
            "standard_discovery": True, "nir_key_unchecked": False, "validation_policy": {"x": "warning"}}}
               ).raise_for_status()
        run = c.post("/conformance/api/runs", json={"suite": "endings", "workspace": name}).json()
        wait_finished(c, run["id"])
        report = c.get(f"/conformance/api/runs/{run['id']}/report.json").json()["report"]
    assert report["workspace_options"] == {"standard_discovery": True, "validation_policy": {"x": "warning"}}
