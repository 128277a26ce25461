"""The 1 MB string limit (FHIR R4 §2.24.0.1), a primitive check; built in code rather than as 1 MB golden files."""

from __future__ import annotations

from profiles import validate

TEXT = {"status": "generated", "div": '<div xmlns="http://www.w3.org/1999/xhtml">x</div>'}
MB = 1024 * 1024


def _obs(value: str) -> dict:
    return {"resourceType": "Observation", "text": TEXT, "status": "final", "code": {"text": "x"}, "valueString": value}


def test_string_of_exactly_1mb_passes() -> None:
    assert validate(_obs("a" * MB)) == []


def test_string_over_1mb_is_an_error() -> None:
    issues = validate(_obs("a" * (MB + 1)))
    assert [(i.severity.value, i.expression, i.message_id) for i in issues] == [
        ("error", "Observation.value.ofType(string)", "PRIM_STRING_TOO_LONG")]


def test_base64_data_over_1mb_is_not_a_string() -> None:
    import base64

    data = base64.b64encode(b"x" * MB).decode()
    doc = {"resourceType": "Binary", "contentType": "text/plain", "data": data}
    assert [i for i in validate(doc) if i.message_id == "PRIM_STRING_TOO_LONG"] == []
