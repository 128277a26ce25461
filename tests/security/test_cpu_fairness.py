"""CPU-heavy requests run in the bounded pool (sandbox/cpu.py), not on the event loop: while one big
``$validate`` or one big INSi envelope is being worked on, a small request sent after it is answered
first. Only the order of completion is asserted (no timed assertion): on the event loop, the
small request would wait for the big one to finish."""

from __future__ import annotations

import threading
import time
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


def _order(big: Callable[[], httpx.Response], small: Callable[[], httpx.Response]) -> list[str]:
    """Start ``big``, give it time to be uploaded and picked up, run ``small``; who finished first."""
    done: list[str] = []
    answers: dict[str, httpx.Response] = {}

    def run(name: str, call: Callable[[], httpx.Response]) -> None:
        answers[name] = call()
        done.append(name)

    worker = threading.Thread(target=run, args=("big", big))
    worker.start()
    time.sleep(1.0)  # not an assertion: the big body is in the handler by then
    run("small", small)
    worker.join(timeout=300)
    assert answers["big"].status_code == 200 and answers["small"].status_code == 200, answers
    return done


def test_big_validate_does_not_block_a_small_request(sandbox, workspace) -> None:
    body = _big_bundle(12_000)
    with httpx.Client(base_url=sandbox.base_url, timeout=300) as big_c, sandbox.client() as small_c:
        order = _order(
            lambda: big_c.post("/profiles/fhir/$validate", content=body,
                               headers={"content-type": "application/fhir+json"}),
            lambda: small_c.post("/profiles/fhir/$validate", content=orjson.dumps({**PATIENT, "id": "x"}),
                                 headers={"content-type": "application/fhir+json"}))
    assert order == ["small", "big"]


def test_big_insi_envelope_does_not_block_a_small_call(sandbox, workspace) -> None:
    filler = "<x:Trace xmlns:x='urn:mes-sandbox:test'>a</x:Trace>" * 300_000  # ~15 MB of header
    big = insi_request().replace("</soap:Header>", filler + "</soap:Header>", 1).encode()
    headers = {"content-type": SOAP12, "x-sandbox-workspace": workspace}
    with httpx.Client(base_url=sandbox.base_url, timeout=300) as big_c, sandbox.client() as small_c:
        order = _order(lambda: big_c.post("/ins/insi", content=big, headers=headers),
                       lambda: small_c.post("/ins/insi", content=insi_request().encode(), headers=headers))
    assert order == ["small", "big"]
