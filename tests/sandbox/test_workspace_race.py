"""Creating one workspace name several times at once: one 201, the others 409 problem JSON,
never a 500 (issue 19)."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

CONCURRENT = 6


def test_concurrent_creation_of_one_name_is_201_then_409(sandbox) -> None:
    name = f"race-{uuid.uuid4().hex[:8]}"
    with sandbox.client() as c, ThreadPoolExecutor(CONCURRENT) as pool:
        answers = list(pool.map(lambda _: c.post("/sandbox/api/workspaces", json={"name": name}),
                                range(CONCURRENT)))
        try:
            statuses = sorted(r.status_code for r in answers)
            assert statuses == [201] + [409] * (CONCURRENT - 1), [(r.status_code, r.text[:200]) for r in answers]
            for r in answers:
                if r.status_code == 409:
                    assert r.headers["content-type"].startswith("application/problem+json")
                    assert r.json()["status"] == 409
            assert [w["name"] for w in c.get("/sandbox/api/workspaces").json()["workspaces"]].count(name) == 1
        finally:
            c.delete(f"/sandbox/api/workspaces/{name}")
