"""Limits and fairness: a caller over its rate gets 429 + Retry-After in the path's protocol, guessing
a secret is throttled after a few tries, anonymous floods keep little evidence, and the evidence
quota and retention hold while the sandbox runs."""

from __future__ import annotations

import time

from sandbox.testing import running_sandbox

TOKEN = "/psc/realms/esante-wallet/protocol/openid-connect/token"


def test_rate_limit_answers_429_with_retry_after_in_each_protocol() -> None:
    with running_sandbox(workspace_rate_per_second=5, rate_limit_loopback=True) as sb, sb.client(key=None) as c:
        shapes = {"/sandbox/api/workspaces": "application/problem+json", "/dmp/fhir/metadata": "application/fhir+json",
                  TOKEN: "application/json"}
        for path, media in shapes.items():
            codes = [c.get(path).status_code for _ in range(60)]
            assert 429 in codes, (path, codes)
            r = c.get(path)
            while r.status_code != 429:
                r = c.get(path)
            assert r.headers["content-type"].startswith(media), (path, r.headers)
            assert int(r.headers["retry-after"]) >= 1
            if path == TOKEN:
                assert r.json()["error"]
            time.sleep(int(r.headers["retry-after"]) + 0.5)
            assert c.get(path).status_code != 429  # the bucket refilled


def test_guessing_a_client_secret_is_throttled() -> None:
    with running_sandbox(rate_limit_loopback=True, workspace_rate_per_second=20) as sb, sb.client(key=None) as c:
        # 20 requests/s with a burst of 80: ordinary traffic goes through, a 401 costs 50 more
        assert all(c.get("/psc/realms/esante-wallet/.well-known/wallet-openid-configuration").status_code == 200
                   for _ in range(30))
        codes = [c.post(TOKEN, data={"grant_type": "client_credentials"}, auth=("sandbox-demo", f"guess-{n}")
                        ).status_code for n in range(50)]
        assert codes.count(401) < 10 and codes[-1] == 429, codes
        # another client is not held back by the guesser
        assert c.post(TOKEN, data={"grant_type": "client_credentials"}, auth=("other-client", "x")).status_code == 401


def test_anonymous_bodies_are_cut_and_quota_holds_while_running() -> None:
    with running_sandbox(evidence_quota_bytes=300_000, evidence_housekeeping_seconds=0.5) as sb, \
            sb.client() as op, sb.client(key=None) as anon:
        for _ in range(5):
            anon.post("/nowhere", content=b"x" * 1_000_000)
        found = sb.exchanges(workspace="anonymous")
        assert len(found) == 5
        body = op.get(found[0]["request_body"]["href"])
        assert body.status_code == 200 and len(body.content) <= 4096
        # a workspace writing ~1 MB of evidence is brought back under its 300 kB quota by the running sandbox
        for n in range(8):
            junk = {"service": "dmp", "kind": f"{n}" + "k" * 100_000}
            r = op.post("/sandbox/api/workspaces/default/faults", json=junk)
            assert r.status_code == 422
        sb.call(sb.ctx.recorder.flush)
        deadline = time.monotonic() + 30
        while sb.call(sb.ctx.evidence.usage).get("default", 0) > 300_000:
            assert time.monotonic() < deadline, sb.call(sb.ctx.evidence.usage)
            time.sleep(0.3)
        assert sb.exchanges(workspace="default")  # the newest ones stay


def test_cpu_heavy_work_runs_on_the_bounded_pool(sandbox, workspace) -> None:
    import threading

    from security_helpers import SOAP12, insi_request

    name = sandbox.call(sandbox.ctx.cpu.run, lambda: threading.current_thread().name)
    assert name.startswith("mes-sandbox-cpu")
    assert sandbox.ctx.cpu.workers == sandbox.settings.cpu_workers
    # a large INSi envelope (parsed on the pool) is answered as a small one
    big = insi_request().replace("<soap:Body>", "<!--" + "x" * 400_000 + "--><soap:Body>", 1)
    assert len(big) > 256 * 1024
    with sandbox.client() as c:
        r = c.post("/ins/insi", content=big.encode(), headers={"content-type": SOAP12,
                                                               "x-sandbox-workspace": workspace})
        assert r.status_code == 200 and "CodeCR" in r.text, r.text[:400]
