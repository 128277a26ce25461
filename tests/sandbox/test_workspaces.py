"""Workspaces: isolation, reset to the seeded world, delete (issue 2 "Done when")."""

import uuid


def _faults(client, ws):
    return client.get(f"/sandbox/api/workspaces/{ws}/faults").json()["faults"]


def test_create_list_get_delete(client):
    name = f"ws-{uuid.uuid4().hex[:8]}"
    r = client.post("/sandbox/api/workspaces", json={"name": name, "title": "ACME DPI"})
    assert r.status_code == 201 and r.headers["location"].endswith(name)
    assert name in [w["name"] for w in client.get("/sandbox/api/workspaces").json()["workspaces"]]
    assert client.get(f"/sandbox/api/workspaces/{name}").json()["title"] == "ACME DPI"
    assert client.delete(f"/sandbox/api/workspaces/{name}").status_code == 204
    r = client.get(f"/sandbox/api/workspaces/{name}")
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")
    assert client.get("/sandbox/api/personas", headers={"X-Sandbox-Workspace": name}).status_code == 404


def test_duplicate_bad_name_and_default_protection(client, workspace):
    assert client.post("/sandbox/api/workspaces", json={"name": workspace}).status_code == 409
    r = client.post("/sandbox/api/workspaces", json={"name": "Not Valid!"})
    assert r.status_code == 422 and r.json()["type"].endswith("/invalid-workspace-name")
    r = client.post("/sandbox/api/workspaces", json={"title": "no name"})
    assert r.status_code == 422 and "name" in r.json()["detail"]
    assert client.delete("/sandbox/api/workspaces/default").status_code == 409
    assert client.delete("/sandbox/api/workspaces/does-not-exist").status_code == 404
    assert client.post("/sandbox/api/workspaces/does-not-exist/reset").status_code == 404


def test_evidence_is_per_workspace(sandbox, client, workspace):
    other = f"ws-{uuid.uuid4().hex[:8]}"
    client.post("/sandbox/api/workspaces", json={"name": other}).raise_for_status()
    try:
        corr = uuid.uuid4().hex
        r = client.get("/sandbox/api/personas", params={"kind": "organisation"},
                       headers={"X-Sandbox-Workspace": workspace, "X-Correlation-ID": corr})
        assert r.status_code == 200 and r.headers["x-correlation-id"] == corr
        mine = sandbox.exchanges(workspace=workspace, correlation_id=corr)
        assert len(mine) == 1 and mine[0]["summary"]["path"] == "/sandbox/api/personas"
        assert sandbox.exchanges(workspace=other, correlation_id=corr) == []
    finally:
        client.delete(f"/sandbox/api/workspaces/{other}")


def test_reset_restores_seeded_world_and_removes_the_rest(sandbox, client, workspace):
    before = client.get("/sandbox/api/personas", headers={"X-Sandbox-Workspace": workspace}).json()
    # leave traces: evidence and a scripted fault (of a registered kind)
    kinds = client.get("/sandbox/api/faults/kinds").json()["services"]
    if kinds:
        service, specs = next(iter(kinds.items()))
        client.post(f"/sandbox/api/workspaces/{workspace}/faults",
                    json={"service": service, "kind": specs[0]["kind"], "times": 3}).raise_for_status()
        assert len(_faults(client, workspace)) == 1
    assert sandbox.exchanges(workspace=workspace)
    r = client.post(f"/sandbox/api/workspaces/{workspace}/reset")
    assert r.status_code == 200
    after = client.get("/sandbox/api/personas", headers={"X-Sandbox-Workspace": workspace}).json()
    assert after["personas"] == before["personas"]
    assert _faults(client, workspace) == []
    # only what happened after the reset remains (the reset call itself and the reads just above)
    left = sandbox.exchanges(workspace=workspace)
    assert {e["summary"]["path"] for e in left} <= {"/sandbox/api/personas",
                                                    f"/sandbox/api/workspaces/{workspace}/faults",
                                                    f"/sandbox/api/workspaces/{workspace}/reset"}
    assert all(e["summary"]["method"] == "GET" or e["summary"]["path"].endswith("/reset") for e in left)
