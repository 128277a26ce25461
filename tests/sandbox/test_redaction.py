"""The redactor's one-scan path for short values (sandbox/redaction.py): a value with no hint of a
secret comes back as it is, one with a hint goes through every rule as before."""

from __future__ import annotations

from sandbox.redaction import MARK, ONE_SCAN_BELOW, Redactor

R = Redactor(b"s" * 32)


def test_short_values_without_a_hint_come_back_unchanged() -> None:
    for value in ("POST", "/psc/realms/esante-wallet/protocol/openid-connect/token", "scope_all openid", ""):
        assert R.text(value) is value
    data = b'{"token_type":"Bearer","expires_in":120}'
    assert R.body(data, "application/json") is data


def test_short_values_with_a_hint_are_redacted_by_every_rule() -> None:
    jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
    cases = {
        f"Bearer {jwt}": jwt,  # a JWS anywhere
        "psc-ac.AAAAAAAAAAAAAAAAAAAAAAAA": "psc-ac.AAAAAAAAAAAAAAAAAAAAAAAA",  # an opaque credential
        "grant_type=authorization_code&code=abc123&code_verifier=v": "abc123",  # form parameters
        '{"client_secret":"hunter2"}': "hunter2",  # a JSON member
    }
    for value, secret in cases.items():
        out = R.text(value)
        assert secret not in out and MARK.decode() in out, value
    assert R.summary({"query": "code=abc123", "method": "GET"}) == {
        "query": "code=" + R.mark_text("abc123"), "method": "GET"}


def test_long_values_skip_the_one_scan_and_keep_every_rule() -> None:
    padding = b"x" * ONE_SCAN_BELOW
    data = padding + b'&password=hunter2&"access_token":"abc"'
    out = R.body(data, "application/x-www-form-urlencoded")
    assert b"hunter2" not in out and b'"abc"' not in out
    assert R.body(padding, "text/plain") == padding


def test_base64_padding_alone_does_not_run_the_form_rule_but_a_parameter_still_does() -> None:
    """A body whose only "=" is base64 padding (an ITI-65 bundle, a mail) is left as it is; a form
    parameter named as a secret is found in a body of any shape below the form rule's size cap."""
    import base64

    blob = base64.b64encode(b"<ClinicalDocument/>" * 400)  # ends with "="
    bundle = b'{"resourceType":"Bundle","entry":[{"resource":{"data":"' + blob + b'"}}]}'
    assert b"=" in bundle and R.body(bundle, "application/fhir+json") == bundle
    mail = bundle + b"\r\nhttps://rp.example/cb?state=x&code=abc123 "
    out = R.body(mail, "message/rfc822")
    assert b"abc123" not in out and out.startswith(bundle)
