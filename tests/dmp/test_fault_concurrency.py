"""A fault scripted for ``times: N`` fires exactly N times under concurrency (issue 19): the
database decides which call takes each firing, not a per-process copy of the count."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from dmp_helpers import PAT1

CALLS = 50


@pytest.mark.parametrize("times", [1, 7])
def test_times_fires_exactly_under_50_concurrent_calls(dmp, times: int) -> None:
    token = dmp.pro_token()
    dmp.fault("unavailable", operation="iti-67", times=times)
    with dmp.sb.client() as http, ThreadPoolExecutor(CALLS) as pool:
        def find(_: int) -> int:
            return http.get("/dmp/fhir/DocumentReference", params={"patient": f"Patient/{PAT1}", "status": "current"},
                            headers={"Authorization": f"Bearer {token}"}).status_code

        statuses = list(pool.map(find, range(CALLS)))
    assert statuses.count(503) == times, statuses
    assert statuses.count(200) == CALLS - times, statuses
    faults = dmp.http.get(f"/sandbox/api/workspaces/{dmp.workspace}/faults").json()["faults"]
    assert [(f["matched"], f["fired"], f["exhausted"]) for f in faults] == [(times, times, True)]


def test_ratio_counts_every_match_under_concurrency(dmp) -> None:
    token = dmp.pro_token()
    dmp.fault("unavailable", operation="iti-67", ratio=0.5)
    with dmp.sb.client() as http, ThreadPoolExecutor(CALLS) as pool:
        def find(_: int) -> int:
            return http.get("/dmp/fhir/DocumentReference", params={"patient": f"Patient/{PAT1}", "status": "current"},
                            headers={"Authorization": f"Bearer {token}"}).status_code

        statuses = list(pool.map(find, range(CALLS)))
    assert statuses.count(503) == CALLS // 2, statuses
    faults = dmp.http.get(f"/sandbox/api/workspaces/{dmp.workspace}/faults").json()["faults"]
    assert [(f["matched"], f["fired"]) for f in faults] == [(CALLS, CALLS // 2)]
