"""``/sandbox/api/exchanges``: every filter it accepts filters, anything else is refused with
problem JSON (issue 18: ``operation=`` used to be silently ignored)."""

from __future__ import annotations

import uuid

import pytest


def _seed(client, workspace: str) -> str:
    corr = uuid.uuid4().hex
    h = {"X-Correlation-ID": corr, "X-Sandbox-Workspace": workspace}
    assert client.get("/psc/realms/esante-wallet/.well-known/wallet-openid-configuration", headers=h).status_code == 200
    assert client.get("/psc/realms/esante-wallet/protocol/openid-connect/certs", headers=h).status_code == 200
    assert client.post("/psc/realms/esante-wallet/protocol/openid-connect/token", headers=h,
                       data={"grant_type": "client_credentials"}).status_code == 401
    return corr


def test_operation_status_actor_direction_filter(sandbox, client, workspace) -> None:
    corr = _seed(client, workspace)
    every = sandbox.exchanges(correlation_id=corr)
    assert len(every) == 3
    assert [e["operation"] for e in sandbox.exchanges(correlation_id=corr, operation="psc.certs")] == ["psc.certs"]
    assert sandbox.exchanges(correlation_id=corr, operation="psc.nothing") == []
    assert [e["operation"] for e in sandbox.exchanges(correlation_id=corr, status="401")] == ["psc.token"]
    assert len(sandbox.exchanges(correlation_id=corr, status="200")) == 2
    assert len(sandbox.exchanges(correlation_id=corr, direction="inbound")) == 3
    assert sandbox.exchanges(correlation_id=corr, direction="outbound") == []
    actor = every[0]["actor"]
    assert all(e["actor"] == actor for e in sandbox.exchanges(correlation_id=corr, actor=actor))
    assert sandbox.exchanges(correlation_id=corr, actor="someone-else") == []


@pytest.mark.parametrize("params, problem", [
    ({"operaton": "psc.token"}, "unknown-filter"),
    ({"client_id": "x"}, "unknown-filter"),
    ({"protocol": "ftp"}, "invalid-filter"),
    ({"direction": "sideways"}, "invalid-filter"),
])
def test_unknown_or_invalid_filter_is_refused(client, params, problem) -> None:
    r = client.get("/sandbox/api/exchanges", params=params)
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["type"].endswith(problem) or problem in str(body)
    name = next(iter(params))
    assert name in body["detail"] or params[name] in body["detail"]
