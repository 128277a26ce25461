"""Errors have the shape of the path's protocol; never a 500 for bad input (issue 2)."""

from sandbox.testing import running_sandbox


def test_unknown_route_problem_json(client):
    r = client.get("/sandbox/api/nothing-here")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "GET /sandbox/api/nothing-here" in r.json()["detail"]
    assert client.get("/totally/unknown").status_code == 404


def test_unknown_route_under_fhir_base_is_operation_outcome(sandbox, client):
    bases = [b for s in sandbox.ctx.services for b in s.fhir_bases]
    assert bases
    for base in bases:
        r = client.get(base + "/NoSuchThing/at/all")
        assert r.status_code == 404, base
        assert r.headers["content-type"].startswith("application/fhir+json")
        body = r.json()
        assert body["resourceType"] == "OperationOutcome"
        assert body["issue"][0]["code"] == "not-found"


def test_malformed_json_is_400(client):
    r = client.post("/sandbox/api/workspaces", content=b'{"name": ', headers={"content-type": "application/json"})
    assert r.status_code == 400
    assert r.json()["detail"] == "le corps de la requête n'est pas un JSON bien formé"
    r = client.post("/sandbox/api/workspaces", content=b'{"name": ',
                    headers={"content-type": "application/json", "accept-language": "en"})
    assert r.json()["detail"] == "the request body is not well-formed JSON"


def test_method_not_allowed(client):
    r = client.put("/sandbox/api/workspaces")
    assert r.status_code == 405 and r.headers["content-type"].startswith("application/problem+json")


def test_oversized_request_is_413():
    with running_sandbox(max_request_bytes=2048) as sb, sb.client() as c:
        r = c.post("/sandbox/api/workspaces", content=b"{" + b" " * 5000 + b"}",
                   headers={"content-type": "application/json"})
        assert r.status_code == 413
        assert r.headers["content-type"].startswith("application/problem+json")

        def chunks():  # no Content-Length: the limit applies while reading
            for _ in range(10):
                yield b" " * 1024

        r = c.post("/sandbox/api/workspaces", content=chunks(), headers={"content-type": "application/json"})
        assert r.status_code == 413
        assert c.get("/sandbox/api/workspaces").status_code == 200


def test_out_of_range_paging_is_422_not_500(client):
    huge = "9" * 30  # larger than any database integer
    for path in ("/sandbox/api/personas", "/sandbox/api/exchanges"):
        for param in ("offset", "limit"):
            r = client.get(path, params={param: huge})
            assert r.status_code == 422, (path, param, r.text)
            assert r.headers["content-type"].startswith("application/problem+json")
