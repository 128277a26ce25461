"""The OpenAPI document declares what the sandbox really answers: request bodies of the routes that
read their own body, the errors the middlewares and protocols answer, in each protocol's shape
(.ci/schemathesis checks the running app against it)."""

from __future__ import annotations


def test_openapi_declares_bodies_errors_and_shapes(sandbox) -> None:
    with sandbox.client() as c:
        doc = c.get("/openapi.json").json()
    ops = {(m.upper(), p): op for p, item in doc["paths"].items() for m, op in item.items()}
    assert len(ops) > 50
    for (method, path), op in ops.items():
        for code in ("421", "429", "500"):
            assert code in op["responses"], (method, path, code)
        if "requestBody" in op:
            assert {"400", "413", "415", "422"} <= set(op["responses"]), (method, path)
        errors = op["responses"]["429"]["content"]
        if path.startswith("/dmp/fhir"):
            assert list(errors) == ["application/fhir+json"]
        elif path.startswith("/sandbox/api"):
            assert list(errors) == ["application/problem+json"]
            assert "HTTPValidationError" not in str(op["responses"].get("422"))
        elif path.startswith("/psc/realms"):
            assert "application/json" in errors
    for key in (("POST", "/dmp/fhir"), ("PATCH", "/dmp/fhir/DocumentReference"),
                ("POST", "/psc/realms/esante-wallet/protocol/openid-connect/token"), ("POST", "/ins/insi")):
        assert "requestBody" in ops[key], key
    assert "application/x-www-form-urlencoded" in \
        ops[("POST", "/psc/realms/esante-wallet/protocol/openid-connect/token")]["requestBody"]["content"]
    assert "HTTP 500" in ops[("POST", "/ins/insi")]["responses"]["500"]["description"]


def test_each_operation_declares_its_own_body_and_statuses(sandbox) -> None:
    """Per operation, not per prefix: the body a route reads itself with its fields, and 401/403 only
    where a credential is checked, 409 only on writes."""
    with sandbox.client() as c:
        doc = c.get("/openapi.json").json()
    ops = {(m.upper(), p): op for p, item in doc["paths"].items() for m, op in item.items()}
    token = ops[("POST", "/psc/realms/esante-wallet/protocol/openid-connect/token")]
    form = token["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
    assert form["required"] == ["grant_type"] and "authorization_code" in form["properties"]["grant_type"]["enum"]
    bundle = ops[("POST", "/dmp/fhir")]["requestBody"]["content"]["application/fhir+json"]["schema"]
    assert bundle["properties"]["type"] == {"const": "transaction"}
    patch = ops[("PATCH", "/dmp/fhir/DocumentReference/{doc_id}")]["requestBody"]["content"]
    assert patch["application/json-patch+json"]["schema"]["type"] == "array"
    assert "string" == ops[("POST", "/ins/insi")]["requestBody"]["content"]["application/soap+xml"]["schema"]["type"]
    public = [("GET", "/health"), ("GET", "/dmp/fhir/metadata"),
              ("GET", "/psc/realms/esante-wallet/.well-known/wallet-openid-configuration"),
              ("GET", "/psc/realms/esante-wallet/protocol/openid-connect/certs"), ("POST", "/profiles/fhir/$validate")]
    for key in public:
        assert "401" not in ops[key]["responses"] and "403" not in ops[key]["responses"], key
        assert "409" not in ops[key]["responses"], key
    for key in [("GET", "/sandbox/api/workspaces"), ("POST", "/sandbox/api/workspaces/{name}/reset"),
                ("GET", "/dmp/fhir/DocumentReference"), ("POST", "/ins/insi"), ("GET", "/mss/api/messages")]:
        assert {"401", "403"} <= set(ops[key]["responses"]), key
    assert "409" in ops[("POST", "/sandbox/api/workspaces")]["responses"]
    assert "409" not in ops[("GET", "/sandbox/api/workspaces")]["responses"]
    assert "413" not in ops[("GET", "/sandbox/api/workspaces")]["responses"]
