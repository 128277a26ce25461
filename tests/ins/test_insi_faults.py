"""Fault kinds of the ins service, scripted through the platform API
(``POST /sandbox/api/workspaces/{ws}/faults``) and observed on the INSi wire."""

from __future__ import annotations

import httpx


def _script(client, workspace, kind, **extra):
    r = client.post(f"/sandbox/api/workspaces/{workspace}/faults",
                    json={"service": "ins", "kind": kind, **extra})
    assert r.status_code == 201, r.text
    return r.json()


def test_kinds_are_listed(client):
    kinds = {k["kind"]: k for k in client.get("/sandbox/api/faults/kinds").json()["services"]["ins"]}
    assert set(kinds) == {"not_found", "multiple", "soap_fault", "timeout", "stale_vitale"}
    assert kinds["multiple"]["operations"] == ["rechercherInsAvecTraitsIdentite"]
    assert "delay_ms" in kinds["timeout"]["params"]


def test_not_found_forces_01_once(kit, insi, client, workspace):
    _script(client, workspace, "not_found")
    assert insi.post(kit.a1_request()).cr == "01"
    assert insi.post(kit.a1_request()).cr == "00"


def test_multiple_forces_02(kit, insi, client, workspace):
    _script(client, workspace, "multiple", times=2)
    assert [insi.post(kit.a1_request()).cr for _ in range(3)] == ["02", "02", "00"]


def test_soap_fault_with_chosen_code(kit, insi, client, workspace):
    _script(client, workspace, "soap_fault", params={"code": "insi_999", "message": "Panne simulée"})
    ans = insi.post(kit.a1_request())
    assert ans.status == 500
    assert (ans.fault_code, ans.fault_subcode) == ("soap:Receiver", "soap:siram_40")
    assert ans.erreur["code"] == "insi_999" and ans.erreur["severite"] == "fatal"
    assert ans.erreur["text"] == "Panne simulée"


def test_soap_fault_default_code_is_insi_102(kit, insi, client, workspace):
    _script(client, workspace, "soap_fault")
    assert insi.post(kit.a1_request()).erreur["code"] == "insi_102"


def test_timeout_delays_the_answer(kit, insi, client, workspace, sandbox):
    _script(client, workspace, "timeout", params={"delay_ms": 1500})
    body = kit.a1_request().encode()
    headers = {"content-type": kit.SOAP12, "x-sandbox-workspace": workspace,
               "authorization": f"Bearer {sandbox.operator_key}"}
    try:
        with httpx.Client(base_url=sandbox.base_url, timeout=0.3) as short:
            short.post("/ins/insi", content=body, headers=headers)
        timed_out = False
    except httpx.TimeoutException:
        timed_out = True
    assert timed_out
    listed = client.get(f"/sandbox/api/workspaces/{workspace}/faults").json()["faults"]
    assert listed[0]["fired"] == 1


def test_stale_vitale_only_on_vitale_search(kit, insi, client, workspace):
    _script(client, workspace, "stale_vitale")
    assert insi.post(kit.a1_request()).cr == "00"  # traits search untouched
    ans = insi.post(kit.vitale_request("297022A020778", "1997-02-26"))
    assert ans.status == 500 and ans.erreur["code"] == "insi_440"
    assert "Vitale" in ans.erreur["text"]


def test_fault_kind_for_wrong_operation_refused(client, workspace):
    r = client.post(f"/sandbox/api/workspaces/{workspace}/faults",
                    json={"service": "ins", "kind": "multiple", "operation": "rechercherInsAvecCarteVitale"})
    assert r.status_code == 422


def test_fault_recorded_in_evidence(kit, insi, client, workspace, sandbox):
    _script(client, workspace, "soap_fault")
    insi.post(kit.a1_request())
    (ex,) = [e for e in sandbox.exchanges(workspace=workspace, service="ins") if e["protocol"] == "soap"]
    assert ex["summary"]["injected"] == "soap_fault"
    assert ex["summary"]["faultCode"] == "insi_102"
    assert ex["status"] == "500"
