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
        for code in ("400", "401", "413", "421", "429", "500"):
            assert code in op["responses"], (method, path, code)
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
