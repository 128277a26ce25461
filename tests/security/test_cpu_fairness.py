"""CPU-heavy requests run in the bounded pool (sandbox/cpu.py), not on the event loop: while one big
``$validate`` or one big INSi envelope is being worked on, a small request sent after it is answered
first. Only the order of completion is asserted (no timed assertion, no sleep): on the event loop,
the small request would wait for the big one to finish."""

from __future__ import annotations

import threading
from collections.abc import Callable

import httpx
import orjson
from security_helpers import SOAP12, insi_request

PATIENT = {"resourceType": "Patient", "name": [{"family": "DUPONT", "given": ["JEAN"]}], "gender": "male",
           "birthDate": "1980-01-01"}


def _big_bundle(entries: int) -> bytes:
    """A collection Bundle of ``entries`` Patients (~280 bytes each): seconds of validation."""
    return orjson.dumps({"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": f"urn:uuid:{i:08d}-0000-4000-8000-000000000000", "resource": {**PATIENT, "id": f"p{i}"}}
        for i in range(entries)]})


def _order(sandbox, big: Callable[[], httpx.Response], small: Callable[[], httpx.Response]) -> list[str]:  # noqa: ANN001
    """Start ``big``, wait until the CPU pool has picked up its work, run ``small``; who finished first.

    The sandbox runs in this process: the pool's ``run`` is wrapped to say when a job starts, so the
    small request is sent while the big one is being worked on, whatever the machine's speed."""
    done: list[str] = []
    answers: dict[str, httpx.Response] = {}
    started = threading.Event()
    pool = sandbox.ctx.cpu
    original = pool.run

    async def announcing(fn, *args, **kw):  # noqa: ANN001, ANN202
        def job(*a, **k):  # noqa: ANN002, ANN003, ANN202
            started.set()
            return fn(*a, **k)
        return await original(job, *args, **kw)

    def run(name: str, call: Callable[[], httpx.Response]) -> None:
        answers[name] = call()
        done.append(name)

    pool.run = announcing
    try:
        worker = threading.Thread(target=run, args=("big", big))
        worker.start()
        while not started.wait(0.05) and worker.is_alive():
            pass
        assert started.is_set(), "the big request was answered without going through the CPU pool"
        run("small", small)
        worker.join(timeout=300)
    finally:
        del pool.run  # back to the class's method
    assert answers["big"].status_code == 200 and answers["small"].status_code == 200, answers
    return done


def test_big_validate_does_not_block_a_small_request(sandbox, workspace) -> None:
    body = _big_bundle(30_000)  # ~8 MB: seconds of validation on any machine
    with httpx.Client(base_url=sandbox.base_url, timeout=300) as big_c, sandbox.client() as small_c:
        order = _order(
            sandbox,
            lambda: big_c.post("/profiles/fhir/$validate", content=body,
                               headers={"content-type": "application/fhir+json"}),
            lambda: small_c.post("/profiles/fhir/$validate", content=orjson.dumps({**PATIENT, "id": "x"}),
                                 headers={"content-type": "application/fhir+json"}))
    assert order == ["small", "big"]


def test_big_insi_envelope_does_not_block_a_small_call(sandbox, workspace) -> None:
    filler = "<x:Trace xmlns:x='urn:mes-sandbox:test'>a</x:Trace>" * 300_000  # ~15 MB of header
    big = insi_request().replace("</soap:Header>", filler + "</soap:Header>", 1).encode()
    headers = {"content-type": SOAP12, "x-sandbox-workspace": workspace}
    big_auth = {"authorization": f"Bearer {sandbox.operator_key}"}
    with httpx.Client(base_url=sandbox.base_url, timeout=300, headers=big_auth) as big_c, \
            sandbox.client() as small_c:
        order = _order(sandbox, lambda: big_c.post("/ins/insi", content=big, headers=headers),
                       lambda: small_c.post("/ins/insi", content=insi_request().encode(), headers=headers))
    assert order == ["small", "big"]
