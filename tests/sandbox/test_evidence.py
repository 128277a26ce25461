"""Evidence: every HTTP exchange recorded with bodies stored once by SHA-256 (issue 2)."""

import hashlib
import uuid
from datetime import UTC, datetime, timedelta

from sandbox.testing import running_sandbox


def test_exchange_recorded_with_bodies_and_filters(sandbox, client, workspace):
    corr = uuid.uuid4().hex
    payload = {"name": f"ev-{uuid.uuid4().hex[:8]}", "title": "evidence"}
    r = client.post("/sandbox/api/workspaces", json=payload,
                    headers={"X-Correlation-ID": corr, "X-Sandbox-Workspace": workspace})
    assert r.status_code == 201
    found = sandbox.exchanges(correlation_id=corr)
    assert len(found) == 1
    ex = found[0]
    assert ex["protocol"] == "http" and ex["service"] == "sandbox" and ex["direction"] == "inbound"
    assert ex["status"] == "201" and ex["workspace"] == payload["name"]
    assert ex["summary"]["method"] == "POST" and ex["duration_ms"] >= 0
    req = client.get(ex["request_body"]["href"].replace(sandbox.base_url, ""))
    assert req.status_code == 200 and req.json() == payload
    assert req.headers["x-body-sha256"] == hashlib.sha256(req.content).hexdigest()
    resp = client.get(f"/sandbox/api/exchanges/{ex['id']}/response-body")
    assert resp.json()["name"] == payload["name"]
    assert client.get(f"/sandbox/api/exchanges/{ex['id']}").json()["id"] == ex["id"]
    # filters
    assert sandbox.exchanges(correlation_id=corr, protocol="smtp") == []
    assert sandbox.exchanges(correlation_id=corr, service="sandbox")
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert sandbox.exchanges(correlation_id=corr, since=future) == []
    assert sandbox.exchanges(correlation_id=corr, until=future)
    client.delete(f"/sandbox/api/workspaces/{payload['name']}")
    assert sandbox.exchanges(correlation_id=corr) == []  # deleting a workspace drops its evidence


def test_identical_bodies_stored_once(sandbox, client, workspace):
    corr = [uuid.uuid4().hex, uuid.uuid4().hex]
    for c in corr:
        client.post(f"/sandbox/api/workspaces/{workspace}/faults", json={"service": "nope", "kind": "x"},
                    headers={"X-Correlation-ID": c})
    a, b = (sandbox.exchanges(correlation_id=c)[0] for c in corr)
    assert a["request_body"]["sha256"] == b["request_body"]["sha256"]
    assert a["id"] != b["id"]


def test_unknown_exchange_and_body(client):
    assert client.get("/sandbox/api/exchanges/nope").status_code == 404
    assert client.get("/sandbox/api/exchanges/nope/request-body").status_code == 404
    assert client.get("/sandbox/api/exchanges/nope/other").status_code == 404
    r = client.get("/sandbox/api/exchanges", params={"since": "not-a-date"})
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")


def test_body_size_cap():
    with running_sandbox(evidence_body_limit=16) as sb, sb.client() as c:
        corr = uuid.uuid4().hex
        body = {"name": "capped-workspace", "title": "x" * 100}
        assert c.post("/sandbox/api/workspaces", json=body, headers={"X-Correlation-ID": corr}).status_code == 201
        ex = sb.exchanges(correlation_id=corr)[0]
        r = c.get(f"/sandbox/api/exchanges/{ex['id']}/request-body")
        assert len(r.content) == 16 and r.headers["x-body-truncated"] == "true"
        assert int(r.headers["x-body-size"]) > 100


def test_ids_and_generated_correlation_ids_are_time_ordered_uuids(sandbox, client):
    """UUID version 7 (RFC 9562): new exchanges go at the end of their indexes."""
    from sandbox.evidence import time_ordered_uuid

    ids = [time_ordered_uuid() for _ in range(200)]
    assert all(uuid.UUID(i).version == 7 and uuid.UUID(i).variant == uuid.RFC_4122 for i in ids)
    assert len(set(ids)) == len(ids)
    before = time_ordered_uuid()
    r = client.get("/sandbox/api/workspaces")  # no X-Correlation-ID: one is generated and echoed
    generated = r.headers["x-correlation-id"]
    assert uuid.UUID(generated).version == 7 and generated[:13] >= before[:13]  # same or later millisecond
    ex = sandbox.exchanges(correlation_id=generated)[0]
    assert uuid.UUID(ex["id"]).version == 7 and ex["id"][:13] >= before[:13]
